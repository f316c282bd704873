"""The relay: hands each due message to the gateway exactly once and records the outcome.

It claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED`, re-checks everything that may have changed since
they were written (messaging/checks.py, the caps, the send gates), records `sending` and commits *before* the
hand-off, then records the outcome. While a message is `sending` its relay holds a session-level advisory lock
on it; the sweep only reconciles a `sending` message whose lock is free (its worker is gone), by asking the
gateway whether it ever accepted the key: a message is never blindly resent.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from collections_app.messaging.checks import findings_error, message_lint, suppression_reason, template_usable_reason
from collections_app.messaging.gates import gates_before_send
from collections_app.messaging.gateways import Outbound, Outcome, Result, current_gateway
from collections_app.messaging.rules import HoursDecision, allowed_hours, daily_cap, daily_cap_counted
from collections_app.messaging.status import Status, audit_message, move_batch, status_changed
from collections_app.models import Borrower, ChannelStop, Message, PhoneOptOut, PolicyVersion

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


@dataclass
class _Claimed:
    """What the re-checks of one claimed batch need to know, read once for the whole batch."""

    borrowers: dict[int, Borrower]
    opted_out: set[str]
    stopped: set[tuple[int, str]]
    # Messages counted against each (borrower, channel, local day) cap, including those this batch sends.
    used: dict[tuple[int, str, datetime.date], int] = field(default_factory=lambda: defaultdict(int))


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


def _read_claimed(messages: Sequence[Message], now: datetime.datetime) -> _Claimed:
    """Lock the batch's borrowers and read their opt-outs, stops and the day's cap counts."""
    borrower_ids = sorted({m.borrower_id for m in messages})
    # Lock the borrowers (in id order, no key update so inserts referencing them are not blocked) before
    # counting caps: two workers can then never both pass the same cap.
    borrowers = {
        b.pk: b for b in Borrower.objects.select_for_update(no_key=True).filter(pk__in=borrower_ids).order_by("pk")
    }
    opted_out = set(
        PhoneOptOut.objects.filter(phone__in={m.recipient for m in messages}).values_list("phone", flat=True)
    )
    stopped = set(ChannelStop.objects.filter(borrower_id__in=borrower_ids).values_list("borrower_id", "channel"))
    claimed = _Claimed(borrowers=borrowers, opted_out=opted_out, stopped=stopped)
    for row in (
        daily_cap_counted(queueing=False)
        .filter(borrower_id__in=borrower_ids, send_date__gte=now.date() - datetime.timedelta(days=1))
        .values("borrower_id", "channel", "send_date")
        .annotate(n=Count("pk"))
    ):
        claimed.used[(row["borrower_id"], row["channel"], row["send_date"])] = row["n"]
    return claimed


def _refusal(
    message: Message, claimed: _Claimed, *, policy: PolicyVersion, hours: HoursDecision, now: datetime.datetime
) -> str:
    """Why a claimed message must be suppressed now, or ""; the send gates are asked only inside allowed hours."""
    reason = suppression_reason(
        borrower=claimed.borrowers[message.borrower_id],
        audience=message.audience,
        channel=message.channel,
        recipient=message.recipient,
        opted_out=message.recipient in claimed.opted_out,
        stopped=(message.borrower_id, message.channel) in claimed.stopped,
    )
    if not reason and message.template_version_id and message.audience == Message.Audience.FAMILY:
        reason = template_usable_reason(message.template_version)
    if not reason and message.policy_version_id:
        if findings := message_lint(body=message.body, audience=message.audience, policy_version=policy):
            reason = str(findings_error(findings).messages[0])
    if not reason and hours.allowed and message.audience == Message.Audience.BORROWER:
        cap_key = (message.borrower_id, message.channel, hours.local_date)
        reason = daily_cap(already_today=claimed.used[cap_key], limit=policy.max_messages_per_channel_per_day).reason
    if not reason and hours.allowed:
        reason = gates_before_send(message, now)
    return reason


def _suppress_claimed(message: Message, old: str, reason: str, now: datetime.datetime) -> None:
    message.status, message.status_reason = Status.SUPPRESSED, reason[:200]
    Message.objects.filter(pk=message.pk).update(
        status=message.status, status_reason=message.status_reason, updated_at=now
    )
    audit_message(message, Status.SUPPRESSED, reason=reason)
    status_changed(message, old, Status.SUPPRESSED)


def _defer_claimed(message: Message, old: str, hours: HoursDecision, now: datetime.datetime) -> bool:
    """Hold a message outside the recipient's hours until they open; True when it newly became `waiting`."""
    message.not_before = hours.next_open
    newly_waiting = old != Status.WAITING
    if newly_waiting:
        message.status, message.status_reason = Status.WAITING, hours.reason
        audit_message(message, Status.WAITING, reason=hours.reason, not_before=hours.next_open.isoformat())
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
    """In one transaction: claim due messages, re-check them, mark the sendable ones `sending` (locked)."""
    stats = RelayStats()
    messages = list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("policy_version", "template_version__template")
        .filter(status__in=Message.PENDING_STATUSES, not_before__lte=now)
        .order_by("not_before")[:batch_size]
    )
    if not messages:
        return [], stats
    claimed = _read_claimed(messages, now)
    sending: list[tuple[Message, str]] = []
    for message in sorted(messages, key=lambda m: m.pk):
        policy = message.policy_version or PolicyVersion()
        old = message.status
        hours = allowed_hours(
            now=now,
            timezone_name=message.recipient_timezone,
            window_start=policy.send_window_start,
            window_end=policy.send_window_end,
        )
        if reason := _refusal(message, claimed, policy=policy, hours=hours, now=now):
            _suppress_claimed(message, old, reason, now)
            stats.suppressed += 1
        elif not hours.allowed:
            stats.waiting += _defer_claimed(message, old, hours, now)
        else:
            if message.audience == Message.Audience.BORROWER:
                claimed.used[(message.borrower_id, message.channel, hours.local_date)] += 1
            message.status, message.status_reason, message.send_date = Status.SENDING, "", hours.local_date
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
