"""The team lead's dashboard: twelve months of the team's (or one officer's) figures, in a fixed number of queries.

It reads the month figures the nightly job wrote (`OfficerMonthFigure`), summed over the officers in SQL, never
the book: three queries (the team's officers, the figures, the plans awaiting a decision) whatever its size.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from collections_app.dpd import BUCKETS
from collections_app.models import AccountMonthSnapshot, BorrowerFlag, LoanAccount, OfficerMonthFigure, RepaymentPlan
from collections_app.selectors.accounts import User as AnyUser
from collections_app.team import charts
from collections_app.team.activity import COMPLIANCE_EXCEPTION, SUPPRESSED_PREFIX, activity_providers
from collections_app.team.figures import Figure, FigureTable, month_shift, month_start, rate
from collections_app.team.scope import team_plans_for_lead

DASHBOARD_MONTHS = 12
PLANS_SHOWN = 20
# Accounts of the team whose borrower is flagged vulnerable or represented: shown first, at most this many.
FLAGGED_SHOWN = 50
BUCKET_LABELS: dict[str, str | Promise] = {
    **{bucket.code: bucket.label for bucket in BUCKETS},
    AccountMonthSnapshot.PAID: _("paid"),
}
OVERDUE_BUCKETS = tuple(bucket.code for bucket in BUCKETS if bucket.low is not None and bucket.low > 0)
CURED_BUCKETS = ("current", AccountMonthSnapshot.PAID)
# Roll forward: from each bucket to the next worse one.
ROLL_STEPS = tuple(zip([b.code for b in BUCKETS[:-1]], [b.code for b in BUCKETS[1:]], strict=True))


@dataclass(frozen=True)
class Cell:
    """One figure as a table shows it: its value, the accounts behind it (a link) and an optional rate."""

    figure: Figure
    href: str
    percent: float | None = None


@dataclass(frozen=True)
class MonthRow:
    """A month's line of a table: its cells in the table's column order."""

    month: datetime.date
    cells: list[Cell]


@dataclass
class Dashboard:
    """Everything /team/ shows."""

    officers: list[User]
    officer: User | None
    months: list[datetime.date]
    figures: FigureTable
    bucket_rows: list[MonthRow]
    roll_rows: list[MonthRow]
    activity_rows: list[MonthRow]
    message_rows: list[tuple[str, str | Promise, list[Cell]]]
    charts: dict[str, charts.Chart]
    pending_plans: list[RepaymentPlan]
    pending_more: bool
    # Accounts whose borrower has an open flag (`flag_kind`, `flagged_at` annotated): the lead's list to watch.
    flagged: list[LoanAccount] = field(default_factory=list)
    flagged_more: bool = False
    sections: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def bucket_labels(self) -> list[str | Promise]:
        """The bucket columns' headings."""
        return list(BUCKET_LABELS.values())

    @property
    def roll_labels(self) -> list[str]:
        """The roll columns' headings, `from → to`."""
        return [f"{BUCKET_LABELS[a]} → {BUCKET_LABELS[b]}" for a, b in ROLL_STEPS]


def dashboard_months(today: datetime.date) -> list[datetime.date]:
    """The first days of the twelve months up to `today`'s, oldest first."""
    current = month_start(today)
    return [month_shift(current, -offset) for offset in range(DASHBOARD_MONTHS - 1, -1, -1)]


def figure_link(kind: str, key: str, month: datetime.date, officer: User | None) -> str:
    """The URL of the accounts behind one figure."""
    query = {"figure": kind, "key": key, "month": month.strftime("%Y-%m")}
    if officer is not None:
        query["officer"] = officer.username
    return f"{reverse('team:accounts')}?{urlencode(query)}"


def team_figures(
    officer_ids: list[int], months: list[datetime.date], *, per_officer: bool = False
) -> Iterator[dict[str, Any]]:
    """The month figures of these officers over `months`, summed over them (or one row per officer): one query."""
    columns = ("month", "officer__username", "kind", "key") if per_officer else ("month", "kind", "key")
    return iter(
        OfficerMonthFigure.objects.filter(officer_id__in=officer_ids, month__gte=months[0], month__lte=months[-1])
        .order_by(*columns)
        .values(*columns)
        .annotate(total=Sum("count"), money=Sum("amount"))
    )


def flagged_accounts(officer_ids: list[int]) -> list[LoanAccount]:
    """These officers' accounts whose borrower is flagged vulnerable or represented (an open flag), oldest flag
    first, one more than shown: one query, whatever the size of the book."""
    open_flags = BorrowerFlag.objects.filter(borrower=OuterRef("borrower_id"), closed_at__isnull=True).order_by(
        "opened_at"
    )
    return list(
        LoanAccount.objects.filter(officer_id__in=officer_ids)
        .annotate(flag_kind=Subquery(open_flags.values("kind")[:1]))
        .annotate(flagged_at=Subquery(open_flags.values("opened_at")[:1]))
        .filter(flag_kind__isnull=False)
        .select_related("officer")
        .order_by("flagged_at", "pk")[: FLAGGED_SHOWN + 1]
    )


def team_dashboard_get(*, lead: AnyUser, officer: User | None, officers: list[User], today: datetime.date) -> Dashboard:
    """The dashboard of the lead's team, or of one of its officers (`officer`, already checked to be in the team)."""
    months = dashboard_months(today)
    ids = [officer.pk] if officer is not None else [member.pk for member in officers]
    table = FigureTable(
        (row["month"], row["kind"], row["key"], row["total"] or 0, row["money"] or Decimal("0"))
        for row in team_figures(ids, months)
    )
    pending = list(
        team_plans_for_lead(lead)
        .filter(status=RepaymentPlan.Status.PROPOSED, **({"account__officer": officer} if officer else {}))
        .select_related("account", "created_by")
        .order_by("agreed_at", "pk")[: PLANS_SHOWN + 1]
    )

    flagged = flagged_accounts(ids)

    def link(kind: str, key: str, month: datetime.date) -> str:
        return figure_link(kind, key, month, officer)

    dashboard = Dashboard(
        officers=officers,
        officer=officer,
        months=months,
        figures=table,
        bucket_rows=[_bucket_row(table, month, link) for month in months],
        roll_rows=[_roll_row(table, month, link) for month in months],
        activity_rows=[_activity_row(table, month, link) for month in months],
        message_rows=_message_rows(table, months, link),
        charts={},
        pending_plans=pending[:PLANS_SHOWN],
        pending_more=len(pending) > PLANS_SHOWN,
        flagged=flagged[:FLAGGED_SHOWN],
        flagged_more=len(flagged) > FLAGGED_SHOWN,
        sections=[
            (provider.section_template, provider.section_context(months, table, link))
            for provider in activity_providers()
        ],
    )
    dashboard.charts = _charts(dashboard)
    return dashboard


def _bucket_row(table: FigureTable, month: datetime.date, link: Any) -> MonthRow:
    cells = [Cell(table.get(month, "bucket", code), link("bucket", code, month)) for code in BUCKET_LABELS]
    return MonthRow(month, cells)


def _roll_row(table: FigureTable, month: datetime.date, link: Any) -> MonthRow:
    """Roll-forward rates into the next bucket, then the cure rate (overdue at the start, current or paid at end)."""
    cells = []
    for start, worse in ROLL_STEPS:
        started = sum(table.get(month, "roll", f"{start}>{to}").count for to in BUCKET_LABELS)
        rolled = table.get(month, "roll", f"{start}>{worse}")
        cells.append(Cell(rolled, link("roll", f"{start}>{worse}", month), rate(rolled.count, started)))
    overdue = sum(table.get(month, "roll", f"{start}>{to}").count for start in OVERDUE_BUCKETS for to in BUCKET_LABELS)
    cured = sum(table.get(month, "roll", f"{start}>{to}").count for start in OVERDUE_BUCKETS for to in CURED_BUCKETS)
    cells.append(Cell(Figure(cured), link("cure", "cured", month), rate(cured, overdue)))
    return MonthRow(month, cells)


# The activity table's columns: (kind, key) of each count; rates follow the counts they divide.
ACTIVITY_COLUMNS = (
    ("calls", "attempts"),
    ("calls", "connected"),
    ("promises", "made"),
    ("promises", "kept"),
    ("promises", "broken"),
    ("exceptions", COMPLIANCE_EXCEPTION),
)


def _activity_row(table: FigureTable, month: datetime.date, link: Any) -> MonthRow:
    cells = [Cell(table.get(month, kind, key), link(kind, key, month)) for kind, key in ACTIVITY_COLUMNS]
    attempts, connected, _, kept, broken, _ = (cell.figure.count for cell in cells)
    # The right-party contact rate rides on the connected calls' cell, the kept rate on the kept promises'.
    cells[1] = Cell(cells[1].figure, cells[1].href, rate(connected, attempts))
    cells[3] = Cell(cells[3].figure, cells[3].href, rate(kept, kept + broken))
    return MonthRow(month, cells)


MESSAGE_LABELS: dict[str, str | Promise] = {"sent": _("sent"), "failed": _("failed"), "pending": _("not yet sent")}


def _message_rows(
    table: FigureTable, months: list[datetime.date], link: Any
) -> list[tuple[str, str | Promise, list[Cell]]]:
    """Messages by outcome for this month, last month and the twelve months; suppressions by their reason."""
    keys = [key for key in MESSAGE_LABELS] + [
        key for key in table.keys("messages") if key.startswith(SUPPRESSED_PREFIX)
    ]
    rows = []
    for key in keys:
        label = MESSAGE_LABELS.get(key) or key.removeprefix(SUPPRESSED_PREFIX)
        cells = [Cell(table.get(month, "messages", key), link("messages", key, month)) for month in months[-2:][::-1]]
        cells.append(Cell(table.total(months, "messages", key), ""))
        rows.append((key, label, cells))
    return rows


def _charts(dashboard: Dashboard) -> dict[str, charts.Chart]:
    """The four charts, drawn from the tables' cells (so each mark links where its table cell does)."""
    months = dashboard.months
    codes = list(BUCKET_LABELS)
    accounts = [
        charts.Series(
            code,
            BUCKET_LABELS[code],
            [row.cells[i].figure.count for row in dashboard.bucket_rows],
            [row.cells[i].href for row in dashboard.bucket_rows],
        )
        for i, code in enumerate(codes)
    ]
    balances = [
        charts.Series(
            code,
            BUCKET_LABELS[code],
            charts.money([row.cells[i].figure.amount for row in dashboard.bucket_rows]),
            [row.cells[i].href for row in dashboard.bucket_rows],
        )
        for i, code in enumerate(codes)
    ]
    rolls = [
        charts.Series(
            start,
            label,
            [row.cells[i].percent for row in dashboard.roll_rows],
            [row.cells[i].href for row in dashboard.roll_rows],
        )
        for i, ((start, _), label) in enumerate(zip(ROLL_STEPS, dashboard.roll_labels, strict=True))
    ]
    rates = [
        charts.Series(
            "contact",
            _("right-party contact rate"),
            [row.cells[1].percent for row in dashboard.activity_rows],
            [row.cells[1].href for row in dashboard.activity_rows],
        ),
        charts.Series(
            "kept",
            _("promises kept"),
            [row.cells[3].percent for row in dashboard.activity_rows],
            [row.cells[3].href for row in dashboard.activity_rows],
        ),
        charts.Series(
            "cure",
            _("cure rate"),
            [row.cells[-1].percent for row in dashboard.roll_rows],
            [row.cells[-1].href for row in dashboard.roll_rows],
        ),
    ]
    return {
        "accounts": charts.stacked_bars(months, accounts),
        "balances": charts.stacked_bars(months, balances),
        "rolls": charts.lines(months, rolls),
        "rates": charts.lines(months, rates),
    }
