"""Guard policy proposals in the database, on PostgreSQL and on SQLite: a proposal is filed as `proposed`; what it
proposes never changes; it is decided once (its decision never changes after); a switch is applied once."""

from django.db import migrations

TABLE = "review_policyproposal"
# What the proposal proposes: fixed from filing on.
CONTENT = ("kind", "profile_id", "changes", "portfolio_id", "new_profile_id", "effective_from", "proposed_by_id", "proposed_at")
# The decision: set once, while the proposal is still `proposed`.
DECISION = ("status", "decided_by_id", "decided_at", "reason", "policy_version_id")


def _changed(columns, distinct):
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns)


POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION review_pp_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'proposed' OR NEW.applied_at IS NOT NULL THEN
            RAISE EXCEPTION 'a policy proposal is filed as proposed' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF {_changed(CONTENT, "IS DISTINCT FROM")} THEN
        RAISE EXCEPTION 'what a policy proposal proposes never changes' USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status <> 'proposed' AND ({_changed(DECISION, "IS DISTINCT FROM")}) THEN
        RAISE EXCEPTION 'a policy proposal is decided once' USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.applied_at IS NOT NULL AND NEW.applied_at IS DISTINCT FROM OLD.applied_at THEN
        RAISE EXCEPTION 'a portfolio switch is applied once' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER review_pp_guard BEFORE INSERT OR UPDATE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION review_pp_guard();
"""
POSTGRES_REVERSE = f"""
DROP TRIGGER IF EXISTS review_pp_guard ON {TABLE};
DROP FUNCTION IF EXISTS review_pp_guard();
"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER review_pp_guard_insert BEFORE INSERT ON {TABLE}
WHEN NEW.status <> 'proposed' OR NEW.applied_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a policy proposal is filed as proposed'); END;""",
    f"""CREATE TRIGGER review_pp_guard_update BEFORE UPDATE ON {TABLE}
WHEN ({_changed(CONTENT, "IS NOT")})
  OR (OLD.status <> 'proposed' AND ({_changed(DECISION, "IS NOT")}))
  OR (OLD.applied_at IS NOT NULL AND NEW.applied_at IS NOT OLD.applied_at)
BEGIN SELECT RAISE(ABORT, 'a policy proposal is fixed once filed and decided once'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS review_pp_guard_insert;", "DROP TRIGGER IF EXISTS review_pp_guard_update;"]


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

    dependencies = [("review", "0005_policy_proposals")]

    operations = [migrations.RunPython(forward, reverse)]
