"""The team lead's desk on first sign-in: a repayment plan awaiting lead1's decision and twelve months of figures.

The app can only snapshot the book as it is today, so the eleven earlier month ends are drawn here: each demo
account's DPD at a past month end is today's DPD less the days since, with a few accounts cured for a month
(deterministic, seeded by account number), so that buckets, roll rates and cures all have something to show.
The current month is snapshotted by the real job, and each month's figures are built by it from these rows and
from the activity of the demo's history (its calls and promises of the last weeks).
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef

from collections_app.account_rules import ProposedInstalment
from collections_app.dpd import bucket_for, days_past_due
from collections_app.models import AccountMonthSnapshot, LoanAccount, RepaymentPlan
from collections_app.services.plans import repayment_plan_propose
from collections_app.team.figures import month_shift, month_start
from collections_app.team.snapshots import account_snapshots_take, officer_day_activity_take, officer_month_figures_take

MONTHS = 12
# How many days of activity the demo's history reaches back (demo/accounts.py: up to 50 days).
ACTIVITY_DAYS = 60
# The share of overdue accounts shown as cured (current) at a past month end.
CURED_SHARE = 0.12
PLAN_OFFICER = "officer1"


def seed_team_desk_demo(*, users: dict[str, User], now: datetime.datetime, today: datetime.date) -> dict[str, int]:
    """Create the pending plan and the twelve months of snapshots and figures when missing; idempotent."""
    plans = _pending_plan(users[PLAN_OFFICER], now, today)
    if AccountMonthSnapshot.objects.exists():
        return {"pending plans": plans, "snapshots": 0}
    current = month_start(today)
    snapshots = _past_snapshots(today, [month_shift(current, -n) for n in range(MONTHS - 1, 0, -1)])
    snapshots += account_snapshots_take(as_of=today)
    for n in range(ACTIVITY_DAYS, -1, -1):
        officer_day_activity_take(day=today - datetime.timedelta(days=n))
    for n in range(MONTHS - 1, -1, -1):
        officer_month_figures_take(month=month_shift(current, -n))
    return {"pending plans": plans, "snapshots": snapshots}


def _pending_plan(officer: User, now: datetime.datetime, today: datetime.date) -> int:
    """Three monthly instalments proposed by officer1 on their most overdue account without a plan; 0 if one waits."""
    if RepaymentPlan.objects.filter(status=RepaymentPlan.Status.PROPOSED, created_by=officer).exists():
        return 0
    account = (
        LoanAccount.objects.filter(officer=officer, oldest_unpaid_due_date__lte=today - datetime.timedelta(days=30))
        .exclude(account_number__startswith="DEMO-")
        .exclude(Exists(RepaymentPlan.objects.filter(account=OuterRef("pk"))))
        .order_by("oldest_unpaid_due_date", "account_number")
        .first()
    )
    if account is None:
        return 0
    third = (account.outstanding / 3).quantize(Decimal("0.01"))
    amounts = [third, third, account.outstanding - 2 * third]
    instalments = [ProposedInstalment(today + datetime.timedelta(days=7 + 30 * n), amounts[n]) for n in range(3)]
    repayment_plan_propose(account=account, officer=officer, kind="instalments", instalments=instalments, now=now)
    return 1


def _past_snapshots(today: datetime.date, months: list[datetime.date]) -> int:
    """Each account at each past month's end, derived from its DPD today."""
    rows = []
    accounts = LoanAccount.objects.exclude(officer__isnull=True).order_by("pk")
    for account in accounts.values(
        "pk", "account_number", "officer_id", "portfolio_id", "outstanding", "oldest_unpaid_due_date"
    ):
        rng = random.Random(f"team-desk-{account['account_number']}")  # noqa: S311 - demo data, not security
        for month in months:
            end = month_shift(month, 1) - datetime.timedelta(days=1)
            dpd = days_past_due(account["oldest_unpaid_due_date"], end)
            if dpd is None:
                # Paid today: overdue at the earlier month ends, paid from a month drawn for it on.
                dpd = rng.randint(5, 70) if rng.random() < 0.5 else None
            if dpd is not None and dpd > 0 and rng.random() < CURED_SHARE:
                dpd = -rng.randint(1, 20)  # caught up that month, overdue again later
            bucket = bucket_for(dpd)
            rows.append(
                AccountMonthSnapshot(
                    account_id=account["pk"],
                    month=month,
                    officer_id=account["officer_id"],
                    portfolio_id=account["portfolio_id"],
                    bucket=bucket.code if bucket else AccountMonthSnapshot.PAID,
                    balance=account["outstanding"] if dpd is not None else Decimal("0"),
                    dpd=dpd,
                    as_of=end,
                )
            )
    AccountMonthSnapshot.objects.bulk_create(rows, batch_size=500)
    return len(rows)
