"""Contact rules, each written once: quiet hours, the daily cap on messages, the caps on calls.

Quiet hours: a message goes out only inside the policy's allowed hours, [`send_window_start`,
`send_window_end`) in the recipient's time zone; the rest of the day is quiet and a message waits for the
window to open. Caps: at most `max_messages_per_channel_per_day` borrower messages a channel a day, and on
phone calls a borrower's connected calls a day, call attempts a window, and none for some days after a
conversation. Each rule is a pure function over plain values; where the ladder must decide for the whole book
in one statement, the rule's SQL form (a query expression, or a SQL fragment built from one) sits beside it,
and `tests/collections_app/messaging/test_caps_in_sql.py` holds the two equal over a grid of cases.
"""

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, LessThan
from django.utils.translation import gettext_lazy as _

from collections_app.models import Borrower, Contact, Interaction, Message


@dataclass(frozen=True)
class HoursDecision:
    """Whether a message may go out now; when not, the moment the recipient's window next opens."""

    allowed: bool
    local_date: datetime.date
    next_open: datetime.datetime | None = None
    reason: str = ""


def recipient_zone(name: str) -> zoneinfo.ZoneInfo:
    """The recipient's time zone; an unknown name falls back to the lender's own zone rules (Asia/Shanghai)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # An unknown zone must not block sending forever nor let a message out at night: use the default.
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def in_quiet_hours(clock: datetime.time, *, window_start: datetime.time, window_end: datetime.time) -> bool:
    """Whether a wall-clock time falls in the quiet hours: outside the allowed [window_start, window_end)."""
    return not window_start <= clock < window_end


def allowed_hours(
    *, now: datetime.datetime, timezone_name: str, window_start: datetime.time, window_end: datetime.time
) -> HoursDecision:
    """Whether `now` falls in [window_start, window_end) in the recipient's zone, and when it next opens if not."""
    zone = recipient_zone(timezone_name)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if not in_quiet_hours(clock, window_start=window_start, window_end=window_end):
        return HoursDecision(allowed=True, local_date=local.date())
    opening_day = local.date() if clock < window_start else local.date() + datetime.timedelta(days=1)
    # Build the opening as a wall-clock time in the zone, so a DST change lands on the right instant.
    next_open = datetime.datetime.combine(opening_day, window_start, tzinfo=zone)
    return HoursDecision(
        allowed=False,
        local_date=local.date(),
        next_open=next_open,
        reason=str(_("outside allowed hours in the recipient's time zone")),
    )


# --- the daily cap on messages --------------------------------------------------------------------------------

# A daily cap counts a borrower's messages on one channel on one day (`send_date`, the recipient's local date).
# At hand-off (the relay) it counts the messages handed to the gateway that day...
CAP_STATUSES = (Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED)
# ...and when the ladder queues, those still on their way too: every message but those that never go out.
NEVER_SENT_STATUSES = (Message.Status.SUPPRESSED, Message.Status.FAILED)
# The ladder queues one reminder per borrower and channel a day (DOMAIN.md), whatever the profile's cap.
LADDER_MESSAGES_PER_CHANNEL_PER_DAY = 1


@dataclass(frozen=True)
class CapDecision:
    """Whether one more message fits under a daily cap."""

    allowed: bool
    reason: str = ""


def daily_cap(*, already_today: int, limit: int | None) -> CapDecision:
    """One more message is allowed while fewer than `limit` went out today (None: no cap)."""
    if limit is None or already_today < limit:
        return CapDecision(allowed=True)
    return CapDecision(allowed=False, reason=str(_("daily cap reached for this channel")))


def daily_cap_messages(*, borrower: object, channel: object, day: datetime.date, queueing: bool) -> QuerySet[Message]:
    """The borrower messages a daily cap counts for `borrower` (an id or expression) on `channel` on `day`.

    `queueing`: counted when a message is queued (all on their way or gone), else at hand-off (handed only).
    """
    return daily_cap_counted(queueing=queueing).filter(borrower_id=borrower, channel=channel, send_date=day)


def daily_cap_counted(*, queueing: bool, audience: str | None = Message.Audience.BORROWER) -> QuerySet[Message]:
    """Every message a daily cap counts, on any day: borrower messages on their way or gone (`queueing`), or
    handed to the gateway (at hand-off). `audience=None`: to anyone (automated calls count for contacts too)."""
    messages = Message.objects.all() if audience is None else Message.objects.filter(audience=audience)
    if queueing:
        return messages.exclude(status__in=NEVER_SENT_STATUSES)
    return messages.filter(status__in=CAP_STATUSES)


def _cap_reached(counted: QuerySet[Message], limit: int) -> QuerySet[Message]:
    """The `limit`-th counted message: it exists exactly when `limit` are counted, and no more are read."""
    return counted.order_by()[limit - 1 : limit]


def daily_cap_q(counted: QuerySet[Message], *, limit: int | None) -> Q:
    """SQL of `daily_cap(...).allowed`: fewer than `limit` of the `counted` messages exist (None: no cap)."""
    if limit is None:
        return Q()
    if limit <= 0:
        return Q(pk__in=[])
    return ~Q(Exists(_cap_reached(counted, limit)))


def daily_cap_probe_sql(
    *, borrower_sql: str, channel_sql: str, day: datetime.date, limit: int, queueing: bool
) -> tuple[str, list]:
    """SQL of a row (column `id`) that exists exactly when the daily cap refuses the row named by the arguments.

    `borrower_sql` and `channel_sql` are SQL expressions of the outer row. Joined `LEFT JOIN LATERAL (...) AS c
    ON TRUE` and tested `c.id IS NULL`, it is `daily_cap(...).allowed` as a probe per row: no misestimate of
    the day's messages can turn it into a quadratic join, as an anti-join could become.
    """
    if limit <= 0:
        return "SELECT 1 AS id", []
    # The two expressions are the caller's column names, never outside input.
    borrower, channel = RawSQL(borrower_sql, ()), RawSQL(channel_sql, ())  # noqa: S611
    counted = daily_cap_messages(borrower=borrower, channel=channel, day=day, queueing=queueing)
    sql, params = _cap_reached(counted, limit).values("id").query.sql_with_params()
    return sql, list(params)


# --- the caps on phone calls ----------------------------------------------------------------------------------

# Calls count in days of the recipient's zone. An automated voice call (a `voice` message handed to the gateway)
# counts as a connected call and an attempt, never as a conversation.


@dataclass(frozen=True)
class CallFact:
    """A call as the call caps see it: its day in the recipient's time zone, whether it connected, and whether
    it was an automated voice call (a `voice` message) rather than an officer's call."""

    day: datetime.date
    connected: bool
    automated: bool = False


def _first_day(today: datetime.date, days: int) -> datetime.date:
    """The first day of a span of `days` days ending today (today is day 1)."""
    return today - datetime.timedelta(days=days - 1)


def connected_calls_on(calls: Iterable[CallFact], today: datetime.date) -> int:
    """The connected calls (automated voice calls included) from `today` on: what the daily cap counts."""
    return sum(1 for call in calls if call.connected and call.day >= today)


def call_attempts_in(calls: Iterable[CallFact], today: datetime.date, window_days: int) -> int:
    """The call attempts in the `window_days` days to today (at least today): what the attempts cap counts."""
    first = _first_day(today, max(window_days, 1))
    return sum(1 for call in calls if call.day >= first)


def connected_calls_cap(*, calls: Iterable[CallFact], today: datetime.date, limit: int | None) -> bool:
    """Whether one more call fits under the cap on a recipient's connected calls a day (None: no cap)."""
    return limit is None or connected_calls_on(calls, today) < limit


def call_attempts_cap(*, calls: Iterable[CallFact], today: datetime.date, limit: int | None, window_days: int) -> bool:
    """Whether one more call fits under the cap on a recipient's call attempts in `window_days` days to today."""
    return limit is None or call_attempts_in(calls, today, window_days) < limit


def no_calls_after_conversation(*, calls: Iterable[CallFact], today: datetime.date, days: int) -> bool:
    """Whether a call is allowed: none for `days` days after a conversation, its day counted as day 1 (0: off)."""
    if not days:
        return True
    first = _first_day(today, days)
    return not any(call.connected and not call.automated and call.day >= first for call in calls)


def recipient_day_start(day: datetime.date, zone_name: str) -> datetime.datetime:
    """The instant `day` begins in the recipient's zone (an unknown zone is read as `recipient_zone` reads it)."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=recipient_zone(zone_name))


def recipient_day_start_sql(day: datetime.date, *, zone: object, zones: Iterable[str]) -> Case:
    """SQL of `recipient_day_start(day, zone)` for the zone expression `zone` (a column or an OuterRef).

    `zones` lists the zone names the rows may hold (`zones_in_use()`): each is resolved here in Python, so a
    name PostgreSQL does not know can never fail the statement; any other name gets the fallback zone's start.
    """
    fallback = recipient_day_start(day, "")
    whens = [
        When(Exact(zone, Value(name)), then=Value(start))
        for name in sorted(set(zones))
        if (start := recipient_day_start(day, name)) != fallback
    ]
    return Case(*whens, default=Value(fallback), output_field=DateTimeField())


def zones_in_use() -> list[str]:
    """Every time zone a borrower or contact holds: what a SQL form of a day in the recipient's zone must know."""
    borrowers = Borrower.objects.order_by().values_list("timezone", flat=True).distinct()
    contacts = Contact.objects.order_by().values_list("timezone", flat=True).distinct()
    return sorted(set(borrowers.union(contacts)))


def _borrower_phone_calls() -> QuerySet[Interaction]:
    """Officers' phone calls to the borrower (not to a contact) on any account of the outer LoanAccount row's."""
    return Interaction.objects.filter(
        account__borrower=OuterRef("borrower_id"), channel=Interaction.Channel.PHONE, contact__isnull=True
    )


def _borrower_voice_calls(first_day: datetime.date) -> QuerySet[Message]:
    """Automated voice calls to the outer LoanAccount row's borrower from `first_day` on (recipient's days)."""
    return daily_cap_counted(queueing=False).filter(
        borrower_id=OuterRef("borrower_id"), channel=Message.Channel.VOICE, send_date__gte=first_day
    )


def _number_of(calls: QuerySet, group: str) -> Coalesce:
    total = calls.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def _calls_since(first_day: datetime.date, zones: Iterable[str]) -> QuerySet[Interaction]:
    """The borrower's phone calls from the start of `first_day` in the borrower's zone."""
    start = recipient_day_start_sql(first_day, zone=OuterRef("borrower__timezone"), zones=zones)
    return _borrower_phone_calls().filter(occurred_at__gte=start)


def connected_calls_cap_q(*, today: datetime.date, limit: int | None, zones: Iterable[str]) -> Q:
    """SQL of `connected_calls_cap(...)` over LoanAccount rows, days in the borrower's zone."""
    if limit is None:
        return Q()
    connected = _calls_since(today, zones).filter(outcome__in=Interaction.CONNECTED_OUTCOMES)
    total = _number_of(connected, "account__borrower") + _number_of(_borrower_voice_calls(today), "borrower")
    return Q(LessThan(total, limit))


def call_attempts_cap_q(*, today: datetime.date, limit: int | None, window_days: int, zones: Iterable[str]) -> Q:
    """SQL of `call_attempts_cap(...)` over LoanAccount rows, days in the borrower's zone."""
    if limit is None:
        return Q()
    first = _first_day(today, max(window_days, 1))
    total = _number_of(_calls_since(first, zones), "account__borrower") + _number_of(
        _borrower_voice_calls(first), "borrower"
    )
    return Q(LessThan(total, limit))


def no_calls_after_conversation_q(*, today: datetime.date, days: int, zones: Iterable[str]) -> Q:
    """SQL of `no_calls_after_conversation(...)` over LoanAccount rows, days in the borrower's zone."""
    if not days:
        return Q()
    recent = _calls_since(_first_day(today, days), zones).filter(outcome__in=Interaction.CONNECTED_OUTCOMES)
    return ~Q(Exists(recent))


def called_on_q(*, day: datetime.date, zones: Iterable[str]) -> Q:
    """SQL over LoanAccount rows: an officer phoned the account's borrower (on any account) on `day` of the
    borrower's zone."""
    start = recipient_day_start_sql(day, zone=OuterRef("borrower__timezone"), zones=zones)
    end = recipient_day_start_sql(day + datetime.timedelta(days=1), zone=OuterRef("borrower__timezone"), zones=zones)
    calls = _borrower_phone_calls().filter(occurred_at__gte=start, occurred_at__lt=end)
    return Q(Exists(calls))
