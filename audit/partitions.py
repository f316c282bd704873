"""Monthly partitions of the audit events and seq-range partitions of the chain entries (PostgreSQL).

Months are calendar months in the lender's time zone (TIME_ZONE), named `audit_auditevent_yYYYYmMM`; chain
partitions hold CHAIN_PARTITION_SIZE seqs each, named `audit_chainentry_sNNNNN`; both in the schema
`audit_partitions`, where the app has no privilege at all. Only the schema owner creates
them (`audit_partitions --ahead N`, and `migrate`), through the owner's functions of migration 0011, which give
each one what partitions do not inherit: fillfactor 50, a TRUNCATE refusal, and no privilege for the app.

An insert into a month with no partition fails, and the app fails closed (503 everywhere): so months are made
ahead, and the beat and /readyz only check that the current month and the next two exist.
"""

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.utils import timezone

# Where the partitions live: a schema nobody but the owner may use (migration 0011).
PARTITION_SCHEMA = "audit_partitions"
CHAIN_PARTITION_SIZE = 100_000_000
# The months that must exist: this one and the next two (what the beat checks and /readyz reports).
MONTHS_REQUIRED = 3
# What `migrate` makes ahead, beyond the current month.
MONTHS_AHEAD_ON_MIGRATE = 3


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def lender_month(at: datetime.datetime | None = None) -> datetime.date:
    """The first day of the lender's calendar month at `at` (now by default)."""
    day = (at or timezone.now()).astimezone(_zone()).date()
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    """The first day of the month `count` months after `month` (which is a first day)."""
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_partition(month: datetime.date) -> tuple[str, datetime.datetime, datetime.datetime]:
    """(partition name, first instant, first instant of the next month) of one calendar month."""
    zone = _zone()
    start = datetime.datetime(month.year, month.month, 1, tzinfo=zone)
    following = add_months(month, 1)
    end = datetime.datetime(following.year, following.month, 1, tzinfo=zone)
    return f"audit_auditevent_y{month.year:04d}m{month.month:02d}", start, end


def chain_partition(index: int) -> tuple[str, int | None, int]:
    """(partition name, first seq, end seq) of the `index`-th chain partition; the first one starts at no
    bound (None), so that no seq, however wrong, is refused by the partitioning rather than found by verify."""
    lower = index * CHAIN_PARTITION_SIZE if index else None
    return f"audit_chainentry_s{index:05d}", lower, (index + 1) * CHAIN_PARTITION_SIZE


def is_partitioned(using: str = "default") -> bool:
    """Whether audit_auditevent is partitioned here (PostgreSQL after migration 0011)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('audit_auditevent')")
        row = cursor.fetchone()
    return bool(row and row[0])


def attached_partitions(table: str, using: str = "default") -> set[str]:
    """The names of the partitions attached to `table`."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def _head_seq(cursor: Any) -> int:
    cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_chainhead")
    return cursor.fetchone()[0]


def partitions_make(
    *, first: datetime.date, last: datetime.date, using: str, chain_from: int | None = None
) -> list[str]:
    """As the owner (`using`): make every month's partition from `first` through `last`, and the chain
    partitions from the one holding seq `chain_from` (by default the head's next seq) through the one after
    the head's; the names made (none when all exist)."""
    made: list[str] = []
    with connections[using].cursor() as cursor:
        month = first
        while month <= last:
            name, start, end = month_partition(month)
            cursor.execute("SELECT audit_partition_create(%s, %s, %s)", [name, start, end])
            if cursor.fetchone()[0]:
                made.append(name)
            month = add_months(month, 1)
        current = (_head_seq(cursor) + 1) // CHAIN_PARTITION_SIZE
        start = current if chain_from is None else chain_from // CHAIN_PARTITION_SIZE
        for index in range(start, current + 2):
            cursor.execute("SELECT audit_chain_partition_create(%s, %s, %s)", list(chain_partition(index)))
            if cursor.fetchone()[0]:
                made.append(chain_partition(index)[0])
    return made


def partitions_status(using: str = "default") -> str:
    """`ok` when the current month and the next two have partitions and the chain has room for the next seqs
    (always on SQLite, which keeps one table); `short` otherwise."""
    if not is_partitioned(using):
        return "ok"
    this_month = lender_month()
    wanted = {month_partition(add_months(this_month, n))[0] for n in range(MONTHS_REQUIRED)}
    with connections[using].cursor() as cursor:
        current = (_head_seq(cursor) + 1) // CHAIN_PARTITION_SIZE
    chain = {chain_partition(index)[0] for index in (current, current + 1)}
    have = attached_partitions("audit_auditevent", using) | attached_partitions("audit_chainentry", using)
    return "ok" if wanted | chain <= have else "short"
