"""The caseload and account pages over a book of 1,000,000 accounts: queries per page, median and p95 time.

Run from the repository root: `python bench/bench_caseload.py` with `DATABASE_URL` set (PostgreSQL). It builds
its own throwaway database (`bench_caseload`, or `TEST_DB_NAME`) and a book of `BENCH_OFFICERS` x
`BENCH_PER_OFFICER` accounts (default 500 x 2,000 = 1,000,000, as in PERFORMANCE.md), each with a borrower,
the officer's object permission, `BENCH_INTERACTIONS` interactions (default 3), a promise on every third and an
open call task on every tenth, all by INSERT ... SELECT with every constraint and trigger in force. It first
measures each page's query count with the measured officer's book at `BENCH_SMALL` accounts (default 1,000),
then grows the book to full size and times `BENCH_RUNS` requests per page (default 30) through Django's test
client: server time without the network, including authentication, the audit write and rendering. It also times
the scope query alone, the `pk__in` subquery on the direct-FK permission table against guardian's
`get_objects_for_user` (PERFORMANCE.md: about 10x apart). Exit 1 if a page's query count grew with the book.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_caseload")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from bench.support import (  # noqa: E402
    analyze,
    book_fill,
    book_prepare,
    diagnose,
    env_int,
    figure_line,
    in_test_database,
    measure,
    p95,
    timed,
)

OFFICERS = env_int("BENCH_OFFICERS", 500)
PER_OFFICER = env_int("BENCH_PER_OFFICER", 2_000)
SMALL = env_int("BENCH_SMALL", 1_000)
INTERACTIONS = env_int("BENCH_INTERACTIONS", 3)
RUNS = env_int("BENCH_RUNS", 30)
# Server-time goal per page (ms, median): the 150 ms at 1,000,000 accounts.
GOAL_MS = 150.0


def time_call(func: object, runs: int) -> list[float]:
    """Server times (ms) of `runs` calls of `func`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    """Build the database, measure each page, print the figures; exit 1 only if a query count grew with the book."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=OFFICERS)
    parser.add_argument("--per-officer", type=int, default=PER_OFFICER)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()

    return in_test_database(lambda: run(args.officers, args.per_officer, args.runs))


def run(officer_count: int, per_officer: int, runs: int) -> int:
    """Count each page's queries at the small book, grow the book to full size, then time every page."""
    from django.contrib.auth.models import User

    book = book_prepare(officer_count, per_officer)
    # The measured officer sits in the middle of the book; the small book is the first SMALL of its accounts.
    middle = officer_count // 2
    first, small = middle * per_officer, min(SMALL, per_officer)
    officer = User.objects.get(pk=book.officer_ids[middle])
    client = Client()
    client.force_login(officer)
    account_id = book.account_id(first)  # DPD -5, in the small book too
    pages = {
        "caseload": "/cases/",
        "caseload_bucket": "/cases/?bucket=31-60",
        "caseload_search": f"/cases/?q={first % 100_000:05d}",
        "caseload_deep": f"/cases/?page={max(per_officer // 50 - 1, 1)}",
        "account": f"/cases/{account_id}/",
    }

    book_fill(book, first, first + small, interactions=INTERACTIONS)
    analyze()
    few = {name: measure(client, url, 1).queries for name, url in pages.items()}

    started = time.perf_counter()
    timed("accounts before the measured officer's", lambda: book_fill(book, 0, first, interactions=INTERACTIONS))
    timed("the rest", lambda: book_fill(book, first + small, book.size, interactions=INTERACTIONS))
    timed("VACUUM ANALYZE", analyze)
    print(
        f"accounts: {book.size:,} ({officer_count} officers x {per_officer:,}), built in "
        f"{time.perf_counter() - started:.0f} s; {runs} timed requests per page; small book: {small:,} accounts",
        flush=True,
    )

    grew = []
    for name, url in pages.items():
        measured = measure(client, url, runs)
        print(figure_line(f"caseload_{name}", measured, few[name], f"{small:,} accounts", GOAL_MS), flush=True)
        diagnose(client, url, slow=statistics.median(measured.times) > GOAL_MS)
        if measured.queries != few[name]:
            grew.append(name)

    scope_figures(officer, runs)
    if grew:
        print("query count grew with the book: " + ", ".join(grew), file=sys.stderr)
        return 1
    return 0


def scope_figures(officer: object, runs: int) -> None:
    """The scope query alone, alternating the two variants so drift hits both alike."""
    from guardian.shortcuts import get_objects_for_user

    from collections_app.models import LoanAccount
    from collections_app.selectors.accounts import loan_accounts_for_user

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


if __name__ == "__main__":
    sys.exit(main())
