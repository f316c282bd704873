"""A verify run's kind (full or incremental), the seq an incremental run started after, and who asked for it.

SQLite adds a column with a default by rebuilding the table, which drops its append-only triggers
(migration 0003's note): they are created again here.
"""

from importlib import import_module

from django.db import migrations, models

SQLITE_VERIFICATIONRUN_TRIGGERS = [
    statement
    for statement in import_module("audit.migrations.0003_append_only_triggers").SQLITE_FORWARD
    if " ON audit_verificationrun " in statement
]


def _sqlite_triggers_again(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in SQLITE_VERIFICATIONRUN_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}", params=None)
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_chainhead_cluster"),
    ]

    operations = [
        # Unapplying rebuilds the table again: this step, unapplied last, puts the triggers back then.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_triggers_again),
        migrations.AddField(
            model_name="verificationrun",
            name="after_seq",
            field=models.BigIntegerField(default=0, verbose_name="after seq"),
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="kind",
            field=models.CharField(
                choices=[("full", "full"), ("incremental", "incremental")],
                default="full",
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="requested_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="requested by"),
        ),
        migrations.RunPython(_sqlite_triggers_again, migrations.RunPython.noop),
    ]
