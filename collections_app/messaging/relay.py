"""The relay: hands each due message to the gateway exactly once and records the outcome.

It claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED`, asks the contact gate again for every message,
borrower and family alike (the account paid or paused since, a stop, an opt-out, a flag, the hours, the caps,
staleness: `contact_gate.py`, its facts read for the whole batch at once), then the text's checks
(messaging/checks.py) and the send gates; it records `sending` and commits *before* the hand-off, then records
the outcome. While a message is `sending` its relay holds a session-level advisory lock
on it; the sweep only reconciles a `sending` message whose lock is free (its worker is gone), by asking the
gateway whether it ever accepted the key: a message is never blindly resent.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from collections_app.messaging.checks import findings_error, message_lint, template_usable_reason
from collections_app.messaging.contact_facts import contact_book_load, message_target
from collections_app.messaging.contact_gate import SEND, SUPPRESS, WAIT, ContactDecision, contact_gate, hand_off
from collections_app.messaging.gates import gates_before_send
from collections_app.messaging.gateways import Outbound, Outcome, Result, current_gateway
from collections_app.messaging.status import Status, audit_message, move_batch, status_changed
from collections_app.models import ContactReason, Message, PolicyVersion

# Without advisory locks (SQLite), how long a `sending` message must sit untouched before the sweep reconciles it.
SQLITE_ORPHAN_AFTER = datetime.timedelta(minutes=5)
# Namespace of the relay's advisory locks (pg_advisory_lock(int, int)): "msg" in ASCII.
ADVISORY_NAMESPACE = 0x6D7367


@dataclass
class RelayStats:
    """What one relay run did."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    waiting: int = 0
    suppressed: int = 0
    reconciled: int = 0
    requeued: int = 0

    def add(self, other: "RelayStats") -> None:
        """Add another run's counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _advisory(function: str, ids: Iterable[int]) -> None:
    ids = list(ids)
    # PostgreSQL only by nature (advisory locks, no benchmark): the SQLite demo's relay runs in one process, and
    # its sweep waits out a grace period instead.
    if ids and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {function}(%s, id::int) FROM unnest(%s::bigint[]) AS id",  # noqa: S608 - fixed names
                [ADVISORY_NAMESPACE, ids],
            )


def _content_refusal(message: Message, policy: PolicyVersion) -> str:
    """Why the text itself no longer holds (a family template changed or unapproved, the firewall), or ""."""
    if message.template_version_id and message.audience == Message.Audience.FAMILY:
        if unusable := template_usable_reason(message.template_version):
            return unusable
    if message.policy_version_id:
        if findings := message_lint(body=message.body, audience=message.audience, policy_version=policy):
            return str(findings_error(findings).messages[0])
    return ""


def _verdict(message: Message, decision: ContactDecision, now: datetime.datetime) -> tuple[str, str, str]:
    """What to do with a claimed message: `(SEND|WAIT|SUPPRESS, reason code, why in words)`.

    The contact gate first; then the text (a message it lets go, or holds for the hours, may have gone stale
    in words); the send gates are asked only of a message about to go.
    """
    verdict, code = hand_off(decision)
    if verdict == SUPPRESS:
        return verdict, code, "; ".join(reason.text for reason in decision.reasons)
    if why := _content_refusal(message, message.policy_version or PolicyVersion()):
        return SUPPRESS, ContactReason.STALE, why
    if verdict == SEND and (refusal := gates_before_send(message, now)):
        return SUPPRESS, refusal.code, refusal.text
    return verdict, code, ""


def _suppress_claimed(message: Message, old: str, code: str, why: str, now: datetime.datetime) -> None:
    message.status, message.status_reason = Status.SUPPRESSED, code
    Message.objects.filter(pk=message.pk).update(status=message.status, status_reason=code, updated_at=now)
    audit_message(message, Status.SUPPRESSED, reason=code, why=why[:500], stage="hand-off")
    status_changed(message, old, Status.SUPPRESSED)


def _defer_claimed(message: Message, old: str, next_open: datetime.datetime, now: datetime.datetime) -> bool:
    """Hold a message outside the recipient's hours until they open; True when it newly became `waiting`."""
    message.not_before = next_open
    newly_waiting = old != Status.WAITING
    if newly_waiting:
        message.status, message.status_reason = Status.WAITING, ContactReason.OUTSIDE_HOURS
        audit_message(message, Status.WAITING, reason=ContactReason.OUTSIDE_HOURS, not_before=next_open.isoformat())
        status_changed(message, old, Status.WAITING)
    Message.objects.filter(pk=message.pk).update(
        status=message.status,
        status_reason=message.status_reason,
        not_before=message.not_before,
        updated_at=now,
    )
    return newly_waiting


def _mark_sending(sending: Sequence[tuple[Message, str]]) -> None:
    """Record the batch `sending` (one statement per local send date) and hold each message's advisory lock."""
    by_date: dict[datetime.date, list[int]] = defaultdict(list)
    for message, _old in sending:
        by_date[message.send_date].append(message.pk)
    for send_date, ids in by_date.items():
        move_batch(
            ids,
            to=Status.SENDING,
            expected=Message.PENDING_STATUSES,
            assignments=", status_reason = '', send_date = %s, attempts = attempts + 1",
            params=[send_date],
        )
    for message, old in sending:
        status_changed(message, old, Status.SENDING)
    # Held until the outcome is recorded, or until the worker dies, which frees it for the sweep.
    _advisory("pg_advisory_lock", [m.pk for m, _old in sending])


def _claim(batch_size: int, now: datetime.datetime) -> tuple[list[Message], RelayStats]:
    """In one transaction: claim due messages, ask the contact gate again, mark the sendable ones `sending`.

    The gate's facts are read once for the batch (`contact_book_load`, with the borrowers locked so two workers
    never both pass a cap); a message the gate refuses is suppressed with the reason code and its event.
    """
    stats = RelayStats()
    messages = list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("policy_version__profile", "template_version__template")
        .filter(status__in=Message.PENDING_STATUSES, not_before__lte=now)
        .order_by("not_before")[:batch_size]
    )
    if not messages:
        return [], stats
    messages.sort(key=lambda m: m.pk)
    targets = [message_target(message) for message in messages]
    book = contact_book_load(targets, now=now, lock_borrowers=True)
    sending: list[tuple[Message, str]] = []
    for message, target in zip(messages, targets, strict=True):
        old = message.status
        decision = contact_gate(book.facts(target), policy=target.policy, now=now)
        verdict, code, why = _verdict(message, decision, now)
        if verdict == SUPPRESS:
            _suppress_claimed(message, old, code, why, now)
            stats.suppressed += 1
        elif verdict == WAIT:
            stats.waiting += _defer_claimed(message, old, decision.next_open, now)
        else:
            local_date = decision.local_time.date()
            book.count_message(target, local_date)
            message.status, message.status_reason, message.send_date = Status.SENDING, "", local_date
            message.attempts += 1
            sending.append((message, old))
    if sending:
        _mark_sending(sending)
    return [m for m, _old in sending], stats


def _record(messages: Sequence[Message], results: Sequence[Result]) -> RelayStats:
    """In one transaction: record each hand-off's outcome; an unknown one stays `sending` for reconciling."""
    stats = RelayStats()
    now = timezone.now()
    with transaction.atomic():
        accepted = [m for m, r in zip(messages, results, strict=True) if r.outcome is Outcome.ACCEPTED]
        # Only rows still `sending`: a receipt may already have moved one forward.
        moved = move_batch(
            [m.pk for m in accepted],
            to=Status.SENT,
            expected=[Status.SENDING],
            assignments=", sent_at = %s, last_error = ''",
            params=[now],
        )
        for message in (m for m in accepted if m.pk in moved):
            message.status, message.sent_at = Status.SENT, now
            status_changed(message, Status.SENDING, Status.SENT)
        stats.sent = len(accepted)
        for message, result in zip(messages, results, strict=True):
            if result.outcome is Outcome.REJECTED:
                updated = Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                    status=Status.FAILED, last_error=result.error[:200], updated_at=now
                )
                if updated:
                    message.status = Status.FAILED
                    audit_message(message, Status.FAILED, reason=result.error[:200])
                    status_changed(message, Status.SENDING, Status.FAILED)
                stats.failed += 1
            elif result.outcome is Outcome.UNKNOWN:
                Message.objects.filter(pk=message.pk).update(last_error=result.error[:200], updated_at=now)
                stats.unknown += 1
    return stats


def _outbound(message: Message) -> Outbound:
    return Outbound(
        idempotency_key=message.idempotency_key,
        channel=message.channel,
        recipient=message.recipient,
        audience=message.audience,
        body=message.body,
    )


def relay_batch(*, batch_size: int = 200, now: datetime.datetime | None = None) -> RelayStats | None:
    """Claim, hand over and record one batch; None when nothing was due."""
    with transaction.atomic():
        messages, stats = _claim(batch_size, now or timezone.now())
    if not messages and not (stats.suppressed or stats.waiting):
        return None
    if messages:
        try:
            results = current_gateway().send_many([_outbound(m) for m in messages])
            stats.add(_record(messages, results))
        finally:
            _advisory("pg_advisory_unlock", [m.pk for m in messages])
    return stats


def relay_run(
    *, batch_size: int = 200, max_batches: int | None = None, now: datetime.datetime | None = None
) -> RelayStats:
    """Send everything due, batch after batch, until nothing is due (or `max_batches` ran)."""
    total = RelayStats()
    batches = 0
    while max_batches is None or batches < max_batches:
        stats = relay_batch(batch_size=batch_size, now=now)
        if stats is None:
            break
        total.add(stats)
        batches += 1
    return total


def relay_reconcile(*, batch_size: int = 200) -> RelayStats:
    """Settle `sending` messages whose worker is gone by asking the gateway; never resend blindly.

    Accepted by the gateway: `sent`. Never accepted: back to `queued`, so the relay sends it once.
    The gateway cannot tell now: left `sending` for the next sweep.
    """
    stats = RelayStats()
    gateway = current_gateway()
    with transaction.atomic():
        candidates = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENDING)
            .order_by("pk")[:batch_size]
        )
        if not candidates:
            return stats
        now = timezone.now()
        # PostgreSQL only by nature (advisory locks, no benchmark): see `_advisory`.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_xact_lock(%s, id::int)",
                    [[m.pk for m in candidates], ADVISORY_NAMESPACE],
                )
                orphaned = {row[0] for row in cursor.fetchall()}
        else:
            # No advisory locks (the SQLite demo): a hand-off untouched for this long has lost its worker.
            orphaned = {m.pk for m in candidates if m.updated_at < now - SQLITE_ORPHAN_AFTER}
        for message in candidates:
            if message.pk not in orphaned:
                continue  # its worker is alive and still handing it over
            accepted = gateway.was_accepted(message.idempotency_key)
            if accepted is True:
                Message.objects.filter(pk=message.pk).update(
                    status=Status.SENT,
                    sent_at=now,
                    status_reason=gettext("reconciled with the gateway"),
                    updated_at=now,
                )
                message.status, message.sent_at = Status.SENT, now
                audit_message(message, Status.SENT, reason="reconciled")
                status_changed(message, Status.SENDING, Status.SENT)
                stats.reconciled += 1
            elif accepted is False:
                Message.objects.filter(pk=message.pk).update(
                    status=Status.QUEUED,
                    status_reason=gettext("the gateway never accepted it; queued again"),
                    not_before=now,
                    updated_at=now,
                )
                message.status = Status.QUEUED
                audit_message(message, Status.QUEUED, reason="reconciled: never accepted")
                status_changed(message, Status.SENDING, Status.QUEUED)
                stats.requeued += 1
    return stats


def relay_sweep(*, batch_size: int = 200, max_batches: int | None = None) -> RelayStats:
    """The periodic sweep: reconcile orphaned hand-offs, then send everything due (incl. waiting ones now allowed)."""
    stats = relay_reconcile(batch_size=batch_size)
    stats.add(relay_run(batch_size=batch_size, max_batches=max_batches))
    return stats
