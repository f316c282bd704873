"""The app's database role, created with exactly the SQL of docs/operations.md, owns no table, cannot disable a
trigger and cannot change the audit tables; the seal still works through the owner's functions.

Each refusal is tried on a connection of its own, as the app's role. The rest of the suite runs as the owner
(a superuser here): the tamper tests need to switch the triggers off.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import errors, sql

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.encoding import EVENT_COLUMNS
from audit.models import AuditEvent
from audit.record import audit_record
from tests.audit.conftest import raw

pytestmark = [pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OPERATIONS = Path(settings.BASE_DIR) / "docs" / "operations.md"
MARKER = "<!-- app-role-sql:"


def documented_statements() -> list[str]:
    """The SQL block of docs/operations.md that sets the app's role up, one statement a line."""
    text = OPERATIONS.read_text(encoding="utf-8")
    block = re.search(re.escape(MARKER) + r"[^\n]*\n```sql\n(.*?)\n```", text, re.S)
    assert block, "docs/operations.md lost its app-role SQL block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("--")]


@dataclass(frozen=True)
class AppRole:
    """The app's role: its name and password, and how to connect as it."""

    name: str
    password: str

    def connect(self) -> psycopg.Connection:
        """A new connection as this role to the test database."""
        params = {**connection.get_connection_params(), "user": self.name, "password": self.password}
        return psycopg.connect(**params, autocommit=True)


def _substitute(statement: str, variables: dict[str, str]) -> str:
    """psql's variable interpolation: `:"name"` an identifier, `:'name'` a literal."""
    for name, value in variables.items():
        statement = statement.replace(f':"{name}"', sql.Identifier(value).as_string(connection.connection))
        statement = statement.replace(f":'{name}'", sql.Literal(value).as_string(connection.connection))
    assert not re.search(r":[\"'][A-Za-z_]+[\"']", statement), statement
    return statement


@pytest.fixture
def app_role(audit_keys) -> Iterator[AppRole]:
    """The app's role made by running the documented commands as the owner, dropped afterwards."""
    database = connection.settings_dict["NAME"]
    role = AppRole(name=f"app_{database}"[:63], password="app-role-test-password")  # noqa: S106
    connection.ensure_connection()
    variables = {"app_role": role.name, "app_password": role.password, "DBNAME": database}
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role.name)))
        for statement in documented_statements():
            cursor.execute(_substitute(statement, variables))
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role.name)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role.name)))


@contextmanager
def django_as(role: AppRole) -> Iterator[None]:
    """Run the app's own code (Django's connections, in every thread) as the app's role."""
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(USER=role.name, PASSWORD=role.password)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


# What the app's role must never do to the audit log, each tried on its own connection.
REFUSED = {
    "set an unsealed event's seq": "UPDATE audit_auditevent SET seq = 999 WHERE seq IS NULL",
    "change an event": "UPDATE audit_auditevent SET action = 'list'",
    "delete an event": "DELETE FROM audit_auditevent",
    "truncate the events": "TRUNCATE audit_auditevent",
    "insert an event already sealed": "INSERT INTO audit_auditevent (seq, action) VALUES (999, 'view')",
    "change a chain entry": "UPDATE audit_chainentry SET entry = entry",
    "delete a chain entry": "DELETE FROM audit_chainentry",
    "truncate the chain": "TRUNCATE audit_chainentry",
    "change a verify run": "UPDATE audit_verificationrun SET ok = true",
    "delete a verify run": "DELETE FROM audit_verificationrun",
    "move the chain head": "UPDATE audit_chainhead SET horizon = horizon + 1000000",
    "delete the chain head": "DELETE FROM audit_chainhead",
    "lock the chain head itself": "SELECT * FROM audit_chainhead FOR UPDATE",
    "change a legal hold": "UPDATE audit_legalhold SET reason = 'x'",
    "delete a legal hold": "DELETE FROM audit_legalhold",
    "undo a hold's lifting": "DELETE FROM audit_legalholdlift",
    "change a detach decision": "UPDATE audit_detachdecision SET approved = true",
    "delete a detach request": "DELETE FROM audit_detachrequest",
    "detach a month itself": "ALTER TABLE audit_auditevent DETACH PARTITION audit_partitions.audit_chainentry_s00000",
    "disable the triggers": "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "disable the seal guard": "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_seal_only",
    "drop the seal guard": "DROP TRIGGER audit_auditevent_seal_only ON audit_auditevent",
    "turn triggers off for the session": "SET session_replication_role = replica",
    "add a trigger of its own": (
        "CREATE TRIGGER sneaky BEFORE INSERT ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    ),
    "change the table's storage": "ALTER TABLE audit_chainentry SET (fillfactor = 10)",
    "replace the seal function": "ALTER FUNCTION audit_seal_batch(bigint, bigint, bigint) SECURITY INVOKER",
    "drop the head function": "DROP FUNCTION audit_head_advance(bigint, bytea, bigint, bigint)",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_app_role_is_refused(app_role: AppRole, statement: str) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()  # a sealed event, a chain entry and a head to try on
    audit_record(action="view", object_type="loanaccount", object_id=2)  # and an unsealed one
    call_command("verify_audit")
    with app_role.connect() as app, pytest.raises(errors.InsufficientPrivilege):
        app.execute(statement)


def test_the_app_role_owns_nothing(app_role: AppRole) -> None:
    with app_role.connect() as app:
        owned = app.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
            " UNION ALL SELECT count(*) FROM pg_proc WHERE proowner = current_user::regrole"
        ).fetchall()
        super_or_owner = app.execute(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
    assert owned == [(0,), (0,)]
    assert super_or_owner is False


def test_the_app_role_writes_seals_and_verifies_through_the_owners_functions(app_role: AppRole) -> None:
    with django_as(app_role):
        assert connection.cursor().connection.info.user == app_role.name
        for object_id in range(5):
            audit_record(action="view", object_type="loanaccount", object_id=object_id, fields=["name"])
        first = seal()
        audit_record(action="reveal", object_type="borrower", object_id=9, purpose="call_borrower")
        second = seal()
        result = verify()
    assert (first.sealed, second.tree_size) == (6, 8)
    assert result.ok and result.events == 8
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_calling_the_head_function_cannot_hide_an_unsealed_event(app_role: AppRole) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    hidden = audit_record(action="reveal", object_type="borrower", object_id=7)
    writer = AuditEvent.objects.values_list("txid", flat=True).get(id=hidden.id)
    with app_role.connect() as app:
        seq, frontier, cluster = app.execute("SELECT seq, frontier, cluster FROM audit_chainhead").fetchone()
        # A horizon past the unsealed event's writer: refused, as beyond the transactions still running (when
        # an older one runs anywhere in the cluster) or as leaving that event unsealed.
        with pytest.raises(errors.RestrictViolation):
            app.execute("SELECT audit_head_advance(%s, %s, %s, %s)", [seq, frontier, writer + 1, cluster])
        with pytest.raises(errors.RestrictViolation, match="behind"):
            app.execute("SELECT audit_head_advance(%s, %s, %s, %s)", [seq - 1, frontier, 0, cluster])
    seal()
    assert AuditEvent.objects.get(id=hidden.id).seq is not None
    # A horizon within the running transactions that would pass over an unsealed event (one whose writer is
    # older than the head's horizon: a late commit, made here by giving the transaction id directly).
    late = raw(
        "INSERT INTO audit_auditevent (actor_username, role, action, object_type, object_id, persons, fields,"
        " purpose, outcome, request_id, detail, txid) VALUES ('', '', 'view', '', '', '[]', '[]', '', 'ok', '',"
        " '{}', 3) RETURNING id"
    )[0][0]
    raw("UPDATE audit_chainhead SET horizon = 0")
    with app_role.connect() as app:
        seq, frontier, cluster = app.execute("SELECT seq, frontier, cluster FROM audit_chainhead").fetchone()
        running = app.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetchone()[0]
        with pytest.raises(errors.RestrictViolation, match="not sealed"):
            app.execute("SELECT audit_head_advance(%s, %s, %s, %s)", [seq, frontier, running, cluster])
    seal()
    assert AuditEvent.objects.get(id=late).seq is not None


def test_the_app_may_insert_exactly_the_columns_every_writer_gives(app_role: AppRole) -> None:
    granted = re.search(r"GRANT INSERT \(([^)]*)\) ON audit_auditevent", "\n".join(documented_statements()))
    assert granted and tuple(column.strip() for column in granted.group(1).split(",")) == EVENT_COLUMNS


def test_the_seal_functions_run_as_their_owner_with_a_fixed_search_path(app_role: AppRole) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner) = pg_get_userbyid(c.relowner)"
            " FROM pg_proc AS p, pg_class AS c WHERE c.relname = 'audit_auditevent'"
            " AND p.proname IN ('audit_seal_batch', 'audit_head_lock', 'audit_head_advance') ORDER BY p.proname"
        )
        functions = cursor.fetchall()
    assert [name for name, *_ in functions] == ["audit_head_advance", "audit_head_lock", "audit_seal_batch"]
    for name, definer, config, same_owner in functions:
        assert definer and same_owner, name
        assert any(item.startswith("search_path=") and item.endswith("pg_temp") for item in config), (name, config)


def test_migrate_connects_as_the_owner_when_an_owner_url_is_set(settings) -> None:
    from audit.management.commands.migrate import Command

    def database(*arguments: str) -> str:
        return Command().create_parser("manage.py", "migrate").parse_args(list(arguments)).database

    assert database() == "default"  # no DATABASE_OWNER_URL of its own: the app's URL is the owner's
    settings.DATABASES = {**settings.DATABASES, "owner": {**settings.DATABASES["default"], "USER": "owner"}}
    assert database() == "owner"
    assert database("--database", "default") == "default"


def test_an_audit_table_added_later_narrows_what_the_default_privileges_gave_the_app(app_role: AppRole) -> None:
    from importlib import import_module

    narrow = [
        statement
        for statement in import_module("audit.migrations.0010_legal_holds").POSTGRES_FORWARD
        if statement.startswith("DO $$")
    ]
    # As if the table had been created after the role: the default privileges grant it every change.
    raw(f'GRANT SELECT, INSERT, UPDATE, DELETE ON audit_legalhold, audit_legalholdlift TO "{app_role.name}"')
    with connection.cursor() as cursor:
        for statement in narrow:
            cursor.execute(statement)  # no parameters: the block's own %s is format()'s
    with app_role.connect() as app:
        rights = app.execute(
            "SELECT has_table_privilege('audit_legalhold', 'UPDATE'), has_table_privilege('audit_legalhold', 'DELETE'),"
            " has_table_privilege('audit_legalholdlift', 'UPDATE'), has_table_privilege('audit_legalhold', 'INSERT')"
        ).fetchone()
    assert rights == (False, False, False, True)


def test_a_partition_made_after_the_role_is_as_closed_to_it_as_the_first(app_role: AppRole) -> None:
    from audit.partitions import PARTITION_SCHEMA, add_months, lender_month, month_partition

    first = f"{PARTITION_SCHEMA}.{month_partition(lender_month())[0]}"
    call_command("audit_partitions", "--ahead", "9")  # as the owner; default privileges would give the app all
    newest = f"{PARTITION_SCHEMA}.{month_partition(add_months(lender_month(), 9))[0]}"
    for partition in (first, newest):
        for statement in (
            f"SELECT * FROM {partition}",  # noqa: S608
            f"INSERT INTO {partition} (action) VALUES ('view')",  # noqa: S608
            f"UPDATE {partition} SET action = 'list'",  # noqa: S608
            f"DELETE FROM {partition}",  # noqa: S608
            f"TRUNCATE {partition}",
            f"ALTER TABLE {partition} DISABLE TRIGGER ALL",
        ):
            with app_role.connect() as app, pytest.raises(errors.InsufficientPrivilege):
                app.execute(statement)
    # Through the table, the app still writes into whichever month it is.
    with app_role.connect() as app:
        app.execute(
            "INSERT INTO audit_auditevent (actor_username, role, action, object_type, object_id, persons, fields,"
            " purpose, outcome, request_id, detail) VALUES ('', '', 'view', '', '', '[]', '[]', '', 'ok', '', '{}')"
        )
