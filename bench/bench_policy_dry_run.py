"""The dry run of a policy change (`review.dry_run.policy_dry_run`) over a book of 1,000,000 accounts.

Run from the repository root: `python bench/bench_policy_dry_run.py` with `DATABASE_URL` set (PostgreSQL). It
builds its own throwaway database (`bench_policy_dry_run`, or `TEST_DB_NAME`) and a book of `BENCH_OFFICERS` x
`BENCH_PER_OFFICER` accounts (default 500 x 2,000 = 1,000,000) under cn-default (bench/support.py: DPD spread over
-5..224, a promise on every third account, `BENCH_INTERACTIONS` unanswered calls each, default 5, over the last
weeks), each borrower with one consenting family contact (every 20th opted out). It first counts the dry run's
queries on a small book (`BENCH_SMALL`, default 1,000), then times `BENCH_RUNS` dry runs (default 3) of a proposal
that moves both ways (family contact from DPD 45 with four failed attempts on two days; a shorter in-app run-up
and other SMS days) and prints the median with its ratio to the goal: at most 30 s at 1,000,000 accounts (issue 17).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_policy_dry_run")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.support import CHUNK, Book, analyze, book_fill, book_prepare, env_int, in_test_database, timed  # noqa: E402

# The proposal the dry-run tests check against the Python rules: it moves eligibility and the ladder both ways.
from tests.review.test_policy_dry_run import PROPOSAL  # noqa: E402

OFFICERS = env_int("BENCH_OFFICERS", 500)
PER_OFFICER = env_int("BENCH_PER_OFFICER", 2_000)
SMALL = env_int("BENCH_SMALL", 1_000)
INTERACTIONS = env_int("BENCH_INTERACTIONS", 5)
RUNS = env_int("BENCH_RUNS", 3)
GOAL_SECONDS = 30.0

CONTACTS_SQL = """
INSERT INTO collections_app_contact (borrower_id, name, relationship, phone, timezone, consent_basis, consent_at)
SELECT %(b0)s + g + 1, '亲属' || g, 'parent', '+86136' || lpad(g::text, 8, '0'), 'Asia/Shanghai',
       'registered at application', %(now)s::timestamptz - interval '300 days'
FROM generate_series(%(lo)s, %(hi)s - 1) AS g
"""
OPT_OUTS_SQL = """
INSERT INTO collections_app_phoneoptout (phone, source, received_at)
SELECT '+86136' || lpad(g::text, 8, '0'), 'sms_reply', %(now)s::timestamptz - interval '3 days'
FROM generate_series(%(lo)s, %(hi)s - 1) AS g
WHERE g %% 20 = 0
"""


def report(label: str, value: float, goal: float, unit: str) -> None:
    """One figure, its goal and its ratio to the goal (at most 1 meets it)."""
    print(f"{label}: {value:,.2f} {unit}; goal <= {goal:,} {unit}; figure/goal {value / goal:.2f} (<= 1 meets it)")


def fill(book: Book, lo: int, hi: int) -> None:
    """Accounts `lo` <= g < `hi` of the book, each borrower with one family contact."""
    book_fill(book, lo, hi, interactions=INTERACTIONS)
    for start in range(lo, hi, CHUNK):
        params = {"b0": book.borrower_base, "now": book.now, "lo": start, "hi": min(start + CHUNK, hi)}
        with connection.cursor() as cursor:
            cursor.execute(CONTACTS_SQL, params)
            cursor.execute(OPT_OUTS_SQL, params)


def proposed_version():
    """cn-default's version in force with the proposal's values, unsaved (as a proposal would hold it)."""
    from collections_app.models import PolicyProfile, PolicyVersion

    profile = PolicyProfile.objects.get(code="cn-default")
    version = PolicyVersion.objects.get(pk=profile.current_version.pk)
    version.pk, version.version = None, version.version + 1
    for name, value in PROPOSAL.items():
        setattr(version, name, value)
    return profile, version


def run() -> int:
    """Build the book, count the queries on a small one, time the dry run on the full one."""
    from review.dry_run import policy_dry_run

    book = book_prepare(OFFICERS, PER_OFFICER)
    small = min(SMALL, book.size)
    timed(f"small book of {small:,} accounts", lambda: (fill(book, 0, small), analyze()))
    profile, proposed = proposed_version()
    with CaptureQueriesContext(connection) as captured:
        policy_dry_run(profile=profile, proposed=proposed, now=book.now)
    small_queries = len(captured)
    timed(f"the rest of the book, {book.size - small:,} accounts", lambda: fill(book, small, book.size))
    timed("VACUUM ANALYZE", analyze)
    times = []
    for _ in range(RUNS):
        profile, proposed = proposed_version()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = policy_dry_run(profile=profile, proposed=proposed, now=book.now)
            times.append(time.perf_counter() - started)
        print(
            f"  dry run: {result.accounts:,} accounts, eligible {result.eligible_now:,} -> {result.eligible_proposed:,}"
            f" (+{result.become_eligible.count:,} -{result.become_ineligible.count:,}); ladder messages"
            f" +{result.messages_added.count:,} -{result.messages_dropped.count:,}; {len(captured)} queries"
            f" (at {small:,} accounts: {small_queries}) in {times[-1]:.1f} s",
            flush=True,
        )
    slow = [f"{float(q['time']):.2f}" for q in captured.captured_queries if float(q["time"]) > 0.05]
    print(f"  statements over 50 ms in the last run (s): {', '.join(slow)}", flush=True)
    if os.environ.get("BENCH_EXPLAIN"):
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:2]
        with connection.cursor() as cursor:
            for query in slowest:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()), flush=True)
    median = statistics.median(times)
    scaled_goal = GOAL_SECONDS * book.size / 1_000_000
    report(
        f"policy dry run over {book.size:,} accounts (median of {RUNS}, spread {max(times) - min(times):.1f} s)",
        median,
        scaled_goal,
        "s",
    )
    if book.size != 1_000_000:
        projected = median * 1_000_000 / book.size
        print(f"projected to 1,000,000 accounts (linear, not measured): {projected:.1f} s against the goal of 30 s")
    return 0 if len(captured) == small_queries else 1


def main() -> int:
    """Build the database, measure, print the figures; exit 1 if the query count grew with the book."""
    return in_test_database(run)


if __name__ == "__main__":
    sys.exit(main())
