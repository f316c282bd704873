"""Guard the request's status transitions in the database, on PostgreSQL and on SQLite."""

from django.db import migrations

# (from, to) pairs a request may take; everything else is refused by the database.
ALLOWED = [
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("submitted", "withdrawn"),
    ("submitted", "cancelled"),
    ("submitted", "expired"),
    ("approved", "sent"),
    ("approved", "cancelled"),
    ("approved", "expired"),
]
_PAIRS = ", ".join(f"('{a}', '{b}')" for a, b in ALLOWED)
_PAIRS_CONCAT = ", ".join(f"'{a}>{b}'" for a, b in ALLOWED)

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION review_fcr_guard_transition() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'submitted' THEN
            RAISE EXCEPTION 'family-contact request must start as submitted, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status
       AND (OLD.status, NEW.status) NOT IN ({_PAIRS}) THEN
        RAISE EXCEPTION 'family-contact request cannot move from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER review_fcr_guard_transition
    BEFORE INSERT OR UPDATE OF status ON review_familycontactrequest
    FOR EACH ROW EXECUTE FUNCTION review_fcr_guard_transition();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS review_fcr_guard_transition ON review_familycontactrequest;
DROP FUNCTION IF EXISTS review_fcr_guard_transition();
"""

SQLITE_FORWARD = [
    """
CREATE TRIGGER review_fcr_guard_insert BEFORE INSERT ON review_familycontactrequest
WHEN NEW.status <> 'submitted'
BEGIN SELECT RAISE(ABORT, 'family-contact request must start as submitted'); END;
""",
    f"""
CREATE TRIGGER review_fcr_guard_update BEFORE UPDATE OF status ON review_familycontactrequest
WHEN NEW.status <> OLD.status AND (OLD.status || '>' || NEW.status) NOT IN ({_PAIRS_CONCAT})
BEGIN SELECT RAISE(ABORT, 'family-contact request transition not allowed'); END;
""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS review_fcr_guard_insert;",
    "DROP TRIGGER IF EXISTS review_fcr_guard_update;",
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
    dependencies = [("review", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
