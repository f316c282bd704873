"""Each event's place in the chain moves to its own append-only table, so sealing an event is a HOT update.

Sealing used to write seq, entry and hash into the event row. `seq` was indexed, so PostgreSQL wrote a new
entry into every index of the table for every sealed event (about half the seal's time). Now:

- `audit_chainentry` (seq primary key, event id, entry, hash) holds what the seal computes, inserted once,
  never changed: append-only triggers as on the other audit tables.
- The event row keeps `seq` (set once, from NULL, still the only change its trigger lets through), but no
  index names it any more: the seal's update writes no index entry and, with fillfactor 50, finds room on
  the row's own page (a HOT update).
- The sealer's work queue was a partial index on `seq IS NULL`, which also named `seq`. It finds pending
  events by the transaction that wrote them instead (`txid`, indexed, never changed, and the seal's
  horizon on ChainHead).

Existing sealed events keep their seq; their entry and hash are copied to the new table before the columns
are dropped. Not reversible: going back would mean rewriting sealed rows.
"""

from importlib import import_module

from django.db import migrations, models

import audit.models

EVENT_COLUMNS = (*import_module("audit.migrations.0003_append_only_triggers").EVENT_COLUMNS, "txid")

COPY_CHAIN = (
    "INSERT INTO audit_chainentry (seq, event_id, entry, hash) "
    "SELECT seq, id, entry, hash FROM audit_auditevent WHERE seq IS NOT NULL"
)

_POSTGRES_UNCHANGED = " AND ".join(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in EVENT_COLUMNS)

POSTGRES_BEFORE = [COPY_CHAIN, "DROP TRIGGER audit_auditevent_seal_only ON audit_auditevent"]

POSTGRES_AFTER = [
    "CREATE TRIGGER audit_auditevent_seal_only BEFORE UPDATE ON audit_auditevent FOR EACH ROW WHEN (NOT ("
    f"OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {_POSTGRES_UNCHANGED})) EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_chainentry_append_only BEFORE UPDATE OR DELETE ON audit_chainentry "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_chainentry_no_truncate BEFORE TRUNCATE ON audit_chainentry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    # Room on each page for the sealed version of every row on it: what makes the seal's update HOT.
    "ALTER TABLE audit_auditevent SET (fillfactor = 50)",
]

_SQLITE_UNCHANGED = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in EVENT_COLUMNS)

SQLITE_BEFORE = [COPY_CHAIN, "DROP TRIGGER audit_auditevent_seal_only", "DROP TRIGGER audit_auditevent_no_delete"]

SQLITE_AFTER = [
    "CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_auditevent refused'); END;",
    "CREATE TRIGGER audit_auditevent_seal_only BEFORE UPDATE ON audit_auditevent WHEN NOT ("
    f"OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {_SQLITE_UNCHANGED}) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_auditevent refused'); END;",
    "CREATE TRIGGER audit_chainentry_no_delete BEFORE DELETE ON audit_chainentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_chainentry refused'); END;",
    "CREATE TRIGGER audit_chainentry_no_update BEFORE UPDATE ON audit_chainentry "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_chainentry refused'); END;",
    # SQLite has one writer at a time, so its sealer can take pending events by seq alone.
    "CREATE INDEX audit_unsealed_sqlite_idx ON audit_auditevent (id) WHERE seq IS NULL",
]


def _run(statements_by_vendor: dict[str, list[str]]) -> object:
    def run(apps: object, schema_editor: object) -> None:
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_seq_unique_only_for_sealed_events")]

    operations = [
        migrations.CreateModel(
            name="ChainEntry",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="sequence")),
                ("event_id", models.BigIntegerField(verbose_name="event id")),
                ("entry", models.BinaryField(verbose_name="canonical entry")),
                ("hash", models.BinaryField(verbose_name="chain hash")),
            ],
            options={"verbose_name": "chain entry", "verbose_name_plural": "chain entries"},
        ),
        migrations.RunPython(_run({"postgresql": POSTGRES_BEFORE, "sqlite": SQLITE_BEFORE})),
        migrations.RemoveIndex(model_name="auditevent", name="audit_unsealed_idx"),
        migrations.RemoveConstraint(model_name="auditevent", name="audit_seq_unique"),
        migrations.RemoveField(model_name="auditevent", name="entry"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.AddField(
            model_name="auditevent",
            name="txid",
            field=models.BigIntegerField(
                db_default=audit.models.CurrentTransactionId(), editable=False, verbose_name="transaction id"
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent", index=models.Index(fields=["txid"], name="audit_txid_idx")
        ),
        migrations.AddField(model_name="chainhead", name="horizon", field=models.BigIntegerField(default=0)),
        migrations.RunPython(_run({"postgresql": POSTGRES_AFTER, "sqlite": SQLITE_AFTER})),
    ]
