"""Moving messages between statuses: each move writes its `message_<status>` audit event and tells the gates.

Shared by the outbox, the relay, consent and receipts, so that every status change of a message is audited
and followed the same way, whichever of them makes it.
"""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from audit.record import audit_events_sql, audit_record, person_key, person_key_sql
from collections_app.messaging.gates import gates_after_status_change
from collections_app.models import ContactReason, Message

User = AbstractBaseUser | AnonymousUser | None
Status = Message.Status


def audit_message(message: Message, status: str, *, actor: User = None, reason: str = "", **detail: object) -> None:
    """Write the `message_<status>` audit event of one message."""
    persons = [person_key("borrower", message.borrower_id)]
    if message.contact_id:
        persons.append(person_key("contact", message.contact_id))
    audit_record(
        action=f"message_{status}",
        actor=actor,
        object_type="message",
        object_id=message.pk,
        persons=persons,
        detail={"audience": message.audience, "channel": message.channel, "reason": reason, **detail},
    )


def status_changed(message: Message, old: str, new: str) -> None:
    """Report a status change (old is "" on creation) to the send gates, in the transaction that made it."""
    gates_after_status_change(message, old, new)


def move_batch(
    ids: Sequence[int], *, to: str, expected: Sequence[str], assignments: str = "", params: Sequence[object] = ()
) -> set[int]:
    """Move messages still in `expected` to `to` and write their `message_<to>` events, in one statement.

    The events come from `audit.record.audit_events_sql`, one per message in the same statement: single-row
    inserts would cost the relay most of its time. Returns the ids that moved.
    """
    if not ids:
        return set()
    # PostgreSQL: one data-modifying CTE, for bench_relay (messages per second); the ORM has none.
    if connection.vendor != "postgresql":
        return _move_batch_row_by_row(ids, to=to, expected=expected, assignments=assignments, params=params)
    borrower = person_key_sql("borrower", "moved.borrower_id")
    audit_sql, audit_params = audit_events_sql(
        rows="moved",
        action=f"message_{to}",
        object_type="message",
        object_id="moved.id",
        persons=f"""CASE WHEN moved.contact_id IS NULL THEN jsonb_build_array({borrower})
                         ELSE jsonb_build_array({borrower}, {person_key_sql("contact", "moved.contact_id")}) END""",
        detail="jsonb_build_object('audience', moved.audience, 'channel', moved.channel, 'reason', '')",
    )
    sql = f"""
        WITH moved AS (
            UPDATE {Message._meta.db_table} SET status = %s, updated_at = now() {assignments}
            WHERE id = ANY(%s) AND status = ANY(%s)
            RETURNING id, borrower_id, contact_id, audience, channel
        ), audited AS ({audit_sql})
        SELECT id FROM moved
    """  # noqa: S608 - table names come from model metadata; `assignments` are fixed strings of the callers
    with connection.cursor() as cursor:
        cursor.execute(sql, [to, *params, list(ids), list(expected), *audit_params])
        return {row[0] for row in cursor.fetchall()}


def _move_batch_row_by_row(
    ids: Sequence[int], *, to: str, expected: Sequence[str], assignments: str, params: Sequence[object]
) -> set[int]:
    """The SQLite demo's `move_batch`: SQLite has no INSERT inside a CTE, so each event goes through audit_record."""
    id_marks = ", ".join(["%s"] * len(ids))
    status_marks = ", ".join(["%s"] * len(expected))
    sql = f"""
        UPDATE {Message._meta.db_table} SET status = %s, updated_at = %s {assignments}
        WHERE id IN ({id_marks}) AND status IN ({status_marks})
        RETURNING id
    """  # noqa: S608 - the table name comes from model metadata; `assignments` are fixed strings of the callers
    with connection.cursor() as cursor:
        cursor.execute(sql, [to, timezone.now(), *params, *ids, *expected])
        moved = {row[0] for row in cursor.fetchall()}
    for message in Message.objects.filter(pk__in=moved):
        audit_message(message, to)
    return moved


def suppress_pending(
    messages: QuerySet[Message], *, reason: str, actor: User = None, **detail: object
) -> list[Message]:
    """Suppress every message of `messages` still queued or waiting; returns those it changed.

    `reason` is the `ContactReason` code the messages record (CONTRACT.md); words belong in `detail`.
    """
    if reason not in ContactReason.values:
        raise ValueError(f"A suppressed message records a ContactReason code, not {reason!r}.")
    changed = list(messages.select_for_update().filter(status__in=Message.PENDING_STATUSES).order_by("pk"))
    if not changed:
        return []
    Message.objects.filter(pk__in=[m.pk for m in changed]).update(
        status=Status.SUPPRESSED, status_reason=reason, updated_at=timezone.now()
    )
    for message in changed:
        old = message.status
        message.status, message.status_reason = Status.SUPPRESSED, reason
        audit_message(message, Status.SUPPRESSED, actor=actor, reason=reason, **detail)
        status_changed(message, old, Status.SUPPRESSED)
    return changed
