"""The caseload and account pages over a large book: queries per page, median and p95 server time.

Run from the repository root: `python bench/bench_caseload.py [--officers N] [--per-officer N] [--runs N]` with
`DATABASE_URL` set (PostgreSQL). It builds its own throwaway database (`bench_caseload`, or `TEST_DB_NAME`),
gives each of N officers their own caseload (default 50 x 2,000 = 100,000 accounts, with interactions and
promises), then times each page through Django's test client: server time without the network, including
authentication, the audit write and rendering. It also times the scope query alone, the `pk__in` subquery on
the direct-FK permission table against guardian's `get_objects_for_user` (PERFORMANCE.md: about 10x apart).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_caseload")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
)
from django.utils import timezone  # noqa: E402

from bench.support import in_test_database, p95  # noqa: E402

# Server-time goals per page (ms, median); the ratio printed is figure / goal (below 1 is better).
GOALS_MS = {"caseload": 150.0, "caseload_bucket": 150.0, "caseload_search": 150.0, "caseload_deep": 150.0}
GOALS_MS["account"] = 150.0


def populate(officers: list[User], per_officer: int) -> None:
    """Bulk-create `per_officer` accounts for each officer, their permissions, interactions and promises."""
    from collections_app.dpd import lender_today
    from collections_app.models import (
        Borrower,
        Interaction,
        LoanAccount,
        LoanAccountUserObjectPermission,
        PolicyProfile,
        Portfolio,
        PromiseToPay,
    )
    from collections_app.services.accounts import work_permission

    profile = PolicyProfile.objects.get(code="cn-default")
    portfolios = [
        Portfolio.objects.get_or_create(code=code, defaults={"name": code, "policy_profile": profile})[0]
        for code in ("bench-north", "bench-south", "bench-east", "bench-west")
    ]
    permission = work_permission()
    today = lender_today()
    now = timezone.now()
    for n, officer in enumerate(officers):
        start = n * per_officer
        borrowers = Borrower.objects.bulk_create(
            Borrower(external_ref=f"BENCH{start + i:08d}", name=f"测试{i}", phone=f"+86137{start + i:08d}")
            for i in range(per_officer)
        )
        accounts = LoanAccount.objects.bulk_create(
            LoanAccount(
                account_number=f"BENCH-{start + i:08d}",
                borrower=borrower,
                portfolio=portfolios[i % len(portfolios)],
                officer=officer,
                principal=Decimal("5000.00"),
                outstanding=Decimal("4000.00") + i % 900,
                oldest_unpaid_due_date=today - datetime.timedelta(days=i % 230 - 5),
            )
            for i, borrower in enumerate(borrowers)
        )
        LoanAccountUserObjectPermission.objects.bulk_create(
            LoanAccountUserObjectPermission(user=officer, permission=permission, content_object=account)
            for account in accounts
        )
        Interaction.objects.bulk_create(
            Interaction(
                account=account,
                officer=officer,
                outcome="no_answer",
                occurred_at=now - datetime.timedelta(hours=i % 500 + k * 24),
            )
            for i, account in enumerate(accounts)
            for k in range(3)
        )
        PromiseToPay.objects.bulk_create(
            PromiseToPay(
                account=account,
                promised_date=today + datetime.timedelta(days=i % 9 - 4),
                amount=Decimal("300"),
                created_by=officer,
            )
            for i, account in enumerate(accounts)
            if i % 3 == 0
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: Client, url: str, runs: int) -> tuple[int, list[float]]:
    """Queries of one request and server times (ms) of `runs` requests to `url`."""
    client.get(url)  # warm: the session's first request writes a few rows once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    count = len(queries)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return count, times


def time_call(func: object, runs: int) -> list[float]:
    """Server times (ms) of `runs` calls of `func`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    """Build the database, measure each page, print the figures; exit 0 (slow results are reported, not failed)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--per-officer", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    return in_test_database(lambda: run(args.officers, args.per_officer, args.runs))


def run(officer_count: int, per_officer: int, runs: int) -> int:
    from guardian.shortcuts import get_objects_for_user

    from access.roles import CASE_OFFICER
    from collections_app.models import LoanAccount
    from collections_app.selectors.accounts import loan_accounts_for_user

    group = Group.objects.get(name=CASE_OFFICER)
    officers = []
    for n in range(officer_count):
        officer = User.objects.create_user(f"bench-officer-{n}")
        officer.groups.add(group)
        officers.append(officer)

    started = time.perf_counter()
    populate(officers, per_officer)
    print(
        f"accounts: {LoanAccount.objects.count()} ({officer_count} officers x {per_officer}), "
        f"built in {time.perf_counter() - started:.0f} s; {runs} timed requests per page"
    )

    officer = officers[officer_count // 2]
    client = Client()
    client.force_login(officer)
    account = loan_accounts_for_user(officer).order_by("oldest_unpaid_due_date").first()
    pages = {
        "caseload": "/cases/",
        "caseload_bucket": "/cases/?bucket=31-60",
        "caseload_search": f"/cases/?q={account.account_number[-5:]}",
        "caseload_deep": f"/cases/?page={max(per_officer // 50 - 1, 1)}",
        "account": f"/cases/{account.pk}/",
    }
    for name, url in pages.items():
        queries, times = measure(client, url, runs)
        median = statistics.median(times)
        print(
            f"caseload_{name}: queries={queries} median_ms={median:.1f} p95_ms={p95(times):.1f} "
            f"min_ms={min(times):.1f} max_ms={max(times):.1f} ratio_to_goal={median / GOALS_MS[name]:.2f}"
        )

    # The scope query alone, alternating the two variants so drift hits both alike.
    subquery_times: list[float] = []
    guardian_times: list[float] = []
    for _ in range(runs):
        subquery_times += time_call(lambda: loan_accounts_for_user(officer).count(), 1)
        guardian_times += time_call(
            lambda: get_objects_for_user(
                officer, "collections_app.work_loanaccount", klass=LoanAccount, accept_global_perms=False
            ).count(),
            1,
        )
    sub, guard = statistics.median(subquery_times), statistics.median(guardian_times)
    print(
        f"caseload_scope_count: subquery_median_ms={sub:.2f} (p95 {p95(subquery_times):.2f}) "
        f"guardian_median_ms={guard:.2f} (p95 {p95(guardian_times):.2f}) ratio_subquery_to_guardian={sub / guard:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
