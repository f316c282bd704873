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

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils.translation import gettext_lazy as _

from collections_app.models import Interaction, Message


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


def daily_cap_counted(*, queueing: bool) -> QuerySet[Message]:
    """Every message a daily cap counts, on any day: borrower messages on their way or gone (`queueing`), or
    handed to the gateway (at hand-off)."""
    messages = Message.objects.filter(audience=Message.Audience.BORROWER)
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


@dataclass(frozen=True)
class CallFact:
    """A phone call as the call caps see it: its day in the lender's time zone, and whether it connected."""

    day: datetime.date
    connected: bool


def _first_day(today: datetime.date, days: int) -> datetime.date:
    """The first day of a span of `days` days ending today (today is day 1)."""
    return today - datetime.timedelta(days=days - 1)


def connected_calls_cap(*, calls: Iterable[CallFact], today: datetime.date, limit: int | None) -> bool:
    """Whether one more call fits under the cap on a borrower's connected calls a day (None: no cap)."""
    if limit is None:
        return True
    return sum(1 for call in calls if call.connected and call.day >= today) < limit


def call_attempts_cap(*, calls: Iterable[CallFact], today: datetime.date, limit: int | None, window_days: int) -> bool:
    """Whether one more call fits under the cap on a borrower's call attempts in `window_days` days to today."""
    if limit is None:
        return True
    first = _first_day(today, max(window_days, 1))
    return sum(1 for call in calls if call.day >= first) < limit


def no_calls_after_conversation(*, calls: Iterable[CallFact], today: datetime.date, days: int) -> bool:
    """Whether a call is allowed: none for `days` days after a connected call, its day counted as day 1 (0: off)."""
    if not days:
        return True
    first = _first_day(today, days)
    return not any(call.connected and call.day >= first for call in calls)


def lender_day_start(day: datetime.date) -> datetime.datetime:
    """The instant the lender-local `day` begins: call caps count days in the lender's time zone."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _borrower_phone_calls() -> QuerySet[Interaction]:
    """Phone calls on any account of the outer LoanAccount row's borrower."""
    return Interaction.objects.filter(account__borrower=OuterRef("borrower_id"), channel=Interaction.Channel.PHONE)


def _number_of(calls: QuerySet[Interaction]) -> Coalesce:
    total = calls.order_by().values("account__borrower").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def connected_calls_cap_q(*, today: datetime.date, limit: int | None) -> Q:
    """SQL of `connected_calls_cap(...)` over LoanAccount rows."""
    if limit is None:
        return Q()
    connected = _borrower_phone_calls().filter(
        outcome__in=Interaction.CONNECTED_OUTCOMES, occurred_at__gte=lender_day_start(today)
    )
    return Q(LessThan(_number_of(connected), limit))


def call_attempts_cap_q(*, today: datetime.date, limit: int | None, window_days: int) -> Q:
    """SQL of `call_attempts_cap(...)` over LoanAccount rows."""
    if limit is None:
        return Q()
    first = lender_day_start(_first_day(today, max(window_days, 1)))
    return Q(LessThan(_number_of(_borrower_phone_calls().filter(occurred_at__gte=first)), limit))


def no_calls_after_conversation_q(*, today: datetime.date, days: int) -> Q:
    """SQL of `no_calls_after_conversation(...)` over LoanAccount rows."""
    if not days:
        return Q()
    recent = _borrower_phone_calls().filter(
        outcome__in=Interaction.CONNECTED_OUTCOMES, occurred_at__gte=lender_day_start(_first_day(today, days))
    )
    return ~Q(Exists(recent))
