"""Append-only triggers on the audit tables (PostgreSQL and SQLite) and the GIN index on persons (PostgreSQL).

The only UPDATE let through on audit_auditevent is the seal: seq, entry and hash go from NULL to
values in one statement while every other column stays the same. Everything else (UPDATE, DELETE,
TRUNCATE) is refused, whatever the path. A later migration that makes SQLite rebuild one of these
tables drops its triggers with it: such a migration must create them again (tests check they exist).
"""

from django.db import migrations

# Every column of audit_auditevent except the three the seal sets; tests check this list against the model.
EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "role",
    "action",
    "object_type",
    "object_id",
    "persons",
    "fields",
    "purpose",
    "outcome",
    "request_id",
    "ip",
    "detail",
)

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unchanged audit_auditevent;
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND OLD.entry IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.entry IS NOT NULL AND NEW.hash IS NOT NULL THEN
        -- The whole row but the sealed columns must be unchanged, including columns added later.
        unchanged := NEW;
        unchanged.seq := NULL;
        unchanged.entry := NULL;
        unchanged.hash := NULL;
        IF unchanged IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();
CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_verificationrun_append_only BEFORE UPDATE OR DELETE ON audit_verificationrun
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_verificationrun_no_truncate BEFORE TRUNCATE ON audit_verificationrun
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE INDEX audit_persons_gin ON audit_auditevent USING gin (persons jsonb_path_ops);
"""

POSTGRES_REVERSE = """
DROP INDEX IF EXISTS audit_persons_gin;
DROP TRIGGER IF EXISTS audit_verificationrun_no_truncate ON audit_verificationrun;
DROP TRIGGER IF EXISTS audit_verificationrun_append_only ON audit_verificationrun;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_guard();
DROP FUNCTION IF EXISTS audit_refuse_change();
"""

_UNCHANGED = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in EVENT_COLUMNS)

SQLITE_FORWARD = [
    "CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_auditevent refused'); END;",
    "CREATE TRIGGER audit_auditevent_seal_only BEFORE UPDATE ON audit_auditevent WHEN NOT ("
    "OLD.seq IS NULL AND OLD.entry IS NULL AND OLD.hash IS NULL "
    "AND NEW.seq IS NOT NULL AND NEW.entry IS NOT NULL AND NEW.hash IS NOT NULL AND "
    f"{_UNCHANGED}) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_auditevent refused'); END;",
    "CREATE TRIGGER audit_verificationrun_no_delete BEFORE DELETE ON audit_verificationrun "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_verificationrun refused'); END;",
    "CREATE TRIGGER audit_verificationrun_no_update BEFORE UPDATE ON audit_verificationrun "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_verificationrun refused'); END;",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_verificationrun_no_update;",
    "DROP TRIGGER IF EXISTS audit_verificationrun_no_delete;",
    "DROP TRIGGER IF EXISTS audit_auditevent_seal_only;",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete;",
]


def _run(statements_by_vendor: dict) -> object:
    def run(apps: object, schema_editor: object) -> None:
        vendor = schema_editor.connection.vendor
        statements = statements_by_vendor.get(vendor)
        if statements is None:
            return
        if isinstance(statements, str):
            statements = [statements]
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_chainhead_verificationrun_auditevent_entry_and_more"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
