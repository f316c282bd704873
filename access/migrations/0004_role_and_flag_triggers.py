"""The database holds two access rules whatever writes to it (the app, the shell, raw SQL):

- a superuser is never in a role group: refused on joining a group and on becoming superuser (both
  PostgreSQL and SQLite);
- every group membership change and every change of is_superuser, is_staff or is_active is an audit event
  (PostgreSQL): an unsealed row of audit_auditevent with no actor, which the sealer chains like any other.
  The access-change service audits its own changes with their actor, and says so for its transaction with
  `set_config('app.access_change', <change id>, true)`: the trigger then stays silent, so nothing is
  recorded twice.

The role names are those of this migration's time (access/roles.py then): a later role adds itself here
through a new migration.
"""

from django.db import migrations

ROLES = ("case_officer", "risk_approver", "compliance_auditor", "team_lead")
_ROLE_LIST = ", ".join(f"'{role}'" for role in ROLES)

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION access_superuser_holds_no_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'auth_user_groups' THEN
        -- FOR SHARE waits for a concurrent change of the user's flags, so neither side misses the other.
        PERFORM 1 FROM auth_user u WHERE u.id = NEW.user_id AND u.is_superuser FOR SHARE;
        IF FOUND AND EXISTS (SELECT 1 FROM auth_group g WHERE g.id = NEW.group_id AND g.name IN ({_ROLE_LIST})) THEN
            RAISE EXCEPTION 'a superuser may not hold a role (user %)', NEW.user_id USING ERRCODE = 'check_violation';
        END IF;
    ELSIF EXISTS (
        SELECT 1 FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id
        WHERE ug.user_id = NEW.id AND g.name IN ({_ROLE_LIST})
    ) THEN
        RAISE EXCEPTION 'a user holding a role may not be a superuser (user %)', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER access_superuser_role_groups BEFORE INSERT OR UPDATE ON auth_user_groups
    FOR EACH ROW EXECUTE FUNCTION access_superuser_holds_no_role();
CREATE TRIGGER access_superuser_role_user BEFORE INSERT OR UPDATE OF is_superuser ON auth_user
    FOR EACH ROW WHEN (NEW.is_superuser) EXECUTE FUNCTION access_superuser_holds_no_role();

CREATE OR REPLACE FUNCTION access_audit_group_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed auth_user_groups%ROWTYPE;
BEGIN
    IF coalesce(current_setting('app.access_change', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    INSERT INTO audit_auditevent (actor_id, actor_username, role, action, object_type, object_id, persons,
                                  fields, purpose, outcome, request_id, ip, detail)
    SELECT NULL, '', '', CASE WHEN TG_OP = 'DELETE' THEN 'role_revoked' ELSE 'role_granted' END, 'user',
           changed.user_id::text, '[]'::jsonb, '[]'::jsonb, '', 'ok', '', NULL,
           jsonb_build_object('group', (SELECT name FROM auth_group WHERE id = changed.group_id),
                              'username', (SELECT username FROM auth_user WHERE id = changed.user_id),
                              'source', 'database', 'db_user', session_user::text);
    RETURN NULL;
END $$;

CREATE TRIGGER access_audit_group_change AFTER INSERT OR DELETE ON auth_user_groups
    FOR EACH ROW EXECUTE FUNCTION access_audit_group_change();

CREATE OR REPLACE FUNCTION access_audit_flag_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := jsonb_build_object('is_superuser', OLD.is_superuser, 'is_staff', OLD.is_staff,
                                       'is_active', OLD.is_active);
    after jsonb := jsonb_build_object('is_superuser', NEW.is_superuser, 'is_staff', NEW.is_staff,
                                      'is_active', NEW.is_active);
BEGIN
    IF coalesce(current_setting('app.access_change', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_auditevent (actor_id, actor_username, role, action, object_type, object_id, persons,
                                  fields, purpose, outcome, request_id, ip, detail)
    SELECT NULL, '', '', 'update', 'user', NEW.id::text, '[]'::jsonb,
           (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]'::jsonb) FROM jsonb_each(after)
             WHERE after -> key IS DISTINCT FROM before -> key),
           '', 'ok', '', NULL,
           jsonb_build_object('username', NEW.username, 'before', before, 'after', after,
                              'source', 'database', 'db_user', session_user::text);
    RETURN NULL;
END $$;

CREATE TRIGGER access_audit_flag_change AFTER UPDATE OF is_superuser, is_staff, is_active ON auth_user
    FOR EACH ROW WHEN (OLD.is_superuser IS DISTINCT FROM NEW.is_superuser
                       OR OLD.is_staff IS DISTINCT FROM NEW.is_staff
                       OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION access_audit_flag_change();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS access_audit_flag_change ON auth_user;
DROP TRIGGER IF EXISTS access_audit_group_change ON auth_user_groups;
DROP TRIGGER IF EXISTS access_superuser_role_user ON auth_user;
DROP TRIGGER IF EXISTS access_superuser_role_groups ON auth_user_groups;
DROP FUNCTION IF EXISTS access_audit_flag_change();
DROP FUNCTION IF EXISTS access_audit_group_change();
DROP FUNCTION IF EXISTS access_superuser_holds_no_role();
"""

_SQLITE_ROLE_HELD = (
    "EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id "
    f"WHERE ug.user_id = NEW.id AND g.name IN ({_ROLE_LIST}))"
)
SQLITE_FORWARD = [
    "CREATE TRIGGER access_superuser_role_groups BEFORE INSERT ON auth_user_groups "
    "WHEN EXISTS (SELECT 1 FROM auth_user u, auth_group g WHERE u.id = NEW.user_id AND g.id = NEW.group_id "
    f"AND u.is_superuser AND g.name IN ({_ROLE_LIST})) "
    "BEGIN SELECT RAISE(ABORT, 'a superuser may not hold a role'); END",
    "CREATE TRIGGER access_superuser_role_user BEFORE UPDATE OF is_superuser ON auth_user "
    f"WHEN NEW.is_superuser AND {_SQLITE_ROLE_HELD} "
    "BEGIN SELECT RAISE(ABORT, 'a user holding a role may not be a superuser'); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS access_superuser_role_user",
    "DROP TRIGGER IF EXISTS access_superuser_role_groups",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_team_lead_group"),
        ("audit", "0007_chainhead_cluster"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forward, reverse)]
