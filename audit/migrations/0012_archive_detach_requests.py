"""Four-eyed detach requests: an auditor asks to detach an archived month, a second auditor decides.

Both tables are append-only like the other audit tables (the app's role keeps SELECT and INSERT only), and
the database refuses a decision by the request's own author: PostgreSQL with a trigger, SQLite too.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


TABLES = ("audit_detachrequest", "audit_detachdecision")

POSTGRES_FORWARD = [
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
            f"""DO $$ DECLARE grantee text; BEGIN
                FOR grantee IN SELECT DISTINCT a.grantee::regrole::text FROM pg_class AS c, aclexplode(c.relacl) AS a
                                WHERE c.oid = '{table}'::regclass AND a.grantee NOT IN (c.relowner, 0) LOOP
                    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM %s', grantee);
                END LOOP;
            END $$""",
        )
    ),
    """CREATE FUNCTION audit_detach_second_pair_of_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM audit_detachrequest WHERE id = NEW.request_id AND requested_by = NEW.decided_by) THEN
            RAISE EXCEPTION 'a detach request is decided by someone other than its requester'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER audit_detachdecision_four_eyes BEFORE INSERT ON audit_detachdecision "
    "FOR EACH ROW EXECUTE FUNCTION audit_detach_second_pair_of_eyes()",
]

SQLITE_FORWARD = [
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on {table} refused'); END;",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on {table} refused'); END;",
        )
    ),
    "CREATE TRIGGER audit_detachdecision_four_eyes BEFORE INSERT ON audit_detachdecision "
    "WHEN EXISTS (SELECT 1 FROM audit_detachrequest WHERE id = NEW.request_id AND requested_by = NEW.decided_by) "
    "BEGIN SELECT RAISE(ABORT, 'a detach request is decided by someone other than its requester'); END;",
]


def _append_only(apps: object, schema_editor: object) -> None:
    statements = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0011_monthly_partitions'),
    ]

    operations = [
        migrations.CreateModel(
            name='DetachRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(verbose_name='month')),
                ('reason', models.TextField(max_length=1000, verbose_name='reason')),
                ('requested_by', models.CharField(max_length=150, verbose_name='requested by')),
                ('requested_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='requested at')),
            ],
            options={
                'verbose_name': 'detach request',
                'verbose_name_plural': 'detach requests',
                'constraints': [models.CheckConstraint(condition=models.Q(('month__day', 1)), name='audit_detachrequest_a_month'), models.CheckConstraint(condition=models.Q(models.Q(('reason', ''), _negated=True), models.Q(('requested_by', ''), _negated=True)), name='audit_detachrequest_reason_and_who')],
            },
        ),
        migrations.CreateModel(
            name='DetachDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('approved', models.BooleanField(verbose_name='approved')),
                ('reason', models.TextField(max_length=1000, verbose_name='reason')),
                ('decided_by', models.CharField(max_length=150, verbose_name='decided by')),
                ('decided_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='decided at')),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='decision', to='audit.detachrequest', verbose_name='request')),
            ],
            options={
                'verbose_name': 'detach decision',
                'verbose_name_plural': 'detach decisions',
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('reason', ''), _negated=True), models.Q(('decided_by', ''), _negated=True)), name='audit_detachdecision_reason_and_who')],
            },
        ),
        migrations.RunPython(_append_only, migrations.RunPython.noop),
    ]
