"""A template version's text never changes, and a decision on it, once taken, stands (PostgreSQL and SQLite).

The services add a version for every edit and decide each family version once; this trigger holds the same for
the admin, the shell and raw SQL. Check constraints (migration 0012) already keep the author from deciding and
a version from being both approved and rejected.
"""

from django.db import migrations

# Columns a version is born with; none of them may change. (Its times are left out: a serialized copy restored over
# the row, as the test runner does, carries them to the millisecond only.)
FIXED = ("template_id", "version", "body", "created_by_id")
# The decision: once approved or rejected, who decided, why, and whether it was approved or rejected stay.
DECISION = ("approved_by_id", "rejected_by_id", "decision_reason")
DECIDED_AT = ("approved_at", "rejected_at")

_PG_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIXED)
_PG_DECISION_CHANGED = " OR ".join(
    [f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in DECISION] + [f"(NEW.{c} IS NULL) <> (OLD.{c} IS NULL)" for c in DECIDED_AT]
)
_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIXED)
_SQLITE_DECISION_CHANGED = " OR ".join(
    [f"NEW.{c} IS NOT OLD.{c}" for c in DECISION] + [f"(NEW.{c} IS NULL) <> (OLD.{c} IS NULL)" for c in DECIDED_AT]
)

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION collections_app_templateversion_guard() RETURNS trigger AS $$
BEGIN
    IF {_PG_CHANGED} THEN
        RAISE EXCEPTION 'a template version never changes: an edit is a new version'
            USING ERRCODE = 'check_violation';
    END IF;
    IF (OLD.approved_at IS NOT NULL OR OLD.rejected_at IS NOT NULL) AND ({_PG_DECISION_CHANGED}) THEN
        RAISE EXCEPTION 'template version % has been decided already', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER collections_app_templateversion_guard
    BEFORE UPDATE ON collections_app_templateversion
    FOR EACH ROW EXECUTE FUNCTION collections_app_templateversion_guard();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS collections_app_templateversion_guard ON collections_app_templateversion;
DROP FUNCTION IF EXISTS collections_app_templateversion_guard();
"""

SQLITE_FORWARD = [
    f"""
CREATE TRIGGER collections_app_templateversion_fixed BEFORE UPDATE ON collections_app_templateversion
WHEN {_SQLITE_CHANGED}
BEGIN SELECT RAISE(ABORT, 'a template version never changes: an edit is a new version'); END;
""",
    f"""
CREATE TRIGGER collections_app_templateversion_decided BEFORE UPDATE ON collections_app_templateversion
WHEN (OLD.approved_at IS NOT NULL OR OLD.rejected_at IS NOT NULL) AND ({_SQLITE_DECISION_CHANGED})
BEGIN SELECT RAISE(ABORT, 'template version has been decided already'); END;
""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS collections_app_templateversion_fixed;",
    "DROP TRIGGER IF EXISTS collections_app_templateversion_decided;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0014_template_version_rejection")]

    operations = [migrations.RunPython(forward, reverse)]
