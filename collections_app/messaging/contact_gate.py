"""The contact gate: one answer to "may we contact this recipient on this channel now?", with every reason.

DOMAIN.md, "The contact gate". `contact_gate` is pure: it decides from `ContactFacts` (plain values, loaded for a
whole batch in a few queries by `contact_facts.py`) and the policy version's numbers, and it asks the hour and
cap rules of `rules.py` rather than restating them. Enqueueing, the relay at hand-off, the call-task list and call
logging all ask it; the ladder asks its SQL form (`ladder_accounts`, the ladder's stop and cap joins,
`call_task_select`), held equal by `tests/collections_app/messaging/test_contact_gate_in_sql.py`. Its reason
codes are CONTRACT.md's `Message.status_reason` codes (`ContactReason`).
"""

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext

from collections_app.dpd import days_past_due, lender_today
from collections_app.messaging.rules import (
    CallFact,
    HoursDecision,
    allowed_hours,
    call_attempts_in,
    connected_calls_on,
    daily_cap,
    no_calls_after_conversation,
    recipient_zone,
)
from collections_app.models import ContactReason, Message, PolicyVersion

# The ladder's stages, earliest first; a ladder template is coded `ladder-<stage>-<channel>[-<language>]`.
LADDER_STAGES = ("pre-due", "due", "overdue")
_LADDER_CODE = re.compile(r"^ladder-(pre-due|due|overdue)-")
# The channels of ladder reminders, whose send day is their staleness (DOMAIN.md's table).
REMINDER_CHANNELS = (Message.Channel.SMS, Message.Channel.IN_APP)
# A call, an officer's or an automated one, is contact on the voice channel (what a borrower stops as "calls").
CALL_CHANNEL = Message.Channel.VOICE
# The order in which reasons are listed: the first is the one a suppressed message records.
REASON_ORDER = (
    ContactReason.PAID,
    ContactReason.CEASED,
    ContactReason.REPRESENTED,
    ContactReason.VULNERABLE,
    ContactReason.PAUSED,
    ContactReason.CHANNEL_STOPPED,
    ContactReason.OPTED_OUT,
    ContactReason.STALE,
    ContactReason.CAP,
    ContactReason.OUTSIDE_HOURS,
)


def ladder_stage(template_code: str | None) -> str | None:
    """The ladder stage a message's template is for (`pre-due`, `due`, `overdue`), or None for any other."""
    match = _LADDER_CODE.match(template_code or "")
    return match[1] if match else None


@dataclass(frozen=True)
class ContactFacts:
    """What the gate needs to know about one recipient on one channel; `contact_facts.py` loads it.

    `messages_by_day` (a message's channel: the borrower's messages handed to the gateway per local day) is None
    for a call. `calls` are the recipient's calls, their days in the recipient's zone. `send_day` is a ladder
    reminder's day and `task_day` a call task's, both in the recipient's zone.
    """

    channel: str
    zone: str
    unpaid_due_date: datetime.date | None
    to_contact: bool = False
    stage: str | None = None
    paused: bool = False
    ceased: bool = False
    channel_stopped: bool = False
    opted_out: bool = False
    represented: bool = False
    vulnerable: bool = False
    messages_by_day: Mapping[datetime.date, int] | None = None
    calls: tuple[CallFact, ...] = ()
    send_day: datetime.date | None = None
    task_day: datetime.date | None = None


@dataclass(frozen=True)
class GateReason:
    """One reason the gate refuses: its code (`ContactReason`) and a sentence saying why, with its numbers."""

    code: str
    text: str


@dataclass(frozen=True)
class ContactDecision:
    """The gate's answer: allowed when there is no reason; the recipient's clock and the counts behind the caps."""

    reasons: tuple[GateReason, ...]
    local_time: datetime.datetime
    policy_version: str
    policy_version_id: int | None = None
    next_open: datetime.datetime | None = None
    messages_today: int | None = None
    message_cap: int | None = None
    connected_today: int | None = None
    connected_cap: int | None = None
    attempts: int | None = None
    attempts_cap: int | None = None
    attempts_window_days: int = 7

    @property
    def allowed(self) -> bool:
        """Whether the contact may happen now."""
        return not self.reasons

    @property
    def local_clock(self) -> str:
        """The recipient's wall-clock time, as text (a template would turn the instant into the viewer's zone)."""
        return f"{self.local_time:%H:%M} ({getattr(self.local_time.tzinfo, 'key', self.local_time.tzinfo)})"

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, most decisive first."""
        return tuple(reason.code for reason in self.reasons)


def _label(code: str) -> str:
    return str(ContactReason(code).label)


def _standing_reasons(facts: ContactFacts, now: datetime.datetime) -> list[GateReason]:
    """What forbids any contact on this channel today, whatever the hour: the account, the borrower, the phone."""
    reasons = []
    dpd = days_past_due(facts.unpaid_due_date, lender_today(now))
    # Overdue for the message's stage: an overdue reminder needs a day past due, a due-day notice its due date.
    needed = {"overdue": 1, "due": 0}.get(facts.stage or "")
    if dpd is None or (needed is not None and dpd < needed):
        reasons.append(GateReason(ContactReason.PAID, _label(ContactReason.PAID)))
    flags = (
        (facts.ceased, ContactReason.CEASED),
        (facts.represented, ContactReason.REPRESENTED),
        (facts.vulnerable, ContactReason.VULNERABLE),
        (facts.paused, ContactReason.PAUSED),
        # A stopped channel is the borrower's own; an opt-out belongs to a contact's phone number.
        (facts.channel_stopped and not facts.to_contact, ContactReason.CHANNEL_STOPPED),
        (facts.opted_out and facts.to_contact, ContactReason.OPTED_OUT),
    )
    reasons += [GateReason(code, _label(code)) for applies, code in flags if applies]
    return reasons


def _stale_reasons(facts: ContactFacts, hours: HoursDecision) -> list[GateReason]:
    """DOMAIN.md's staleness table, except the family message's window, which review's send gate keeps."""
    today = hours.local_date
    texts = []
    if facts.send_day is not None:
        opens_on = hours.next_open.date() if hours.next_open else today
        if opens_on > facts.send_day:
            texts.append(gettext("its send day (%(day)s) is over") % {"day": facts.send_day.isoformat()})
    if facts.stage == "pre-due" and facts.unpaid_due_date is not None and today >= facts.unpaid_due_date:
        texts.append(gettext("the due date has come"))
    if facts.task_day is not None:
        if today > facts.task_day:
            texts.append(gettext("the call task's day (%(day)s) is over") % {"day": facts.task_day.isoformat()})
        elif any(not call.automated and call.day == facts.task_day for call in facts.calls):
            texts.append(gettext("the call was made that day"))
    return [GateReason(ContactReason.STALE, f"{_label(ContactReason.STALE)}: {text}") for text in texts]


def _call_cap_reasons(facts: ContactFacts, policy: PolicyVersion, today: datetime.date) -> list[str]:
    """The call caps broken by one more call today, each as a sentence."""
    texts = []
    connected = connected_calls_on(facts.calls, today)
    limit = policy.max_connected_calls_per_day
    if limit is not None and connected >= limit:
        texts.append(gettext("%(n)d of %(cap)d connected calls today") % {"n": connected, "cap": limit})
    window = policy.call_attempts_window_days
    attempts = call_attempts_in(facts.calls, today, window)
    if policy.max_call_attempts is not None and attempts >= policy.max_call_attempts:
        texts.append(
            gettext("%(n)d of %(cap)d call attempts in %(days)d days")
            % {"n": attempts, "cap": policy.max_call_attempts, "days": window}
        )
    days = policy.no_calls_after_conversation_days
    if not no_calls_after_conversation(calls=facts.calls, today=today, days=days):
        texts.append(gettext("a conversation in the last %(days)d days") % {"days": days})
    return texts


def contact_gate(facts: ContactFacts, *, policy: PolicyVersion, now: datetime.datetime) -> ContactDecision:
    """May we contact this recipient on this channel now? Every reason it may not, and the numbers behind them."""
    hours = allowed_hours(
        now=now, timezone_name=facts.zone, window_start=policy.send_window_start, window_end=policy.send_window_end
    )
    today = hours.local_date
    reasons = _standing_reasons(facts, now) + _stale_reasons(facts, hours)
    cap_texts = []
    messages_today = None
    if facts.messages_by_day is not None and not facts.to_contact:
        messages_today = facts.messages_by_day.get(today, 0)
        if not daily_cap(already_today=messages_today, limit=policy.max_messages_per_channel_per_day).allowed:
            cap_texts.append(
                gettext("%(n)d of %(cap)d messages on this channel today")
                % {"n": messages_today, "cap": policy.max_messages_per_channel_per_day}
            )
    if facts.channel == CALL_CHANNEL:
        cap_texts += _call_cap_reasons(facts, policy, today)
    reasons += [GateReason(ContactReason.CAP, f"{_label(ContactReason.CAP)}: {text}") for text in cap_texts]
    local = now.astimezone(recipient_zone(facts.zone))
    if not hours.allowed:
        reasons.append(
            GateReason(
                ContactReason.OUTSIDE_HOURS,
                gettext("%(label)s: %(time)s there; allowed from %(start)s to %(end)s")
                % {
                    "label": _label(ContactReason.OUTSIDE_HOURS),
                    "time": local.strftime("%H:%M"),
                    "start": policy.send_window_start.strftime("%H:%M"),
                    "end": policy.send_window_end.strftime("%H:%M"),
                },
            )
        )
    reasons.sort(key=lambda reason: REASON_ORDER.index(reason.code))
    return ContactDecision(
        reasons=tuple(reasons),
        local_time=local,
        policy_version=str(policy) if policy.pk else "",
        policy_version_id=policy.pk,
        next_open=hours.next_open,
        messages_today=messages_today,
        message_cap=policy.max_messages_per_channel_per_day if messages_today is not None else None,
        connected_today=connected_calls_on(facts.calls, today) if facts.channel == CALL_CHANNEL else None,
        connected_cap=policy.max_connected_calls_per_day,
        attempts=call_attempts_in(facts.calls, today, policy.call_attempts_window_days)
        if facts.channel == CALL_CHANNEL
        else None,
        attempts_cap=policy.max_call_attempts,
        attempts_window_days=policy.call_attempts_window_days,
    )


# What the relay and the outbox do with a message the gate answered for.
SEND, WAIT, SUPPRESS = "send", "wait", "suppress"


def hand_off(decision: ContactDecision) -> tuple[str, str]:
    """`(SEND, "")`, `(WAIT, "outside_hours")` or `(SUPPRESS, code)` for a message the gate answered for.

    Outside allowed hours a message waits for them to open, unless something other than the hour forbids it:
    a cap counts the day it goes out on, so it is asked again then.
    """
    codes = decision.codes
    if ContactReason.OUTSIDE_HOURS in codes:
        hard = [code for code in codes if code not in (ContactReason.OUTSIDE_HOURS, ContactReason.CAP)]
        return (SUPPRESS, hard[0]) if hard else (WAIT, ContactReason.OUTSIDE_HOURS)
    return (SUPPRESS, codes[0]) if codes else (SEND, "")
