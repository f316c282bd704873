"""The seal-only guard on audit_auditevent as a WHEN condition instead of a PL/pgSQL function (PostgreSQL).

The rule is unchanged: an UPDATE passes only when it seals (seq, entry and hash go from NULL to values)
and leaves every other column as it was; DELETE and TRUNCATE are refused. A WHEN condition is checked by
the executor for each row without calling a function, so sealing a batch no longer pays a PL/pgSQL call
per event (it was a third of the seal's time). The column list is the one SQLite's trigger already uses,
and a test keeps it equal to the model's columns.
"""

from importlib import import_module

from django.db import migrations

EVENT_COLUMNS = import_module("audit.migrations.0003_append_only_triggers").EVENT_COLUMNS

_SEAL_ONLY = " AND ".join(
    [
        "OLD.seq IS NULL AND OLD.entry IS NULL AND OLD.hash IS NULL",
        "NEW.seq IS NOT NULL AND NEW.entry IS NOT NULL AND NEW.hash IS NOT NULL",
        *(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in EVENT_COLUMNS),
    ]
)

FORWARD = f"""
DROP TRIGGER audit_auditevent_append_only ON audit_auditevent;
CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditevent_seal_only BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW WHEN (NOT ({_SEAL_ONLY})) EXECUTE FUNCTION audit_refuse_change();
DROP FUNCTION audit_event_guard();
"""

REVERSE = """
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unchanged audit_auditevent;
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND OLD.entry IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.entry IS NOT NULL AND NEW.hash IS NOT NULL THEN
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
DROP TRIGGER audit_auditevent_seal_only ON audit_auditevent;
DROP TRIGGER audit_auditevent_no_delete ON audit_auditevent;
CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();
"""


def _on_postgresql(sql: str) -> object:
    def run(apps: object, schema_editor: object) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE))]
