"""Messages and call tasks point only at rows that exist, and a row they point at cannot be deleted.

Their version references, a message's borrower, account and contact, and a call task's account and officer
are checked by triggers once per statement (migrations 0008 and 0010) instead of a per-row foreign key;
these tests hold the triggers to what the foreign key guaranteed, through raw SQL as well as the ORM.
"""

import importlib
import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction

from collections_app.models import CallTask, Message, PolicyVersion, TemplateVersion
from tests.collections_app.messaging.messaging_support import enqueue_borrower_sms, ladder_version, policy
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def sql(statement: str, params: list | tuple = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


MESSAGE_COLUMNS = (
    "borrower_id, account_id, contact_id, audience, channel, recipient, recipient_timezone, body, template_version_id,"
    " status, status_reason, idempotency_key, policy_version_id, not_before, attempts, last_error, created_at,"
    " updated_at"
)


def copy_message_with(message: Message, **values: object) -> None:
    """INSERT ... SELECT one copy of `message` with `values` for some columns, as escalation's statements insert."""
    names = MESSAGE_COLUMNS.replace(" ", "").split(",")
    selected = ", ".join(
        "%s" if name in values else "idempotency_key || '-copy'" if name == "idempotency_key" else name
        for name in names
    )
    sql(
        f"INSERT INTO collections_app_message ({MESSAGE_COLUMNS})"  # noqa: S608 - fixed column names
        f" SELECT {selected} FROM collections_app_message WHERE id = %s",
        [*(values[name] for name in names if name in values), message.pk],
    )


def pointing_at(column: str, value: object, message: Message) -> dict[str, object]:
    """Column values pointing `message` at `value`; a contact only belongs on a family message."""
    return {column: value, "audience": "family"} if column == "contact_id" else {column: value}


def real_reference(column: str, message: Message) -> object:
    if column == "contact_id":
        return make_contact(message.borrower).pk
    return getattr(message, column)


REFERENCE_COLUMNS = ["template_version_id", "policy_version_id", "borrower_id", "account_id", "contact_id"]


@pytest.mark.parametrize("column", REFERENCE_COLUMNS)
def test_a_message_inserted_with_a_missing_reference_is_refused(column: str) -> None:
    message = enqueue_borrower_sms(make_account())
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        copy_message_with(message, **pointing_at(column, MISSING, message))
    # The same statement with a real reference holds.
    copy_message_with(message, **pointing_at(column, real_reference(column, message), message))
    assert Message.objects.count() == 2


@pytest.mark.parametrize("column", REFERENCE_COLUMNS)
def test_a_message_cannot_be_pointed_at_a_missing_reference(column: str) -> None:
    message = enqueue_borrower_sms(make_account())
    values = pointing_at(column, MISSING, message)
    assignments = ", ".join(f"{name} = %s" for name in values)
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        sql(f"UPDATE collections_app_message SET {assignments} WHERE id = %s", [*values.values(), message.pk])  # noqa: S608
    values = pointing_at(column, real_reference(column, message), message)
    assignments = ", ".join(f"{name} = %s" for name in values)
    assert sql(f"UPDATE collections_app_message SET {assignments} WHERE id = %s", [*values.values(), message.pk]) == 1  # noqa: S608


@pytest.mark.parametrize(("table", "column"), [("borrower", "borrower_id"), ("loanaccount", "account_id")])
def test_a_borrower_or_account_a_message_points_at_cannot_be_deleted(table: str, column: str) -> None:
    message = enqueue_borrower_sms(make_account())
    target = getattr(message, column)
    # Clear what else points at the row, so that only the message's reference stands in the way.
    sql("DELETE FROM collections_app_calltask")
    if table == "borrower":
        sql("UPDATE collections_app_message SET account_id = NULL")
        sql("DELETE FROM collections_app_loanaccount WHERE borrower_id = %s", [target])
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        sql(f"DELETE FROM collections_app_{table} WHERE id = %s", [target])  # noqa: S608
    sql("DELETE FROM collections_app_message")
    assert sql(f"DELETE FROM collections_app_{table} WHERE id = %s", [target]) == 1  # noqa: S608


def test_a_contact_a_message_points_at_cannot_be_deleted() -> None:
    message = enqueue_borrower_sms(make_account())
    contact = make_contact(message.borrower)
    copy_message_with(message, audience="family", contact_id=contact.pk)
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        sql("DELETE FROM collections_app_contact WHERE id = %s", [contact.pk])


@pytest.mark.parametrize("column", ["account_id", "officer_id"])
def test_a_call_task_with_a_missing_account_or_officer_is_refused(column: str, officer) -> None:
    account = make_account(officer)
    values = {"account_id": account.pk, "officer_id": officer.pk, column: MISSING}
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        CallTask.objects.create(due_date="2026-03-10", dpd=30, policy_version=policy(), **values)
    task = CallTask.objects.create(
        account=account, officer=officer, due_date="2026-03-10", dpd=30, policy_version=policy()
    )
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        sql(f"UPDATE collections_app_calltask SET {column} = %s WHERE id = %s", [MISSING, task.pk])  # noqa: S608
    with pytest.raises(IntegrityError, match="violates the reference"), transaction.atomic():
        sql("DELETE FROM auth_user WHERE id = %s", [officer.pk])


def test_a_call_task_with_a_missing_policy_version_is_refused() -> None:
    account = make_account()
    with pytest.raises(IntegrityError), transaction.atomic():
        CallTask.objects.create(account=account, due_date="2026-03-10", dpd=30, policy_version_id=MISSING)
    CallTask.objects.create(account=account, due_date="2026-03-10", dpd=30, policy_version=policy())
    assert CallTask.objects.count() == 1


@pytest.mark.parametrize(("table", "version"), [("templateversion", ladder_version), ("policyversion", policy)])
def test_a_version_a_message_points_at_cannot_be_deleted(table: str, version) -> None:
    enqueue_borrower_sms(make_account())
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(f"DELETE FROM collections_app_{table} WHERE id = %s", [version().pk])  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(f"UPDATE collections_app_{table} SET id = %s WHERE id = %s", [MISSING, version().pk])  # noqa: S608


def test_a_version_only_a_call_task_points_at_cannot_be_deleted() -> None:
    task = CallTask.objects.create(account=make_account(), due_date="2026-03-10", dpd=30, policy_version=policy())
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("DELETE FROM collections_app_policyversion WHERE id = %s", [task.policy_version_id])


def test_a_version_nothing_points_at_can_still_be_deleted() -> None:
    unused = TemplateVersion.objects.create(template=ladder_version().template, version=99, body="x")
    assert sql("DELETE FROM collections_app_templateversion WHERE id = %s", [unused.pk]) == 1
    assert PolicyVersion.objects.exists()


def test_the_sqlite_triggers_enforce_the_same_references() -> None:
    migration = importlib.import_module("collections_app.migrations.0008_version_references_checked_per_statement")
    database = sqlite3.connect(":memory:")
    database.executescript(
        "CREATE TABLE collections_app_templateversion (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_policyversion (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_message (id INTEGER PRIMARY KEY, template_version_id INT, policy_version_id INT);"
        "CREATE TABLE collections_app_calltask (id INTEGER PRIMARY KEY, policy_version_id INT NOT NULL);"
        "INSERT INTO collections_app_templateversion VALUES (1), (2);"
        "INSERT INTO collections_app_policyversion VALUES (1), (2);"
    )
    for statement in migration._sqlite_triggers():
        database.execute(statement)
    refused = [
        "INSERT INTO collections_app_message VALUES (1, 3, 1)",
        "INSERT INTO collections_app_message VALUES (1, 1, 3)",
        "INSERT INTO collections_app_calltask VALUES (1, 3)",
    ]
    for statement in refused:
        with pytest.raises(sqlite3.IntegrityError):
            database.execute(statement)
    database.execute("INSERT INTO collections_app_message VALUES (1, 1, NULL)")
    database.execute("INSERT INTO collections_app_calltask VALUES (1, 2)")
    for statement in [
        "UPDATE collections_app_message SET template_version_id = 3",
        "DELETE FROM collections_app_templateversion WHERE id = 1",
        "DELETE FROM collections_app_policyversion WHERE id = 2",
        "UPDATE collections_app_policyversion SET id = 5 WHERE id = 2",
    ]:
        with pytest.raises(sqlite3.IntegrityError):
            database.execute(statement)
    database.execute("DELETE FROM collections_app_templateversion WHERE id = 2")
    database.execute("DELETE FROM collections_app_policyversion WHERE id = 1")


def test_the_sqlite_triggers_enforce_the_message_references_too() -> None:
    migration = importlib.import_module("collections_app.migrations.0010_references_checked_per_statement")
    database = sqlite3.connect(":memory:")
    database.executescript(
        "CREATE TABLE collections_app_borrower (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_loanaccount (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_contact (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_message"
        " (id INTEGER PRIMARY KEY, borrower_id INT, account_id INT, contact_id INT);"
        "CREATE TABLE auth_user (id INTEGER PRIMARY KEY);"
        "CREATE TABLE collections_app_calltask (id INTEGER PRIMARY KEY, account_id INT, officer_id INT);"
        "INSERT INTO auth_user VALUES (1);"
        "INSERT INTO collections_app_borrower VALUES (1);"
        "INSERT INTO collections_app_loanaccount VALUES (1);"
        "INSERT INTO collections_app_contact VALUES (1);"
    )
    for statement in migration.CHECKED_PER_STATEMENT._sqlite_triggers(migration.REFERENCES):
        database.execute(statement)
    for statement in [
        "INSERT INTO collections_app_message VALUES (1, 2, 1, NULL)",
        "INSERT INTO collections_app_message VALUES (1, 1, 2, NULL)",
        "INSERT INTO collections_app_message VALUES (1, 1, 1, 2)",
        "INSERT INTO collections_app_calltask VALUES (1, 2, 1)",
        "INSERT INTO collections_app_calltask VALUES (1, 1, 2)",
    ]:
        with pytest.raises(sqlite3.IntegrityError):
            database.execute(statement)
    database.execute("INSERT INTO collections_app_message VALUES (1, 1, 1, 1)")
    database.execute("INSERT INTO collections_app_calltask VALUES (1, 1, 1)")
    with pytest.raises(sqlite3.IntegrityError):
        database.execute("DELETE FROM auth_user WHERE id = 1")
    for statement in [
        "UPDATE collections_app_message SET account_id = 2",
        "DELETE FROM collections_app_borrower WHERE id = 1",
        "DELETE FROM collections_app_loanaccount WHERE id = 1",
        "DELETE FROM collections_app_contact WHERE id = 1",
    ]:
        with pytest.raises(sqlite3.IntegrityError):
            database.execute(statement)
    database.execute("UPDATE collections_app_message SET contact_id = NULL")
    database.execute("DELETE FROM collections_app_contact WHERE id = 1")
