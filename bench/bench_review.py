"""The review queue and one request's page with 10,000 pending requests: queries per page, median and p95 time.

Run from the repository root: `python bench/bench_review.py [--pending N] [--runs N]` with `DATABASE_URL` set
(PostgreSQL). It builds its own throwaway database (`bench_review`, or `TEST_DB_NAME`), fills it with N pending
requests (2,000 accounts with 5 contacts each for the default 10,000), then times each page through Django's
test client: server time without the network, including authentication, the audit write and rendering. The
query count is measured at a tenth of the load too, to show it does not grow with the queue.
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
os.environ.setdefault("TEST_DB_NAME", "bench_review")

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
GOALS_MS = {"queue": 150.0, "queue_filtered": 150.0, "queue_deep_page": 200.0, "request": 250.0}
CONTACTS_PER_ACCOUNT = 5


def populate(pending: int, *, start: int = 0) -> None:
    """Bulk-create accounts, contacts and `pending` submitted requests (5 contacts per account)."""
    from collections_app.dpd import lender_today
    from collections_app.models import (
        Borrower,
        Contact,
        LoanAccount,
        Message,
        MessageTemplate,
        PolicyProfile,
        Portfolio,
        TemplateVersion,
    )
    from review.models import FamilyContactRequest

    officer = User.objects.get(username="bench-officer")
    profile = PolicyProfile.objects.get(code="cn-default")
    version = profile.current_version
    portfolios = [
        Portfolio.objects.get_or_create(code=code, defaults={"name": code, "policy_profile": profile})[0]
        for code in ("bench-north", "bench-south", "bench-east", "bench-west")
    ]
    template, _ = MessageTemplate.objects.get_or_create(
        code="bench-family",
        defaults={"audience": Message.Audience.FAMILY, "channel": Message.Channel.SMS, "name": "bench"},
    )
    template_version = template.current_version or TemplateVersion.objects.create(
        template=template,
        version=1,
        body="您好，这里是客服中心。烦请转告您的亲友尽快致电95188与我们联系，谢谢。",
        created_by=User.objects.get(username="bench-author"),
        approved_by=User.objects.get(username="bench-checker"),
        approved_at=timezone.now(),
    )
    today = lender_today()
    now = timezone.now()
    accounts_needed = pending // CONTACTS_PER_ACCOUNT
    borrowers = Borrower.objects.bulk_create(
        Borrower(external_ref=f"BENCH{start + i:07d}", name=f"测试{i}", phone=f"+86137{start + i:08d}")
        for i in range(accounts_needed)
    )
    accounts = LoanAccount.objects.bulk_create(
        LoanAccount(
            account_number=f"BENCH-{start + i:07d}",
            borrower=borrower,
            portfolio=portfolios[i % len(portfolios)],
            officer=officer,
            principal=Decimal("5000.00"),
            outstanding=Decimal("4000.00"),
            oldest_unpaid_due_date=today - datetime.timedelta(days=30 + i % 170),
        )
        for i, borrower in enumerate(borrowers)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            borrower=borrower,
            name=f"亲属{j}",
            relationship=Contact.Relationship.PARENT,
            phone=f"+86136{start + i:07d}{j}",
            consent_basis="registered at application",
            consent_at=now - datetime.timedelta(days=300),
        )
        for i, borrower in enumerate(borrowers)
        for j in range(CONTACTS_PER_ACCOUNT)
    )
    evaluation = {
        "eligible": True,
        "results": [{"rule": n, "passed": True, "reason": "ok", "numbers": {}} for n in range(1, 8)],
    }
    FamilyContactRequest.objects.bulk_create(
        (
            FamilyContactRequest(
                account=accounts[k // CONTACTS_PER_ACCOUNT],
                contact=contact,
                template_version=template_version,
                justification="Benchmark request with a long enough justification.",
                policy_version=version,
                evaluation_at_filing=evaluation,
                requested_by=officer,
                requested_at=now - datetime.timedelta(minutes=k % 20_000),
            )
            for k, contact in enumerate(contacts)
        ),
        batch_size=2_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: Client, url: str, runs: int) -> tuple[int, list[float]]:
    """Queries of one request and server times (ms) of `runs` requests to `url`."""
    client.get(url)  # warm: the session's first request writes a few rows once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Counted now: every request start resets the connection's query log.
    count = len(queries)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return count, times


def main() -> int:
    """Build the database, measure each page, print the figures; exit 0 (slow results are reported, not failed)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    # Not setup_test_environment(): its instrumented template rendering copies every context and would
    # dominate the figures.
    return in_test_database(lambda: run(args.pending, args.runs))


def run(pending: int, runs: int) -> int:
    from access.roles import CASE_OFFICER, RISK_APPROVER
    from review.models import FamilyContactRequest

    officer = User.objects.create_user("bench-officer")
    officer.groups.add(Group.objects.get(name=CASE_OFFICER))
    User.objects.create_user("bench-author")
    approver = User.objects.create_user("bench-approver")
    approver.groups.add(Group.objects.get(name=RISK_APPROVER))
    checker = User.objects.create_user("bench-checker")
    checker.groups.add(Group.objects.get(name=RISK_APPROVER))

    client = Client()
    client.force_login(approver)
    try:
        from tests.security.fixtures import otp_verify_session

        otp_verify_session(client, approver)
    except ImportError:  # no second factor in this build
        pass

    pages = {
        "queue": "/review/",
        "queue_filtered": "/review/?bucket=61-90&portfolio=bench-south",
        "queue_deep_page": "/review/?page=150",
    }
    small = pending // 10
    populate(small)
    few = {name: measure(client, url, 1)[0] for name, url in pages.items()}
    first = FamilyContactRequest.objects.order_by("requested_at", "id").first()
    few["request"] = measure(client, f"/review/{first.pk}/", 1)[0]

    populate(pending - small, start=small)
    pages["request"] = f"/review/{first.pk}/"
    total = FamilyContactRequest.objects.filter(status="submitted").count()
    print(f"pending requests: {total}, {runs} timed requests per page (server time through the test client)")
    for name, url in pages.items():
        queries, times = measure(client, url, runs)
        median = statistics.median(times)
        print(
            f"review_{name}: queries={queries} (at {small}: {few[name]}) "
            f"median_ms={median:.1f} p95_ms={p95(times):.1f} min_ms={min(times):.1f} max_ms={max(times):.1f} "
            f"ratio_to_goal={median / GOALS_MS[name]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
