"""The nightly, set-based job behind the team lead's dashboard; every step is idempotent.

For a day D (by default yesterday, in the lender's time zone), in one transaction:
1. every account's snapshot of D's month is written as of D (`INSERT ... SELECT ... ON CONFLICT DO UPDATE`,
   one statement for the whole book, on PostgreSQL and SQLite alike), so the last run in a month leaves the
   month's closing snapshot, and a second run of the same day rewrites the same rows;
2. D's activity per officer replaces whatever an earlier run counted for D;
3. the month's figures per officer (accounts and balances by bucket, rolls from the previous month's bucket,
   and the month's activity summed) replace the month's earlier figures.
The dashboard reads step 3's table alone: its size grows with officers and months, not with the book.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import DateField, Value
from django.db.models.functions import Coalesce

from collections_app.dpd import DaysPastDue, bucket_case, lender_today
from collections_app.models import AccountMonthSnapshot, LoanAccount, OfficerDayActivity, OfficerMonthFigure
from collections_app.team.activity import activity_day_rows
from collections_app.team.figures import month_shift, month_start

SNAPSHOT_COLUMNS = ("account_id", "month", "officer_id", "portfolio_id", "bucket", "balance", "dpd", "as_of")
FIGURE_COLUMNS = "month, officer_id, kind, key, count, amount"


@dataclass(frozen=True)
class SnapshotRun:
    """What one run wrote: the day and month it took, and how many rows of each table."""

    day: datetime.date
    month: datetime.date
    snapshots: int
    activity_rows: int
    figures: int


def team_snapshot_take(*, day: datetime.date | None = None) -> SnapshotRun:
    """Take the snapshots, the day's activity and the month's figures for `day` (default: yesterday)."""
    day = day or lender_today() - datetime.timedelta(days=1)
    month = month_start(day)
    with transaction.atomic():
        snapshots = account_snapshots_take(as_of=day)
        activity = officer_day_activity_take(day=day)
        figures = officer_month_figures_take(month=month)
    return SnapshotRun(day=day, month=month, snapshots=snapshots, activity_rows=activity, figures=figures)


def account_snapshots_take(*, as_of: datetime.date) -> int:
    """Upsert every account's snapshot of `as_of`'s month: officer, portfolio, bucket, balance and DPD as of that day.

    The SELECT is the ORM's, built from the one definition of DPD and buckets (`collections_app.dpd`); a paid
    account's bucket is `paid`. Returns the number of accounts written.
    """
    month = month_start(as_of)
    book = (
        LoanAccount.objects.order_by()
        .annotate(
            snap_month=Value(month, output_field=DateField()),
            snap_bucket=Coalesce(bucket_case(as_of), Value(AccountMonthSnapshot.PAID)),
            snap_dpd=DaysPastDue(as_of),
            snap_as_of=Value(as_of, output_field=DateField()),
        )
        .values_list(
            "pk", "snap_month", "officer_id", "portfolio_id", "snap_bucket", "outstanding", "snap_dpd", "snap_as_of"
        )
    )
    select, params = book.query.sql_with_params()
    table = AccountMonthSnapshot._meta.db_table
    updates = ", ".join(f"{column} = excluded.{column}" for column in SNAPSHOT_COLUMNS[2:])
    # `WHERE true` keeps SQLite from reading ON CONFLICT as a join's ON clause.
    statement = (
        f"INSERT INTO {table} ({', '.join(SNAPSHOT_COLUMNS)}) SELECT * FROM ({select}) AS book WHERE true "  # noqa: S608
        f"ON CONFLICT (account_id, month) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def officer_day_activity_take(*, day: datetime.date) -> int:
    """Replace every officer's activity figures of `day`; returns how many rows were written."""
    rows = activity_day_rows(day)
    OfficerDayActivity.objects.filter(day=day).delete()
    OfficerDayActivity.objects.bulk_create(
        (
            OfficerDayActivity(
                day=day, officer_id=row.officer_id, kind=row.kind, key=row.key, count=row.count, amount=row.amount
            )
            for row in rows
            if row.count
        ),
        batch_size=1000,
    )
    return OfficerDayActivity.objects.filter(day=day).count()


def officer_month_figures_take(*, month: datetime.date) -> int:
    """Replace the month's figures of every officer: buckets and rolls from the snapshots, activity from the days."""
    snapshot = AccountMonthSnapshot._meta.db_table
    day_activity = OfficerDayActivity._meta.db_table
    figure = OfficerMonthFigure._meta.db_table
    statements = [
        (
            f"INSERT INTO {figure} ({FIGURE_COLUMNS}) "  # noqa: S608 - the models' own table names
            f"SELECT %s, officer_id, 'bucket', bucket, COUNT(*), SUM(balance) FROM {snapshot} "
            "WHERE month = %s AND officer_id IS NOT NULL GROUP BY officer_id, bucket",
            [month, month],
        ),
        (
            # A roll: the account's bucket at the end of the previous month and at the end of this one.
            f"INSERT INTO {figure} ({FIGURE_COLUMNS}) "  # noqa: S608
            f"SELECT %s, cur.officer_id, 'roll', prev.bucket || '>' || cur.bucket, COUNT(*), SUM(cur.balance) "
            f"FROM {snapshot} cur JOIN {snapshot} prev ON prev.account_id = cur.account_id AND prev.month = %s "
            "WHERE cur.month = %s AND cur.officer_id IS NOT NULL GROUP BY cur.officer_id, prev.bucket, cur.bucket",
            [month, month_shift(month, -1), month],
        ),
        (
            f"INSERT INTO {figure} ({FIGURE_COLUMNS}) "  # noqa: S608
            f"SELECT %s, officer_id, kind, key, SUM(count), SUM(amount) FROM {day_activity} "
            "WHERE day >= %s AND day < %s GROUP BY officer_id, kind, key",
            [month, month, month_shift(month, 1)],
        ),
    ]
    OfficerMonthFigure.objects.filter(month=month).delete()
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    return OfficerMonthFigure.objects.filter(month=month).count()
