"""The retention job over a large book with a tenth of it due: at most 60 s for 1,000,000 accounts (issue 19).

Run from the repository root: `python bench/bench_retention.py` with DATABASE_URL (PostgreSQL). Size:
BENCH_RETENTION_ACCOUNTS (default 1,000,000; set 100,000 for a quick run). The throwaway database is
`bench_retention` (or TEST_DB_NAME). The book is support.py's (borrowers, accounts, three interactions each,
promises, call tasks) plus a contact per borrower; every tenth account is paid off and closed six years ago, with
its interactions' notes written and two messages (one to the borrower, one to the contact), and one due borrower
in a thousand is under a legal hold. Figures: the dry run, the real run (the goal; after a VACUUM, as autovacuum
would have cleaned up the dry run's rolled-back rows), and a second run, which must find nothing left. A real run
changes the book, so each size is measured once. BENCH_RETENTION_EXPLAIN=1 prints the plans of the slowest writes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_retention")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402
from support import CHUNK, analyze, book_fill, book_prepare, env_int, timed  # noqa: E402

ACCOUNTS = env_int("BENCH_RETENTION_ACCOUNTS", 1_000_000)
GOAL_SECONDS = 60.0
OFFICERS = 500
DUE_EVERY = 10
HOLD_EVERY = 1000
SHOW_SLOWEST = 8


def report(label: str, value: float, goal: float, unit: str, *, at_most: bool = False) -> None:
    """One figure, its goal and its ratio to the goal (above 1 meets it)."""
    ratio = goal / value if at_most else value / goal
    print(f"{label}: {value:,.2f} {unit}; goal {'<=' if at_most else '>='} {goal:,} {unit}; ratio {ratio:.2f}")


_EXTRA_STATEMENTS = (
    # A contact per borrower.
    """
    INSERT INTO collections_app_contact (borrower_id, name, relationship, phone, timezone, consent_basis)
    SELECT %(b0)s + g + 1, '亲属' || g, 'spouse', '+86136' || lpad(g::text, 8, '0'), 'Asia/Shanghai', 'bench'
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    """,
    # Every tenth account paid off six years ago.
    """
    UPDATE collections_app_loanaccount SET outstanding = 0, oldest_unpaid_due_date = NULL,
           closed_at = now() - interval '6 years'
    WHERE id BETWEEN %(a0)s + %(lo)s + 1 AND %(a0)s + %(hi)s AND (id - %(a0)s - 1) %% %(every)s = 0
    """,
    """
    UPDATE collections_app_interaction SET note = '借款人说下周还款，亲属' || account_id || '知情'
    WHERE account_id BETWEEN %(a0)s + %(lo)s + 1 AND %(a0)s + %(hi)s AND (account_id - %(a0)s - 1) %% %(every)s = 0
    """,
    # A reminder to each due borrower and a family message to their contact.
    """
    INSERT INTO collections_app_message (borrower_id, account_id, contact_id, audience, channel, recipient,
        recipient_timezone, body, status, status_reason, idempotency_key, not_before, send_date, attempts, last_error,
        sent_at, created_at, updated_at, template_version_id, policy_version_id)
    SELECT a.borrower_id, a.id, NULL, 'borrower', 'sms', b.phone, 'Asia/Shanghai', '您的账单已逾期，请尽快还款。',
           'sent', '', 'bench-r-' || a.id, now(), current_date, 1, '', now(), now(), now(), NULL, %(pv)s
    FROM collections_app_loanaccount a JOIN collections_app_borrower b ON b.id = a.borrower_id
    WHERE a.id BETWEEN %(a0)s + %(lo)s + 1 AND %(a0)s + %(hi)s AND a.closed_at IS NOT NULL
    """,
    """
    INSERT INTO collections_app_message (borrower_id, account_id, contact_id, audience, channel, recipient,
        recipient_timezone, body, status, status_reason, idempotency_key, not_before, send_date, attempts, last_error,
        sent_at, created_at, updated_at, template_version_id, policy_version_id)
    SELECT a.borrower_id, a.id, c.id, 'family', 'sms', c.phone, 'Asia/Shanghai', '您好，请转告您的亲友致电。',
           'sent', '', 'bench-f-' || a.id, now(), current_date, 1, '', now(), now(), now(), %(tv)s, %(pv)s
    FROM collections_app_loanaccount a JOIN collections_app_contact c ON c.borrower_id = a.borrower_id
    WHERE a.id BETWEEN %(a0)s + %(lo)s + 1 AND %(a0)s + %(hi)s AND a.closed_at IS NOT NULL
    """,
)


def _build() -> int:
    """The book, its contacts, closures, notes, messages and legal holds; returns how many borrowers are due."""
    from audit.models import LegalHold
    from collections_app.models import TemplateVersion

    per_officer = max(1, ACCOUNTS // OFFICERS)
    book = book_prepare(OFFICERS, per_officer)
    # A family message must name a template version; which one does not matter to the job.
    template_version = TemplateVersion.objects.order_by("pk").first()
    timed(f"book of {book.size:,} accounts", lambda: book_fill(book, 0, book.size))
    params = {
        "b0": book.borrower_base,
        "a0": book.account_base,
        "pv": book.policy_version_id,
        "tv": template_version.pk,
        "every": DUE_EVERY,
    }

    def extras() -> None:
        for start in range(0, book.size, CHUNK):
            chunk = {**params, "lo": start, "hi": min(start + CHUNK, book.size)}
            with connection.cursor() as cursor:
                for statement in _EXTRA_STATEMENTS:
                    cursor.execute(statement, chunk)

    timed("contacts, closures, notes and messages", extras)
    due = len(range(0, book.size, DUE_EVERY))
    LegalHold.objects.bulk_create(
        LegalHold(person=f"borrower:{book.borrower_base + g + 1}", reason="bench hold", set_by="bench")
        for g in range(0, book.size, DUE_EVERY * HOLD_EVERY)
    )
    timed("vacuum analyze", analyze)
    return due


def main() -> None:
    """Build, run dry, run for real, run again; print the figures."""
    from django.utils import timezone

    from collections_app.services.retention import retention_run

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        due = _build()
        now = timezone.now()
        started = time.perf_counter()
        dry = retention_run(now=now, dry_run=True)
        dry_seconds = time.perf_counter() - started
        print(f"dry run: {dry.counts} in {dry_seconds:.1f} s", flush=True)
        # What autovacuum does after the dry run's rolled-back writes, before the next day's real run.
        timed("vacuum analyze after the dry run", analyze)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            real = retention_run(now=now)
            seconds = time.perf_counter() - started
        print(f"real run: {real.counts} in {seconds:.1f} s, {len(queries)} statements; the slowest:", flush=True)
        by_kind: dict[str, float] = {}
        for query in queries.captured_queries:
            kind = " ".join(query["sql"].split()[:3])[:60]
            by_kind[kind] = by_kind.get(kind, 0.0) + float(query["time"])
        sql_seconds = sum(by_kind.values())
        print(f"    SQL {sql_seconds:.1f} s of the run; by statement kind:", flush=True)
        for kind, total in sorted(by_kind.items(), key=lambda item: -item[1])[:SHOW_SLOWEST]:
            print(f"    {total:8.2f} s  {kind}")
        slowest = sorted(queries.captured_queries, key=lambda query: -float(query["time"]))[:SHOW_SLOWEST]
        for query in slowest:
            print(f"    {float(query['time']) * 1000:8.1f} ms  {' '.join(query['sql'].split())[:200]}")
        if os.environ.get("BENCH_RETENTION_EXPLAIN"):
            for query in slowest[:3]:
                with connection.cursor() as cursor:
                    # The plan only (no ANALYZE): these are writes, and the run has made them already.
                    cursor.execute("EXPLAIN " + query["sql"])
                    print("      " + "\n      ".join(row[0] for row in cursor.fetchall()))
        started = time.perf_counter()
        again = retention_run(now=now)
        again_seconds = time.perf_counter() - started
        print(f"second run: {again.counts} in {again_seconds:.1f} s", flush=True)
        assert real.counts == dry.counts, "the dry run's counts differ from the real run's"
        assert real.counts["borrowers"] + real.counts["held"] == due, "not every due borrower was erased or held"
        assert not any(n for name, n in again.counts.items() if name != "held"), "a second run erased something more"
    finally:
        teardown_databases(old_config, verbosity=0)
    scaled_goal = GOAL_SECONDS * ACCOUNTS / 1_000_000
    report(f"retention run over {ACCOUNTS:,} accounts, {due:,} due", seconds, scaled_goal, "s", at_most=True)
    report("dry run (the same work, rolled back)", dry_seconds, scaled_goal, "s", at_most=True)
    print(f"second run (nothing left): {again_seconds:.1f} s")
    if ACCOUNTS != 1_000_000:
        print(f"projected to 1,000,000 accounts (linear, not measured): {seconds * 1_000_000 / ACCOUNTS:.0f} s")


if __name__ == "__main__":
    main()
