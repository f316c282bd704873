"""The bounds every date and moment from outside must lie within (DOMAIN.md, "Legal floors": date bounds).

A query date runs from 2000-01-01 to tomorrow in the lender's time zone; a moment someone reports (a consent, a
payment, a gateway's receipt) lies from 2000-01-01 to five minutes from now. Outside them a date is a typing
error or an attack, and date arithmetic on it (the day after 9999-12-31) would fail. The bounds live here, in
the app every other app may import, so that the log's filter, the imports and the webhooks share one rule.
"""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = datetime.date(2000, 1, 1)
# How far ahead of our clock a reported moment may be: the webhooks' allowed clock skew.
MAX_FUTURE_SKEW = datetime.timedelta(minutes=5)
# The largest id or cursor a query parameter may name: PostgreSQL's bigint.
MAX_QUERY_INTEGER = 2**63 - 1


def lender_date(now: datetime.datetime | None = None) -> datetime.date:
    """The date in the lender's time zone (`TIME_ZONE`) at `now` (default: the current moment)."""
    return timezone.localdate(now or timezone.now(), timezone.get_default_timezone())


def latest_query_date(now: datetime.datetime | None = None) -> datetime.date:
    """The last date a query may name: tomorrow in the lender's time zone, so every zone's today is reachable."""
    return lender_date(now) + datetime.timedelta(days=1)


def query_date_error(value: datetime.date, now: datetime.datetime | None = None) -> ValidationError | None:
    """Why `value` is not a date a query may name (None when it is)."""
    latest = latest_query_date(now)
    if EARLIEST_DATE <= value <= latest:
        return None
    return ValidationError(
        _("Enter a date from %(earliest)s to %(latest)s."),
        code="date_out_of_bounds",
        params={"earliest": EARLIEST_DATE.isoformat(), "latest": latest.isoformat()},
    )


def reported_moment_error(value: datetime.datetime, now: datetime.datetime | None = None) -> ValidationError | None:
    """Why `value` (aware) is not a moment someone may report (None when it is): before 2000 or ahead of us."""
    now = now or timezone.now()
    earliest = datetime.datetime.combine(EARLIEST_DATE, datetime.time.min, tzinfo=timezone.get_default_timezone())
    latest = now + MAX_FUTURE_SKEW
    if earliest <= value <= latest:
        return None
    return ValidationError(
        _("The time must lie from %(earliest)s to five minutes from now."),
        code="moment_out_of_bounds",
        params={"earliest": EARLIEST_DATE.isoformat()},
    )


def reported_moment_validator(value: datetime.datetime) -> None:
    """A model field's validator: the moment lies from 2000-01-01 to five minutes from now."""
    if (error := reported_moment_error(value)) is not None:
        raise error


class QueryDateField(forms.DateField):
    """A date a query names (`from`, `to`): ISO form, from 2000-01-01 to tomorrow."""

    def validate(self, value: Any) -> None:
        """The bounds, after the format."""
        super().validate(value)
        if value is not None and (error := query_date_error(value)) is not None:
            raise error


class QueryIntegerField(forms.IntegerField):
    """A positive id or cursor a query names; never beyond what the database can compare."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_QUERY_INTEGER)
        super().__init__(**kwargs)
