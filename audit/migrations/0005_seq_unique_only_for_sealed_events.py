"""`seq` unique only among sealed events: a partial unique index that an INSERT (seq NULL) never touches.

Every event used to add a NULL entry to the full unique index on insert, for nothing: about 1.6 µs an
event, more than a second of a million-message escalation. Lookups by seq (`seq = N`, `seq IS NOT NULL
ORDER BY seq`) imply the index's condition and use it as before. SQLite rebuilds the table to drop the old
constraint, which drops its triggers: they are created again here (migration 0003's note).
"""

from importlib import import_module

from django.db import migrations, models

SQLITE_AUDITEVENT_TRIGGERS = [
    statement
    for statement in import_module("audit.migrations.0003_append_only_triggers").SQLITE_FORWARD
    if " ON audit_auditevent " in statement
]


def _sqlite_triggers_again(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in SQLITE_AUDITEVENT_TRIGGERS:
        name = statement.split()[2]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_seal_guard_in_when_clause"),
    ]

    operations = [
        # Unapplying rebuilds the table again: this step, unapplied last, puts the triggers back then.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_triggers_again),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="sequence"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("seq__isnull", False)), fields=("seq",), name="audit_seq_unique"
            ),
        ),
        migrations.RunPython(_sqlite_triggers_again, migrations.RunPython.noop),
    ]
