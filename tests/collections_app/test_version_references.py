"""Messages and call tasks point only at versions that exist, and a version in use cannot be deleted.

The references are checked by triggers once per statement (migration 0008) instead of a per-row foreign
key; these tests hold the triggers to what the foreign key guaranteed, through raw SQL as well as the ORM.
"""

import importlib
import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction

from collections_app.models import CallTask, Message, PolicyVersion, TemplateVersion
from tests.collections_app.messaging_support import ladder_version, policy
from tests.collections_app.test_message_enqueue import enqueue_borrower_sms
from tests.factories import make_account

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def sql(statement: str, params: list | tuple = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def copy_message_with(column: str, value: int, message: Message) -> None:
    """INSERT ... SELECT one copy of `message` with `column` set to `value`, as escalation's statements insert."""
    versions = {"template_version_id": message.template_version_id, "policy_version_id": message.policy_version_id}
    versions[column] = value
    sql(
        "INSERT INTO collections_app_message (borrower_id, account_id, audience, channel, recipient,"
        " recipient_timezone, body, template_version_id, status, status_reason, idempotency_key, policy_version_id,"
        " not_before, attempts, last_error, created_at, updated_at)"
        " SELECT borrower_id, account_id, audience, channel, recipient, recipient_timezone, body, %s, status,"
        " status_reason, idempotency_key || '-copy', %s, not_before, attempts, last_error, created_at, updated_at"
        " FROM collections_app_message WHERE id = %s",
        [versions["template_version_id"], versions["policy_version_id"], message.pk],
    )


@pytest.mark.parametrize("column", ["template_version_id", "policy_version_id"])
def test_a_message_inserted_with_a_missing_version_is_refused(column: str) -> None:
    message = enqueue_borrower_sms(make_account())
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_message_with(column, MISSING, message)
    copy_message_with(column, getattr(message, column), message)  # the same statement with a real version holds
    assert Message.objects.count() == 2


@pytest.mark.parametrize("column", ["template_version_id", "policy_version_id"])
def test_a_message_cannot_be_pointed_at_a_missing_version(column: str) -> None:
    message = enqueue_borrower_sms(make_account())
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(f"UPDATE collections_app_message SET {column} = %s WHERE id = %s", [MISSING, message.pk])  # noqa: S608
    assert sql(f"UPDATE collections_app_message SET {column} = NULL WHERE id = %s", [message.pk]) == 1  # noqa: S608


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
