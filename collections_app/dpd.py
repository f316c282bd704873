"""Days past due and buckets: one definition, in Python and in SQL, with today passed in."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Func, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def lender_today(now: datetime.datetime | None = None) -> datetime.date:
    """Today's date in the lender's time zone (`TIME_ZONE`), never the database's CURRENT_DATE."""
    moment = now or timezone.now()
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def days_past_due(oldest_unpaid_due_date: datetime.date | None, today: datetime.date) -> int | None:
    """DPD: days from the oldest unpaid due date to today; None when nothing is unpaid."""
    if oldest_unpaid_due_date is None:
        return None
    return (today - oldest_unpaid_due_date).days


@dataclass(frozen=True)
class Bucket:
    """A DPD bucket; `low`/`high` are inclusive and None means open-ended."""

    code: str
    label: str
    low: int | None
    high: int | None

    def contains(self, dpd: int) -> bool:
        """Whether `dpd` falls in this bucket."""
        return (self.low is None or dpd >= self.low) and (self.high is None or dpd <= self.high)

    def due_date_q(self, today: datetime.date, field: str = "oldest_unpaid_due_date") -> Q:
        """The bucket as a range on the due date, so the filter can use the index."""
        q = Q(**{f"{field}__isnull": False})
        if self.low is not None:
            q &= Q(**{f"{field}__lte": today - datetime.timedelta(days=self.low)})
        if self.high is not None:
            q &= Q(**{f"{field}__gte": today - datetime.timedelta(days=self.high)})
        return q


BUCKETS: tuple[Bucket, ...] = (
    Bucket("current", _("current"), None, 0),
    Bucket("1-30", "1-30", 1, 30),
    Bucket("31-60", "31-60", 31, 60),
    Bucket("61-90", "61-90", 61, 90),
    Bucket("91-180", "91-180", 91, 180),
    Bucket("181+", "181+", 181, None),
)
BUCKETS_BY_CODE = {bucket.code: bucket for bucket in BUCKETS}


def bucket_for(dpd: int | None) -> Bucket | None:
    """The bucket of a DPD; None for a paid account."""
    if dpd is None:
        return None
    return next(bucket for bucket in BUCKETS if bucket.contains(dpd))


class DaysPastDue(Func):
    """SQL: whole days from a date column to a date parameter (NULL when the column is NULL)."""

    # One expression, compiled per vendor: the ORM's date subtraction gives a duration, whose days SQLite
    # cannot extract (no native duration type). No benchmark.

    output_field = IntegerField()

    def __init__(self, today: datetime.date, field: str = "oldest_unpaid_due_date") -> None:
        super().__init__(Value(today), field)

    def as_postgresql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        """Date minus date is an integer number of days in PostgreSQL."""
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner="::date - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        """SQLite has no date type: subtract Julian day numbers."""
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def bucket_case(today: datetime.date, field: str = "oldest_unpaid_due_date") -> Case:
    """SQL: the bucket code of each row (NULL when paid)."""
    return Case(
        *[When(bucket.due_date_q(today, field), then=Value(bucket.code)) for bucket in BUCKETS],
        default=None,
    )
