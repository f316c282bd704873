"""Legal holds: an auditor's hold on one person's events (and its lifting), both append-only.

While a hold stands, no month of events naming its person may leave the database (the detach checks). Both
tables refuse UPDATE, DELETE and TRUNCATE like the other audit tables, and on PostgreSQL the app's role keeps
only SELECT and INSERT on them, whatever the default privileges gave it (docs/operations.md).
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


TABLES = ("audit_legalhold", "audit_legalholdlift")

POSTGRES_FORWARD = [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        # Whoever the default privileges gave more than reading and appending (the app's role) keeps only that.
        f"""DO $$ DECLARE grantee text; BEGIN
            FOR grantee IN SELECT DISTINCT a.grantee::regrole::text FROM pg_class AS c, aclexplode(c.relacl) AS a
                            WHERE c.oid = '{table}'::regclass AND a.grantee NOT IN (c.relowner, 0) LOOP
                EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM %s', grantee);
            END LOOP;
        END $$""",
    )
]

SQLITE_FORWARD = [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on {table} refused'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on {table} refused'); END;",
    )
]


def _append_only(apps: object, schema_editor: object) -> None:
    statements = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0009_seal_through_owner_functions'),
    ]

    operations = [
        migrations.CreateModel(
            name='LegalHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('person', models.CharField(help_text='borrower:<id> or contact:<id>', max_length=40, verbose_name='person')),
                ('reason', models.TextField(max_length=1000, verbose_name='reason')),
                ('set_by', models.CharField(max_length=150, verbose_name='set by')),
                ('set_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='set at')),
            ],
            options={
                'verbose_name': 'legal hold',
                'verbose_name_plural': 'legal holds',
                'indexes': [models.Index(fields=['person'], name='audit_legalhold_person_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('person__regex', '^(borrower|contact):[0-9]+$')), name='audit_legalhold_person_key'), models.CheckConstraint(condition=models.Q(models.Q(('reason', ''), _negated=True), models.Q(('set_by', ''), _negated=True)), name='audit_legalhold_reason_and_who')],
            },
        ),
        migrations.CreateModel(
            name='LegalHoldLift',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField(max_length=1000, verbose_name='reason')),
                ('lifted_by', models.CharField(max_length=150, verbose_name='lifted by')),
                ('lifted_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='lifted at')),
                ('hold', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='lift', to='audit.legalhold', verbose_name='hold')),
            ],
            options={
                'verbose_name': 'legal hold lift',
                'verbose_name_plural': 'legal hold lifts',
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('reason', ''), _negated=True), models.Q(('lifted_by', ''), _negated=True)), name='audit_legalholdlift_reason_and_who')],
            },
        ),
        migrations.RunPython(_append_only, migrations.RunPython.noop),
    ]
