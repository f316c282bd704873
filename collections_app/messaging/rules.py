"""Pure sending rules: allowed hours in the recipient's time zone, and daily caps."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


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


def allowed_hours(
    *, now: datetime.datetime, timezone_name: str, window_start: datetime.time, window_end: datetime.time
) -> HoursDecision:
    """Whether `now` falls in [window_start, window_end) in the recipient's zone, and when it next opens if not."""
    zone = recipient_zone(timezone_name)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if window_start <= clock < window_end:
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


OPT_OUT_KEYWORDS = frozenset({"td", "退订", "stop"})


def is_opt_out_keyword(text: str) -> bool:
    """Whether an inbound SMS is an opt-out: TD, 退订 or STOP, any case, surrounding spaces ignored."""
    return text.strip().casefold() in OPT_OUT_KEYWORDS
