"""Messages: rendering, enqueueing into the outbox, the relay to the gateway, opt-outs, stops and receipts.

A message is written in the caller's transaction (the transactional outbox). The relay claims due rows with
`SELECT ... FOR UPDATE SKIP LOCKED`, re-checks everything that may have changed, records `sending` and commits
*before* the hand-off, then records the outcome. While a message is `sending` its relay holds a session-level
advisory lock on it; the sweep only reconciles a `sending` message whose lock is free (its worker is gone),
by asking the gateway whether it ever accepted the key: a message is never blindly resent.
"""

import datetime
import logging
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.roles import RISK_APPROVER, user_has_role
from audit.services import audit_events_sql, audit_record
from collections_app.masking import mask_name
from collections_app.messaging.firewall import Finding, firewall_profile_get, lint_message
from collections_app.messaging.gateways import Outbound, Outcome, Result, current_gateway
from collections_app.messaging.rules import CAP_STATUSES, allowed_hours, daily_cap, is_opt_out_keyword
from collections_app.models import (
    Borrower,
    ChannelStop,
    Contact,
    LoanAccount,
    Message,
    MessageTemplate,
    PhoneOptOut,
    PolicyVersion,
    TemplateVersion,
)
from collections_app.selectors.profiles import firewall_profile_for
from collections_app.services.call_tasks import call_tasks_cancel_not_due

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None
Status = Message.Status

# Without advisory locks (SQLite), how long a `sending` message must sit untouched before the sweep reconciles it.
SQLITE_ORPHAN_AFTER = datetime.timedelta(minutes=5)
# Namespace of the relay's advisory locks (pg_advisory_lock(int, int)): "msg" in ASCII.
ADVISORY_NAMESPACE = 0x6D7367
# Forward order of statuses a delivery receipt may move along; failed and suppressed are terminal.
RECEIPT_RANK = {Status.SENDING: 1, Status.SENT: 2, Status.DELIVERED: 3}

PLACEHOLDERS = ("borrower_name", "lender_name", "hotline", "opt_out")


class MessageRefused(ValidationError):
    """The message cannot be written: it fails the firewall or its template is not usable."""


# --- hooks the review app registers in its AppConfig.ready() ----------------------------------------------------

BeforeSend = Callable[[Message], "str | None"]
AfterStatusChange = Callable[[Message, str, str], None]
_before_send: dict[str, list[BeforeSend]] = defaultdict(list)
_after_status_change: list[AfterStatusChange] = []


def register_before_send(audience: str, fn: BeforeSend) -> None:
    """Call `fn(message)` in the send transaction just before the hand-off; a returned reason suppresses it."""
    if fn not in _before_send[audience]:
        _before_send[audience].append(fn)


def register_after_status_change(fn: AfterStatusChange) -> None:
    """Call `fn(message, old, new)` in the transaction of every status change (old is "" on creation)."""
    if fn not in _after_status_change:
        _after_status_change.append(fn)


def _status_changed(message: Message, old: str, new: str) -> None:
    for fn in _after_status_change:
        fn(message, old, new)


# --- rendering --------------------------------------------------------------------------------------------------


def template_placeholders_unknown(body: str) -> list[str]:
    """Placeholders in `body` outside the fixed set (and malformed braces as `{`)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]
    except ValueError:
        return ["{"]
    return sorted({name for name in names if name not in PLACEHOLDERS})


def _render(body: str, *, borrower_name: str, policy_version: PolicyVersion, audience: str) -> str:
    hotlines = policy_version.service_hotlines or [""]
    text = body.format_map(
        {
            "borrower_name": mask_name(borrower_name),
            "lender_name": policy_version.lender_name,
            "hotline": hotlines[0],
            "opt_out": policy_version.opt_out_line,
        }
    )
    # Every family message ends with the opt-out line, whatever the template says.
    if audience == Message.Audience.FAMILY and not text.rstrip().endswith(policy_version.opt_out_line):
        text = f"{text.rstrip()}{policy_version.opt_out_line}"
    return text


def message_render_preview(
    *, template_version: TemplateVersion, borrower: Borrower, policy_version: PolicyVersion
) -> str:
    """The text a message from this version would carry for this borrower; writes nothing."""
    return _render(
        template_version.body,
        borrower_name=borrower.name,
        policy_version=policy_version,
        audience=template_version.template.audience,
    )


def _findings_error(findings: Sequence[Finding]) -> MessageRefused:
    listed = "; ".join(f"{f.category} [{f.start}:{f.end}] {f.text!r}" for f in findings)
    return MessageRefused(
        _("The message fails the content firewall: %(findings)s"), code="firewall", params={"findings": listed}
    )


def message_lint(*, body: str, audience: str, policy_version: PolicyVersion) -> list[Finding]:
    """The firewall's findings on `body` for `audience` under the policy version's profile."""
    return lint_message(body, audience=audience, profile=firewall_profile_for(policy_version))


# --- enqueue ----------------------------------------------------------------------------------------------------


def _recipient(*, borrower: Borrower, contact: Contact | None, channel: str) -> tuple[str, str]:
    if contact is not None:
        return contact.phone, contact.timezone
    if channel == Message.Channel.IN_APP:
        return f"app:{borrower.external_ref}", borrower.timezone
    return borrower.phone, borrower.timezone


def _template_usable_reason(template_version: TemplateVersion) -> str:
    """Why a version may not be used for new messages, or "" when it may."""
    template = template_version.template
    current = template.versions.aggregate(newest=Max("version"))["newest"]
    if template_version.version != current:
        return gettext("the template has changed since this version")
    if template.audience == Message.Audience.FAMILY and not template_version.is_approved:
        return gettext("the family template version is not approved")
    return ""


def _suppression_reason(
    *, borrower: Borrower, audience: str, channel: str, recipient: str, opted_out: bool, stopped: bool
) -> str:
    """Why nothing may go to this recipient now (cease, opt-out, stopped channel), or ""."""
    if borrower.cease_requested_at is not None:
        return gettext("the borrower asked for communication to cease")
    if audience == Message.Audience.FAMILY and opted_out:
        return gettext("the phone number opted out")
    if audience == Message.Audience.BORROWER and stopped:
        return gettext("the borrower stopped this channel")
    return ""


def _audit_message(message: Message, status: str, *, actor: User = None, reason: str = "", **detail: object) -> None:
    persons = [f"borrower:{message.borrower_id}"]
    if message.contact_id:
        persons.append(f"contact:{message.contact_id}")
    audit_record(
        action=f"message_{status}",
        actor=actor,
        object_type="message",
        object_id=message.pk,
        persons=persons,
        detail={"audience": message.audience, "channel": message.channel, "reason": reason, **detail},
    )


def _move_batch(
    ids: Sequence[int], *, to: str, expected: Sequence[str], assignments: str = "", params: Sequence[object] = ()
) -> set[int]:
    """Move messages still in `expected` to `to` and write their `message_<to>` events, in one statement.

    The events come from `audit.services.audit_events_sql`, one per message in the same statement: single-row
    inserts would cost the relay most of its time. Returns the ids that moved.
    """
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        return _move_batch_row_by_row(ids, to=to, expected=expected, assignments=assignments, params=params)
    audit_sql, audit_params = audit_events_sql(
        rows="moved",
        action=f"message_{to}",
        object_type="message",
        object_id="moved.id",
        persons="""CASE WHEN moved.contact_id IS NULL THEN jsonb_build_array('borrower:' || moved.borrower_id)
                        ELSE jsonb_build_array('borrower:' || moved.borrower_id, 'contact:' || moved.contact_id) END""",
        detail="jsonb_build_object('audience', moved.audience, 'channel', moved.channel, 'reason', '')",
    )
    sql = f"""
        WITH moved AS (
            UPDATE {Message._meta.db_table} SET status = %s, updated_at = now() {assignments}
            WHERE id = ANY(%s) AND status = ANY(%s)
            RETURNING id, borrower_id, contact_id, audience, channel
        ), audited AS ({audit_sql})
        SELECT id FROM moved
    """  # noqa: S608 - table names come from model metadata; `assignments` are fixed strings of this module
    with connection.cursor() as cursor:
        cursor.execute(sql, [to, *params, list(ids), list(expected), *audit_params])
        return {row[0] for row in cursor.fetchall()}


def _move_batch_row_by_row(
    ids: Sequence[int], *, to: str, expected: Sequence[str], assignments: str, params: Sequence[object]
) -> set[int]:
    """The SQLite demo's `_move_batch`: SQLite has no INSERT inside a CTE, so each event goes through audit_record."""
    id_marks = ", ".join(["%s"] * len(ids))
    status_marks = ", ".join(["%s"] * len(expected))
    sql = f"""
        UPDATE {Message._meta.db_table} SET status = %s, updated_at = %s {assignments}
        WHERE id IN ({id_marks}) AND status IN ({status_marks})
        RETURNING id
    """  # noqa: S608 - the table name comes from model metadata; `assignments` are fixed strings of this module
    with connection.cursor() as cursor:
        cursor.execute(sql, [to, timezone.now(), *params, *ids, *expected])
        moved = {row[0] for row in cursor.fetchall()}
    for message in Message.objects.filter(pk__in=moved):
        _audit_message(message, to)
    return moved


def message_enqueue(
    *,
    borrower: Borrower,
    account: LoanAccount | None,
    contact: Contact | None = None,
    audience: str,
    channel: str,
    template_version: TemplateVersion,
    policy_version: PolicyVersion,
    idempotency_key: str,
    actor: User = None,
) -> Message:
    """Render, check and write one message in the caller's transaction; the relay sends it after commit.

    The message is `queued`, `waiting` (outside the recipient's allowed hours) or `suppressed` with its reason;
    re-enqueueing an existing idempotency key returns that message unchanged. Raises MessageRefused when the
    template is not usable or the text fails the firewall.
    """
    template = template_version.template
    if template.audience != audience or template.channel != channel:
        raise MessageRefused(_("The template is for another audience or channel."), code="template")
    if (audience == Message.Audience.FAMILY) != (contact is not None):
        raise MessageRefused(_("A family message needs a contact, a borrower message none."), code="contact")
    if contact is not None and contact.borrower_id != borrower.pk:
        raise MessageRefused(_("The contact is not one of this borrower's contacts."), code="contact")
    if unusable := _template_usable_reason(template_version):
        raise MessageRefused(unusable, code="template")
    body = message_render_preview(template_version=template_version, borrower=borrower, policy_version=policy_version)
    if findings := message_lint(body=body, audience=audience, policy_version=policy_version):
        raise _findings_error(findings)

    with transaction.atomic():
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        recipient, zone = _recipient(borrower=borrower, contact=contact, channel=channel)
        now = timezone.now()
        reason = _suppression_reason(
            borrower=borrower,
            audience=audience,
            channel=channel,
            recipient=recipient,
            opted_out=PhoneOptOut.objects.filter(phone=recipient).exists(),
            stopped=ChannelStop.objects.filter(borrower=borrower, channel=channel).exists(),
        )
        hours = allowed_hours(
            now=now,
            timezone_name=zone,
            window_start=policy_version.send_window_start,
            window_end=policy_version.send_window_end,
        )
        if reason:
            status = Status.SUPPRESSED
        elif not hours.allowed:
            status, reason = Status.WAITING, hours.reason
        else:
            status = Status.QUEUED
        message = Message(
            borrower=borrower,
            account=account,
            contact=contact,
            audience=audience,
            channel=channel,
            recipient=recipient,
            recipient_timezone=zone,
            body=body,
            template_version=template_version,
            policy_version=policy_version,
            idempotency_key=idempotency_key,
            status=status,
            status_reason=reason,
            not_before=hours.next_open or now,
        )
        # Field checks only: the related rows are the objects given, and the database holds every constraint
        # and the unique key (validating those here would cost a query each).
        message.full_clean(
            exclude=["borrower", "account", "contact", "template_version", "policy_version", "not_before"],
            validate_unique=False,
            validate_constraints=False,
        )
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            # Another transaction wrote the same key first: that message stands.
            return Message.objects.get(idempotency_key=idempotency_key)
        _audit_message(
            message,
            status,
            actor=actor,
            reason=reason,
            policy_version=policy_version.pk,
            template_version=template_version.pk,
        )
        _status_changed(message, "", status)
        if status == Status.QUEUED:
            transaction.on_commit(kick_relay)
    return message


def message_suppress(*, message: Message, reason: str, actor: User = None) -> bool:
    """Suppress a message that has not been handed over yet; False when it already left (or was stopped)."""
    with transaction.atomic():
        return bool(_suppress(Message.objects.filter(pk=message.pk), reason=reason, actor=actor))


def _suppress(messages: QuerySet[Message], *, reason: str, actor: User = None, **detail: object) -> list[Message]:
    """Suppress every message of `messages` still queued or waiting; returns those it changed."""
    changed = list(messages.select_for_update().filter(status__in=Message.PENDING_STATUSES).order_by("pk"))
    if not changed:
        return []
    Message.objects.filter(pk__in=[m.pk for m in changed]).update(
        status=Status.SUPPRESSED, status_reason=reason[:200], updated_at=timezone.now()
    )
    for message in changed:
        old = message.status
        message.status, message.status_reason = Status.SUPPRESSED, reason[:200]
        _audit_message(message, Status.SUPPRESSED, actor=actor, reason=reason, **detail)
        _status_changed(message, old, Status.SUPPRESSED)
    return changed


# --- opt-outs, stopped channels, cease-communication -------------------------------------------------------------


def phone_opt_out_record(
    *,
    phone: str,
    source: str = PhoneOptOut.Source.OFFICER,
    actor: User = None,
    received_at: datetime.datetime | None = None,
) -> PhoneOptOut:
    """Opt a phone number out of family contact for every borrower; suppress what is queued to it."""
    with transaction.atomic():
        opt_out, created = PhoneOptOut.objects.get_or_create(
            phone=phone,
            defaults={
                "source": source,
                "received_at": received_at or timezone.now(),
                "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            opt_out.full_clean()
            contacts = list(Contact.objects.filter(phone=phone).values_list("pk", "borrower_id"))
            audit_record(
                action="opt_out",
                actor=actor,
                object_type="phoneoptout",
                object_id=opt_out.pk,
                persons=[f"contact:{pk}" for pk, _ in contacts] + [f"borrower:{b}" for _, b in contacts],
                detail={"source": source},
            )
        _suppress(
            Message.objects.filter(recipient=phone, audience=Message.Audience.FAMILY),
            reason=gettext("the phone number opted out"),
            actor=actor,
        )
    return opt_out


def channel_stop_record(
    *,
    borrower: Borrower,
    channel: str,
    source: str = PhoneOptOut.Source.OFFICER,
    actor: User = None,
    received_at: datetime.datetime | None = None,
) -> ChannelStop:
    """Stop one channel for a borrower; suppress their messages queued on it."""
    with transaction.atomic():
        stop, created = ChannelStop.objects.get_or_create(
            borrower=borrower,
            channel=channel,
            defaults={
                "source": source,
                "received_at": received_at or timezone.now(),
                "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            stop.full_clean()
            audit_record(
                action="channel_stopped",
                actor=actor,
                object_type="channelstop",
                object_id=stop.pk,
                persons=[f"borrower:{borrower.pk}"],
                detail={"channel": channel, "source": source},
            )
        _suppress(
            Message.objects.filter(borrower=borrower, channel=channel, audience=Message.Audience.BORROWER),
            reason=gettext("the borrower stopped this channel"),
            actor=actor,
        )
        if channel == Message.Channel.VOICE:
            call_tasks_cancel_not_due(
                reason="calls_stopped", account_ids=borrower.accounts.values_list("pk", flat=True), actor=actor
            )
    return stop


def cease_request_record(
    *, borrower: Borrower, actor: User = None, received_at: datetime.datetime | None = None
) -> Borrower:
    """Record a borrower's request that communication cease (Reg F 1006.6(c)); suppress everything queued."""
    with transaction.atomic():
        # Messages first, the borrower row last: the relay locks borrower rows while it holds message rows.
        _suppress(
            Message.objects.filter(borrower=borrower),
            reason=gettext("the borrower asked for communication to cease"),
            actor=actor,
        )
        if borrower.cease_requested_at is None:
            moment = received_at or timezone.now()
            Borrower.objects.filter(pk=borrower.pk, cease_requested_at__isnull=True).update(cease_requested_at=moment)
            borrower.cease_requested_at = moment
            audit_record(
                action="cease_requested",
                actor=actor,
                object_type="borrower",
                object_id=borrower.pk,
                persons=[f"borrower:{borrower.pk}"],
                fields=["cease_requested_at"],
            )
        call_tasks_cancel_not_due(
            reason="cease", account_ids=borrower.accounts.values_list("pk", flat=True), actor=actor
        )
    return borrower


def inbound_sms_take(*, phone: str, text: str, received_at: datetime.datetime) -> str:
    """Act on an inbound SMS: an opt-out keyword from a family contact's number opts the number out, from a
    borrower's number stops SMS for that borrower. Returns what was done (for the log)."""
    if not is_opt_out_keyword(text):
        return "ignored"
    done = []
    with transaction.atomic():
        borrowers = list(Borrower.objects.filter(phone=phone))
        for borrower in borrowers:
            channel_stop_record(
                borrower=borrower,
                channel=Message.Channel.SMS,
                source=PhoneOptOut.Source.SMS_REPLY,
                received_at=received_at,
            )
            done.append("channel_stopped")
        # A number that is not a borrower's can only have been written to as a family contact: opt it out.
        if Contact.objects.filter(phone=phone).exists() or not borrowers:
            phone_opt_out_record(phone=phone, source=PhoneOptOut.Source.SMS_REPLY, received_at=received_at)
            done.append("opt_out")
    return ",".join(done)


# --- delivery receipts ------------------------------------------------------------------------------------------


def message_receipt_take(*, idempotency_key: str, status: str, at: datetime.datetime) -> bool:
    """Move a message forward on a gateway receipt; never backwards, never out of a final status."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(idempotency_key=idempotency_key).first()
        if message is None or message.status not in RECEIPT_RANK:
            return False
        old = message.status
        if status == Status.FAILED:
            if old == Status.DELIVERED:
                return False
            fields: dict[str, object] = {"last_error": gettext("the gateway reported a failure")}
        else:
            if RECEIPT_RANK[Status(status)] <= RECEIPT_RANK[Status(old)]:
                return False
            fields = {"sent_at": message.sent_at or at}
            if status == Status.DELIVERED:
                fields["delivered_at"] = at
        Message.objects.filter(pk=message.pk).update(status=status, updated_at=timezone.now(), **fields)
        for name, value in fields.items():
            setattr(message, name, value)
        message.status = status
        _audit_message(message, status, reason=gettext("delivery receipt"), at=at.isoformat())
        _status_changed(message, old, status)
    return True


# --- the relay ----------------------------------------------------------------------------------------------------


def kick_relay() -> None:
    """Ask a worker to run the relay now; if the broker is down the periodic sweep sends it later."""
    from collections_app.tasks import relay_messages

    try:
        relay_messages.delay()
    except Exception:  # noqa: BLE001 - the outbox row is committed; the sweep is the guarantee
        logger.warning("could not kick the message relay; the sweep will send", exc_info=True)


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
    # PostgreSQL only: the SQLite demo's relay runs in one process, and its sweep waits out a grace period instead.
    if ids and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {function}(%s, id::int) FROM unnest(%s::bigint[]) AS id",  # noqa: S608 - fixed names
                [ADVISORY_NAMESPACE, ids],
            )


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
    used: dict[tuple[int, str, datetime.date], int] = defaultdict(int)
    for row in (
        Message.objects.filter(
            borrower_id__in=borrower_ids,
            audience=Message.Audience.BORROWER,
            status__in=CAP_STATUSES,
            send_date__gte=now.date() - datetime.timedelta(days=1),
        )
        .values("borrower_id", "channel", "send_date")
        .annotate(n=Count("pk"))
    ):
        used[(row["borrower_id"], row["channel"], row["send_date"])] = row["n"]

    sending: list[tuple[Message, str]] = []
    for message in sorted(messages, key=lambda m: m.pk):
        policy = message.policy_version or PolicyVersion()
        old = message.status
        reason = _suppression_reason(
            borrower=borrowers[message.borrower_id],
            audience=message.audience,
            channel=message.channel,
            recipient=message.recipient,
            opted_out=message.recipient in opted_out,
            stopped=(message.borrower_id, message.channel) in stopped,
        )
        if not reason and message.template_version_id and message.audience == Message.Audience.FAMILY:
            reason = _template_usable_reason(message.template_version)
        if not reason and message.policy_version_id:
            if findings := message_lint(body=message.body, audience=message.audience, policy_version=policy):
                reason = str(_findings_error(findings).messages[0])
        hours = allowed_hours(
            now=now,
            timezone_name=message.recipient_timezone,
            window_start=policy.send_window_start,
            window_end=policy.send_window_end,
        )
        if not reason and hours.allowed and message.audience == Message.Audience.BORROWER:
            cap_key = (message.borrower_id, message.channel, hours.local_date)
            reason = daily_cap(already_today=used[cap_key], limit=policy.max_messages_per_channel_per_day).reason
        if not reason and hours.allowed:
            for hook in _before_send.get(message.audience, ()):
                if hook_reason := hook(message):
                    reason = str(hook_reason)
                    break
        if reason:
            message.status, message.status_reason = Status.SUPPRESSED, reason[:200]
            Message.objects.filter(pk=message.pk).update(
                status=message.status, status_reason=message.status_reason, updated_at=now
            )
            _audit_message(message, Status.SUPPRESSED, reason=reason)
            _status_changed(message, old, Status.SUPPRESSED)
            stats.suppressed += 1
        elif not hours.allowed:
            message.not_before = hours.next_open
            if old != Status.WAITING:
                message.status, message.status_reason = Status.WAITING, hours.reason
                _audit_message(message, Status.WAITING, reason=hours.reason, not_before=hours.next_open.isoformat())
                _status_changed(message, old, Status.WAITING)
                stats.waiting += 1
            Message.objects.filter(pk=message.pk).update(
                status=message.status,
                status_reason=message.status_reason,
                not_before=message.not_before,
                updated_at=now,
            )
        else:
            if message.audience == Message.Audience.BORROWER:
                used[(message.borrower_id, message.channel, hours.local_date)] += 1
            message.status, message.status_reason, message.send_date = Status.SENDING, "", hours.local_date
            message.attempts += 1
            sending.append((message, old))
    if sending:
        by_date: dict[datetime.date, list[int]] = defaultdict(list)
        for message, _old in sending:
            by_date[message.send_date].append(message.pk)
        for send_date, ids in by_date.items():
            _move_batch(
                ids,
                to=Status.SENDING,
                expected=Message.PENDING_STATUSES,
                assignments=", status_reason = '', send_date = %s, attempts = attempts + 1",
                params=[send_date],
            )
        for message, old in sending:
            _status_changed(message, old, Status.SENDING)
        # Held until the outcome is recorded, or until the worker dies, which frees it for the sweep.
        _advisory("pg_advisory_lock", [m.pk for m, _old in sending])
    return [m for m, _old in sending], stats


def _record(messages: Sequence[Message], results: Sequence[Result]) -> RelayStats:
    """In one transaction: record each hand-off's outcome; an unknown one stays `sending` for reconciling."""
    stats = RelayStats()
    now = timezone.now()
    with transaction.atomic():
        accepted = [m for m, r in zip(messages, results, strict=True) if r.outcome is Outcome.ACCEPTED]
        # Only rows still `sending`: a receipt may already have moved one forward.
        moved = _move_batch(
            [m.pk for m in accepted],
            to=Status.SENT,
            expected=[Status.SENDING],
            assignments=", sent_at = %s, last_error = ''",
            params=[now],
        )
        for message in (m for m in accepted if m.pk in moved):
            message.status, message.sent_at = Status.SENT, now
            _status_changed(message, Status.SENDING, Status.SENT)
        stats.sent = len(accepted)
        for message, result in zip(messages, results, strict=True):
            if result.outcome is Outcome.REJECTED:
                updated = Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                    status=Status.FAILED, last_error=result.error[:200], updated_at=now
                )
                if updated:
                    message.status = Status.FAILED
                    _audit_message(message, Status.FAILED, reason=result.error[:200])
                    _status_changed(message, Status.SENDING, Status.FAILED)
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
                _audit_message(message, Status.SENT, reason="reconciled")
                _status_changed(message, Status.SENDING, Status.SENT)
                stats.reconciled += 1
            elif accepted is False:
                Message.objects.filter(pk=message.pk).update(
                    status=Status.QUEUED,
                    status_reason=gettext("the gateway never accepted it; queued again"),
                    not_before=now,
                    updated_at=now,
                )
                message.status = Status.QUEUED
                _audit_message(message, Status.QUEUED, reason="reconciled: never accepted")
                _status_changed(message, Status.SENDING, Status.QUEUED)
                stats.requeued += 1
    return stats


def relay_sweep(*, batch_size: int = 200, max_batches: int | None = None) -> RelayStats:
    """The periodic sweep: reconcile orphaned hand-offs, then send everything due (incl. waiting ones now allowed)."""
    stats = relay_reconcile(batch_size=batch_size)
    stats.add(relay_run(batch_size=batch_size, max_batches=max_batches))
    return stats


# --- templates ----------------------------------------------------------------------------------------------------


def template_body_problems(*, audience: str, firewall_profile: str, body: str) -> list[str]:
    """Why `body` cannot become a template version: unknown placeholders, or each firewall finding."""
    if unknown := template_placeholders_unknown(body):
        allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        return [
            gettext("Unknown placeholders: %(names)s. Use %(allowed)s.")
            % {"names": ", ".join(unknown), "allowed": allowed}
        ]
    # The placeholders are filled with masked or profile values at send time, and checked again then.
    text = body.format_map(dict.fromkeys(PLACEHOLDERS, ""))
    findings = lint_message(text, audience=audience, profile=firewall_profile_get(firewall_profile))
    return [f"{f.category} [{f.start}:{f.end}] {f.text!r}" for f in findings]


def template_version_create(*, template: MessageTemplate, body: str, actor: User = None) -> TemplateVersion:
    """Add a version to `template` (any edit is a new version; a family one needs approval again).

    Raises ValidationError listing unknown placeholders or every firewall finding.
    """
    if problems := template_body_problems(
        audience=template.audience, firewall_profile=template.firewall_profile, body=body
    ):
        raise ValidationError(problems, code="firewall")
    with transaction.atomic():
        MessageTemplate.objects.select_for_update().get(pk=template.pk)
        latest = template.versions.aggregate(newest=Max("version"))["newest"] or 0
        version = TemplateVersion(
            template=template,
            version=latest + 1,
            body=body,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        version.full_clean()
        version.save()
        audit_record(
            action="template_changed",
            actor=actor,
            object_type="templateversion",
            object_id=version.pk,
            detail={"template": template.code, "version": version.version, "audience": template.audience},
        )
    return version


def template_version_approve(*, version: TemplateVersion, actor: AbstractBaseUser) -> TemplateVersion:
    """Approve a version: only a risk_approver who did not write it; raises PermissionDenied otherwise."""
    if not user_has_role(actor, RISK_APPROVER):
        raise PermissionDenied(gettext("Only a risk approver may approve a template."))
    if version.created_by_id is not None and version.created_by_id == actor.pk:
        raise PermissionDenied(gettext("The author of a template cannot approve it."))
    with transaction.atomic():
        locked = TemplateVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_approved:
            return locked
        locked.approved_by, locked.approved_at = actor, timezone.now()
        locked.full_clean()
        locked.save(update_fields=["approved_by", "approved_at"])
        audit_record(
            action="template_approved",
            actor=actor,
            role=RISK_APPROVER,
            object_type="templateversion",
            object_id=locked.pk,
            detail={"template": locked.template.code, "version": locked.version},
        )
    return locked
