"""The per-statement reference checks hold against a concurrent delete, as a foreign key's row locks did.

Two real connections, committed for real: an insert that references a row and a delete of that row, each
left open while the other tries. Whichever comes second waits, then refuses (migration 0010).
"""

import psycopg
import pytest
from django.db import connection

from collections_app.models import Borrower, Message
from tests.collections_app.messaging.messaging_support import enqueue_borrower_sms
from tests.factories import make_account, make_borrower

pytestmark = pytest.mark.django_db(transaction=True)

COPY_FOR_BORROWER = (
    "INSERT INTO collections_app_message (borrower_id, account_id, contact_id, audience, channel, recipient,"
    " recipient_timezone, body, template_version_id, status, status_reason, idempotency_key, policy_version_id,"
    " not_before, attempts, last_error, created_at, updated_at)"
    " SELECT %s, NULL, NULL, audience, channel, recipient, recipient_timezone, body, template_version_id, status,"
    " status_reason, idempotency_key || '-' || %s, policy_version_id, not_before, attempts, last_error, created_at,"
    " updated_at FROM collections_app_message WHERE id = %s"
)


def second_connection() -> psycopg.Connection:
    """Another session on the test database, waiting at most half a second for a lock."""
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    other.execute("SET lock_timeout = '500ms'")
    return other


def message_and_spare_borrower() -> tuple[Message, Borrower]:
    """A message to copy, and a borrower with no accounts, whom only a message copy will reference."""
    return enqueue_borrower_sms(make_account()), make_borrower()


def test_a_delete_waits_for_an_open_insert_that_references_the_row_then_refuses() -> None:
    message, borrower = message_and_spare_borrower()
    inserter, deleter = second_connection(), second_connection()
    try:
        inserter.execute(COPY_FOR_BORROWER, [borrower.pk, "a", message.pk])  # open transaction, not committed
        with pytest.raises(psycopg.errors.LockNotAvailable):
            deleter.execute("DELETE FROM collections_app_borrower WHERE id = %s", [borrower.pk])
        deleter.rollback()
        inserter.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="violates the reference"):
            deleter.execute("DELETE FROM collections_app_borrower WHERE id = %s", [borrower.pk])
    finally:
        inserter.close()
        deleter.close()
    assert Borrower.objects.filter(pk=borrower.pk).exists()


def test_an_insert_waits_for_an_open_delete_of_the_row_it_references_then_refuses() -> None:
    message, borrower = message_and_spare_borrower()
    deleter, inserter = second_connection(), second_connection()
    try:
        deleter.execute("DELETE FROM collections_app_borrower WHERE id = %s", [borrower.pk])  # not committed
        with pytest.raises(psycopg.errors.LockNotAvailable):
            inserter.execute(COPY_FOR_BORROWER, [borrower.pk, "b", message.pk])
        inserter.rollback()
        deleter.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="violates the reference"):
            inserter.execute(COPY_FOR_BORROWER, [borrower.pk, "c", message.pk])
    finally:
        deleter.close()
        inserter.close()
    assert not Message.objects.filter(borrower_id=borrower.pk).exists()


def test_inserts_that_reference_rows_do_not_wait_for_each_other() -> None:
    message, borrower = message_and_spare_borrower()
    first, second = second_connection(), second_connection()
    try:
        first.execute(COPY_FOR_BORROWER, [borrower.pk, "d", message.pk])
        second.execute(COPY_FOR_BORROWER, [borrower.pk, "e", message.pk])  # would time out if it waited
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert Message.objects.filter(borrower_id=borrower.pk).count() == 2


def test_under_repeatable_read_an_insert_locks_rows_and_a_delete_is_refused() -> None:
    message, borrower = message_and_spare_borrower()
    inserter, deleter = second_connection(), second_connection()
    try:
        inserter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        inserter.execute(COPY_FOR_BORROWER, [borrower.pk, "f", message.pk])
        # Row-locked FOR KEY SHARE, not table-locked: the delete waits on the row itself.
        with pytest.raises(psycopg.errors.LockNotAvailable):
            deleter.execute("DELETE FROM collections_app_borrower WHERE id = %s", [borrower.pk])
        deleter.rollback()
        inserter.rollback()
        deleter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="only checked under READ COMMITTED"):
            deleter.execute("DELETE FROM collections_app_borrower WHERE id = %s", [borrower.pk])
    finally:
        inserter.close()
        deleter.close()
