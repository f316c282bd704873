"""The caseload page: bucket summary, filters, search, order, pages, its audit event, and a fixed query count."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.models import (
    Flag,
    Interaction,
    PromiseToPay,
)
from tests.collections_app.support import CASELOAD_MAX_QUERIES, bulk_caseload
from tests.conftest import signed_in
from tests.factories import make_account, make_payment, make_portfolio

pytestmark = pytest.mark.django_db


def test_bucket_summary_counts_and_totals_each_bucket(officer: User) -> None:
    for dpd, amount in [(-2, "100"), (0, "200"), (1, "300"), (30, "400"), (31, "500"), (181, "600"), (None, "0")]:
        make_account(officer, dpd=dpd, outstanding=Decimal(amount))
    response = signed_in(officer).get("/cases/")
    assert response.status_code == 200
    buckets = {b.code: (b.count, b.outstanding) for b in response.context["caseload"].buckets}
    assert buckets == {
        "current": (2, Decimal("300")),
        "1-30": (2, Decimal("700")),
        "31-60": (1, Decimal("500")),
        "61-90": (0, Decimal("0")),
        "91-180": (0, Decimal("0")),
        "181+": (1, Decimal("600")),
    }
    assert response.context["caseload"].total_count == 7
    content = response.content.decode()
    assert "<svg" in content and "<rect" in content
    assert "<script" not in content


def test_caseload_is_sorted_by_dpd_descending_with_paid_accounts_last(officer: User) -> None:
    for dpd in [5, None, 90, -1, 30]:
        make_account(officer, dpd=dpd)
    rows = signed_in(officer).get("/cases/").context["caseload"].rows
    assert [row.dpd for row in rows] == [90, 30, 5, -1, None]


def test_filter_by_bucket_and_portfolio(officer: User) -> None:
    north, south = make_portfolio("north"), make_portfolio("south")
    a = make_account(officer, dpd=10, portfolio=north)
    b = make_account(officer, dpd=45, portfolio=north)
    c = make_account(officer, dpd=12, portfolio=south)
    client = signed_in(officer)

    def listed(**params: object) -> set[str]:
        return {row.account.account_number for row in client.get("/cases/", params).context["caseload"].rows}

    assert listed(bucket="1-30") == {a.account_number, c.account_number}
    assert listed(portfolio=north.pk) == {a.account_number, b.account_number}
    assert listed(bucket="1-30", portfolio=south.pk) == {c.account_number}
    # An unknown filter value is reported, not obeyed, and shows the whole caseload.
    response = client.get("/cases/", {"bucket": "999"})
    assert response.context["filter_form"].errors
    assert len(response.context["caseload"].rows) == 3


def test_search_by_account_number(officer: User) -> None:
    target = make_account(officer, account_number="LN-2026-ABC")
    make_account(officer, account_number="LN-2026-XYZ")
    rows = signed_in(officer).get("/cases/", {"q": "abc"}).context["caseload"].rows
    assert [row.account.pk for row in rows] == [target.pk]


def test_fifty_rows_a_page(officer: User) -> None:
    bulk_caseload(officer, 120)
    client = signed_in(officer)
    first = client.get("/cases/").context["caseload"]
    third = client.get("/cases/", {"page": 3}).context["caseload"]
    assert len(first.rows) == 50
    assert first.page.paginator.num_pages == 3
    assert len(third.rows) == 20
    assert not {r.account.pk for r in first.rows} & {r.account.pk for r in third.rows}


def test_pages_follow_the_due_date_then_id_with_ties_and_paid_accounts_last(officer: User) -> None:
    # Two accounts on every due date (ties broken by id) and paid accounts (no due date), over several pages, on
    # the plain, bucket and search paths: the page is picked in a subquery sorted by DPD, and the order must
    # stay that of the due date ascending, paid last, then id.
    accounts = bulk_caseload(officer, 60) + bulk_caseload(officer, 60, prefix="TIE")
    accounts += [make_account(officer, dpd=None) for _ in range(7)]
    client = signed_in(officer)

    def every_page(**params: object) -> list[int]:
        listed: list[int] = []
        for number in range(1, 4):
            caseload = client.get("/cases/", {**params, "page": number}).context["caseload"]
            listed += [row.account.pk for row in caseload.rows]
            if number == caseload.page.paginator.num_pages:
                return listed
        return listed

    def expected(keep: object) -> list[int]:
        chosen = [a for a in accounts if keep(a)]  # type: ignore[operator]
        chosen.sort(key=lambda a: (a.oldest_unpaid_due_date is None, a.oldest_unpaid_due_date or 0, a.pk))
        return [a.pk for a in chosen]

    today = lender_today()
    assert every_page() == expected(lambda a: True)
    assert every_page(bucket="1-30") == expected(
        lambda a: a.oldest_unpaid_due_date is not None and 1 <= (today - a.oldest_unpaid_due_date).days <= 30
    )
    assert every_page(q="TIE") == expected(lambda a: a.account_number.startswith("TIE"))


def test_borrower_names_are_masked_on_the_caseload(officer: User) -> None:
    account = make_account(officer)
    content = signed_in(officer).get("/cases/").content.decode()
    assert account.borrower.name not in content
    assert account.borrower.name[0] + "*" in content


def test_caseload_writes_one_list_event_naming_the_borrowers_on_the_page(officer: User, other_officer: User) -> None:
    mine = [make_account(officer) for _ in range(3)]
    make_account(other_officer)
    client = signed_in(officer)
    before = AuditEvent.objects.count()
    client.get("/cases/")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "list"
    assert event.actor_username == "alice"
    assert event.role == "case_officer"
    assert event.fields == ["borrower.name"]
    assert event.persons == sorted(f"borrower:{a.borrower_id}" for a in mine)


def test_next_action_reflects_pending_promise_and_open_flag(officer: User) -> None:
    promised = make_account(officer, dpd=40)
    PromiseToPay.objects.create(
        account=promised, promised_date=lender_today(), amount=Decimal("100"), created_by=officer
    )
    flagged = make_account(officer, dpd=20)
    Flag.objects.create(
        account=flagged, kind="dispute", opened_reason="not mine", opened_by=officer, opened_at=timezone.now()
    )
    kept = make_account(officer, dpd=15)
    PromiseToPay.objects.create(account=kept, promised_date=lender_today(), amount=Decimal("100"), created_by=officer)
    make_payment(kept, Decimal("100"))
    plain = make_account(officer, dpd=3)
    rows = {row.account.pk: row for row in signed_in(officer).get("/cases/").context["caseload"].rows}
    assert rows[promised.pk].next_action.code == "await_promise"
    assert rows[flagged.pk].next_action.code == "resolve_dispute"
    assert rows[kept.pk].next_action.code == "call"
    assert rows[plain.pk].next_action.code == "call"


def test_last_interaction_is_shown(officer: User) -> None:
    account = make_account(officer)
    Interaction.objects.create(
        account=account, officer=officer, outcome="refused", occurred_at=timezone.now() - datetime.timedelta(days=2)
    )
    latest = Interaction.objects.create(
        account=account, officer=officer, outcome="no_answer", occurred_at=timezone.now()
    )
    row = signed_in(officer).get("/cases/").context["caseload"].rows[0]
    assert row.last_interaction_at == latest.occurred_at
    assert row.last_interaction_outcome == Interaction.Outcome.NO_ANSWER.label


def test_caseload_runs_a_fixed_number_of_queries_with_500_accounts(
    officer: User, django_assert_max_num_queries
) -> None:
    client = signed_in(officer)
    make_account(officer)
    with CaptureQueriesContext(connection) as small:
        client.get("/cases/")
    bulk_caseload(officer, 500)
    with django_assert_max_num_queries(CASELOAD_MAX_QUERIES):
        response = client.get("/cases/")
    assert response.context["caseload"].total_count == 501
    with CaptureQueriesContext(connection) as filtered:
        client.get("/cases/", {"bucket": "91-180", "q": "BULK", "page": 2})
    assert len(filtered) <= CASELOAD_MAX_QUERIES
    # Same count with one account or five hundred: nothing runs once per row.
    assert len(small) <= CASELOAD_MAX_QUERIES


def test_caseload_scope_query_uses_the_permission_table_subquery(officer: User) -> None:
    make_account(officer)
    with CaptureQueriesContext(connection) as queries:
        signed_in(officer).get("/cases/")
    summary = next(q["sql"] for q in queries if "GROUP BY" in q["sql"])
    assert re.search(r'"collections_app_loanaccountuserobjectpermission"', summary)
    assert "guardian_userobjectpermission" not in summary


def test_caseload_shows_nothing_when_the_audit_event_cannot_be_written(officer: User, monkeypatch) -> None:
    from audit.record import AuditWriteError

    account = make_account(officer)
    client = signed_in(officer)

    def broken(**kwargs: object) -> None:
        raise AuditWriteError("database refused the insert")

    monkeypatch.setattr("collections_app.views.audit_record", broken)
    response = client.get("/cases/")
    assert response.status_code == 503
    assert account.account_number not in response.content.decode()


def test_caseload_page_offers_the_language_switcher(officer: User) -> None:
    content = signed_in(officer).get("/cases/").content.decode()
    assert 'action="/language/"' in content
    assert 'name="language"' in content


def test_caseload_follows_the_users_language_not_the_browsers(officer: User) -> None:
    client = signed_in(officer)
    chinese = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-hans"' in chinese
    client.post("/language/", {"language": "en", "next": "/cases/"})
    english = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="en"' in english
