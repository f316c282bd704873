"""The review queue and one request's page over a book of 1,000,000 accounts: queries, median and p95 time.

Run from the repository root: `python bench/bench_review.py` with `DATABASE_URL` set (PostgreSQL). It builds its
own throwaway database (`bench_review`, or `TEST_DB_NAME`) and a book of `BENCH_OFFICERS` x `BENCH_PER_OFFICER`
accounts (default 500 x 2,000 = 1,000,000), each borrower with `BENCH_CONTACTS` family contacts (default 2),
then `BENCH_PENDING` submitted family-contact requests (default 20,000) and `BENCH_DECIDED` already rejected
ones (default 80,000), spread over officers, portfolios and DPD, each filed by the account's own officer; all
by INSERT ... SELECT with every constraint and trigger in force (decided requests are filed, then rejected,
through the transition trigger). It first measures each page's query count on a small book (`BENCH_SMALL`
accounts, default 1,000, with `BENCH_SMALL_PENDING` requests, default 500, so every filtered page has rows),
then grows the book to full size and times `BENCH_RUNS` requests per page (default 30) through Django's test
client: server time without the network, including authentication, the audit write and rendering. Exit 1 if a
page's query count grew with the book.
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
os.environ.setdefault("TEST_DB_NAME", "bench_review")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.support import (  # noqa: E402
    CHUNK,
    Book,
    analyze,
    book_fill,
    book_prepare,
    diagnose,
    env_int,
    figure_line,
    in_test_database,
    measure,
    reserve_ids,
    timed,
)

OFFICERS = env_int("BENCH_OFFICERS", 500)
PER_OFFICER = env_int("BENCH_PER_OFFICER", 2_000)
CONTACTS = env_int("BENCH_CONTACTS", 2)
PENDING = env_int("BENCH_PENDING", 20_000)
DECIDED = env_int("BENCH_DECIDED", 80_000)
SMALL = env_int("BENCH_SMALL", 1_000)
SMALL_PENDING = env_int("BENCH_SMALL_PENDING", 500)
INTERACTIONS = env_int("BENCH_INTERACTIONS", 3)
RUNS = env_int("BENCH_RUNS", 30)
# Server-time goal per page (ms, median): the 150 ms at 1,000,000 accounts.
GOAL_MS = 150.0
# A large prime: g -> (g - lo) * SPREAD mod (hi - lo) permutes a range, so "the first n of the permutation"
# picks n accounts scattered over officers, portfolios and DPD rather than a block of one officer.
SPREAD = 2_654_435_761
PENDING_TEXT = "Benchmark request with a long enough justification."
DECIDED_TEXT = "Benchmark request, decided since: long enough justification."

CONTACTS_SQL = """
INSERT INTO collections_app_contact (id, borrower_id, name, relationship, phone, timezone, consent_basis, consent_at)
SELECT %(c0)s + g * %(contacts)s + j + 1, %(b0)s + g + 1, '亲属' || j, 'parent',
       '+86136' || lpad(g::text, 8, '0') || j, 'Asia/Shanghai', 'registered at application',
       %(now)s::timestamptz - interval '300 days'
FROM generate_series(%(lo)s, %(hi)s - 1) AS g, generate_series(0, %(contacts)s - 1) AS j
"""
# Requests on `wanted` accounts of the range, picked by the permutation; `j` is the contact used.
REQUESTS_SQL = """
INSERT INTO review_familycontactrequest (
    account_id, contact_id, template_version_id, channel, justification, status, status_reason, policy_version_id,
    evaluation_at_filing, evaluation_at_decision, requested_by_id, requested_at, decided_by_id, decided_at,
    decision_reason, message_id, closed_at)
SELECT %(a0)s + g + 1, %(c0)s + g * %(contacts)s + %(j)s + 1, %(tv)s, 'sms', %(text)s, 'submitted', '', %(pv)s,
       %(evaluation)s::jsonb, '{}'::jsonb, (%(officers)s::bigint[])[g / %(per)s + 1],
       %(now)s::timestamptz - make_interval(mins => ((g * 31) %% 20000)::int), NULL, NULL, '', NULL, NULL
FROM generate_series(%(lo)s, %(hi)s - 1) AS g
WHERE ((g - %(lo)s)::numeric * %(spread)s) %% (%(hi)s - %(lo)s) < %(wanted)s
"""
# Filed as submitted (the trigger allows nothing else), then rejected by a checker as a real decision is.
REJECT_SQL = """
UPDATE review_familycontactrequest
SET status = 'rejected', decided_by_id = %(checker)s, decided_at = requested_at + interval '3 hours',
    decision_reason = 'bench: not proportionate', closed_at = requested_at + interval '3 hours'
WHERE status = 'submitted' AND justification = %(text)s
"""


def template_version_id() -> int:
    """An approved family template version for the requests."""
    from collections_app.models import Message, MessageTemplate, TemplateVersion

    template, _ = MessageTemplate.objects.get_or_create(
        code="bench-family",
        defaults={"audience": Message.Audience.FAMILY, "channel": Message.Channel.SMS, "name": "bench"},
    )
    version = template.current_version or TemplateVersion.objects.create(
        template=template,
        version=1,
        body="您好，这里是客服中心。烦请转告您的亲友尽快致电95188与我们联系，谢谢。",
        created_by=User.objects.get(username="bench-author"),
        approved_by=User.objects.get(username="bench-checker"),
        approved_at=timezone.now(),
    )
    return version.pk


def fill(book: Book, params: dict[str, object], lo: int, hi: int, pending: int, decided: int) -> None:
    """Accounts `lo` <= g < `hi` with contacts, `pending` submitted and `decided` rejected requests among them."""
    book_fill(book, lo, hi, interactions=INTERACTIONS)
    for start in range(lo, hi, CHUNK):
        end = min(start + CHUNK, hi)
        # Each chunk takes its share of the requests, so they spread over the whole range.
        share = {"lo": start, "hi": end}
        with connection.cursor() as cursor:
            cursor.execute(CONTACTS_SQL, {**params, **share})
            # Decided first: with one contact per borrower, its pending request may only follow the rejection.
            for wanted, j, text in ((decided, CONTACTS - 1, DECIDED_TEXT), (pending, 0, PENDING_TEXT)):
                n = wanted * (end - lo) // (hi - lo) - wanted * (start - lo) // (hi - lo)
                cursor.execute(REQUESTS_SQL, {**params, **share, "wanted": n, "j": j, "text": text})
                if text == DECIDED_TEXT:
                    cursor.execute(REJECT_SQL, {**params, "text": DECIDED_TEXT})


def main() -> int:
    """Build the database, measure each page, print the figures; exit 1 only if a query count grew with the book."""
    # Not setup_test_environment(): its instrumented template rendering copies every context and would
    # dominate the figures.
    return in_test_database(run)


def run() -> int:
    """Count each page's queries at the small book, grow the book to full size, then time every page."""
    from access.roles import RISK_APPROVER
    from collections_app.models import Contact
    from review.models import FamilyContactRequest

    User.objects.create_user("bench-author")
    approver = User.objects.create_user("bench-approver")
    approver.groups.add(Group.objects.get(name=RISK_APPROVER))
    checker = User.objects.create_user("bench-checker")
    checker.groups.add(Group.objects.get(name=RISK_APPROVER))
    book = book_prepare(OFFICERS, PER_OFFICER)
    small = min(SMALL, book.size)
    params = {
        "b0": book.borrower_base,
        "a0": book.account_base,
        "c0": reserve_ids(Contact._meta.db_table, book.size * CONTACTS),
        "contacts": CONTACTS,
        "officers": list(book.officer_ids),
        "per": book.per_officer,
        "pv": book.policy_version_id,
        "tv": template_version_id(),
        "now": book.now,
        "spread": SPREAD,
        "checker": checker.pk,
        "evaluation": '{"eligible": true, "results": ['
        + ", ".join(f'{{"rule": {n}, "passed": true, "reason": "ok", "numbers": {{}}}}' for n in range(1, 8))
        + "]}",
    }

    client = Client()
    client.force_login(approver)
    try:
        from tests.security.fixtures import otp_verify_session

        otp_verify_session(client, approver)
    except ImportError:  # no second factor in this build
        pass

    small_pending = min(SMALL_PENDING, PENDING)
    fill(book, params, 0, small, small_pending, DECIDED * small // book.size)
    analyze()
    first = FamilyContactRequest.objects.filter(status="submitted").order_by("requested_at", "id").first()
    pages = {
        "queue": "/review/",
        "queue_filtered": "/review/?bucket=61-90&portfolio=bench-south",
        "queue_deep_page": f"/review/?page={max(PENDING // 50 * 3 // 4, 1)}",
        "request": f"/review/{first.pk}/",
    }
    few = {name: measure(client, url, 1).queries for name, url in pages.items()}

    started = time.perf_counter()
    timed(
        "the rest of the book",
        lambda: fill(book, params, small, book.size, PENDING - small_pending, DECIDED - DECIDED * small // book.size),
    )
    timed("VACUUM ANALYZE", analyze)
    counts = dict(FamilyContactRequest.objects.values_list("status").annotate(n=Count("id")).order_by())
    print(
        f"accounts: {book.size:,} ({OFFICERS} officers x {PER_OFFICER:,}), {book.size * CONTACTS:,} contacts, "
        f"requests by status: {counts}; built in {time.perf_counter() - started:.0f} s; {RUNS} timed requests "
        f"per page; small book: {small:,} accounts, {small_pending:,} pending",
        flush=True,
    )
    grew = []
    for name, url in pages.items():
        measured = measure(client, url, RUNS)
        print(figure_line(f"review_{name}", measured, few[name], f"{small:,} accounts", GOAL_MS), flush=True)
        diagnose(client, url, slow=statistics.median(measured.times) > GOAL_MS)
        if measured.queries != few[name]:
            grew.append(name)
    if grew:
        print("query count grew with the book: " + ", ".join(grew), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
