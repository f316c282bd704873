"""The account page: masked people, history on one timeline, its audit event, and a fixed query count."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.models import (
    PhoneOptOut,
    PromiseToPay,
)
from tests.collections_app.support import ACCOUNT_MAX_QUERIES, bulk_caseload, rich_history
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def test_account_page_shows_people_masked_and_their_opt_out(officer: User) -> None:
    account = make_account(officer)
    spouse = make_contact(account.borrower, name="王小明", phone="+8613912345678")
    PhoneOptOut.objects.create(phone=spouse.phone, source="sms_reply", received_at=timezone.now())
    response = signed_in(officer).get(f"/cases/{account.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    borrower = account.borrower
    for value in (borrower.name, borrower.phone, borrower.phone.removeprefix("+86"), borrower.id_number, spouse.name):
        assert value not in content
    assert "139****5678" in content
    assert "王**" in content
    assert "1101**********4514" in content
    assert [row.opted_out for row in response.context["detail"].contacts] == [True]
    assert "<script" not in content


def test_account_page_writes_a_view_event_with_every_person_and_field_shown(officer: User) -> None:
    account = make_account(officer)
    contacts = [make_contact(account.borrower) for _ in range(2)]
    signed_in(officer).get(f"/cases/{account.pk}/")
    event = AuditEvent.objects.get(action="view")
    assert event.object_type == "loanaccount"
    assert event.object_id == str(account.pk)
    assert event.role == "case_officer"
    assert set(event.persons) == {f"borrower:{account.borrower_id}"} | {f"contact:{c.pk}" for c in contacts}
    assert {"borrower.name", "borrower.phone", "borrower.id_number", "contact.phone"} <= set(event.fields)


def test_account_page_puts_interactions_messages_promises_and_flags_on_one_timeline(officer: User) -> None:
    account = make_account(officer)
    rich_history(account, officer, 2)
    detail = signed_in(officer).get(f"/cases/{account.pk}/").context["detail"]
    kinds = [entry.kind for entry in detail.timeline]
    assert {"interaction", "message", "promise", "flag_opened", "flag_closed"} <= set(kinds)
    times = [entry.at for entry in detail.timeline]
    assert times == sorted(times, reverse=True)
    assert len(detail.payments) == 2
    assert len(detail.plans) == 1 and len(detail.plans[0].instalments) == 2


def test_promise_status_is_derived_on_the_account_page(officer: User) -> None:
    account = make_account(officer)
    today = lender_today()
    broken = PromiseToPay.objects.create(
        account=account, promised_date=today - datetime.timedelta(days=5), amount=Decimal("100"), created_by=officer
    )
    PromiseToPay.objects.filter(pk=broken.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    pending = PromiseToPay.objects.create(
        account=account, promised_date=today + datetime.timedelta(days=2), amount=Decimal("100"), created_by=officer
    )
    detail = signed_in(officer).get(f"/cases/{account.pk}/").context["detail"]
    statuses = {row.promise.pk: row.result.status for row in detail.promises}
    assert statuses == {broken.pk: "broken", pending.pk: "pending"}
    assert detail.pause.paused and "promise_pending" in detail.pause.codes
    assert detail.next_action.code == "await_promise"


def test_account_page_runs_a_fixed_number_of_queries_whatever_its_history(
    officer: User, django_assert_max_num_queries
) -> None:
    client = signed_in(officer)
    small = make_account(officer)
    rich_history(small, officer, 1)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/cases/{small.pk}/")
    big = make_account(officer)
    rich_history(big, officer, 40)
    with django_assert_max_num_queries(ACCOUNT_MAX_QUERIES):
        response = client.get(f"/cases/{big.pk}/")
    assert len(response.context["detail"].contacts) == 40
    with CaptureQueriesContext(connection) as many:
        client.get(f"/cases/{big.pk}/")
    assert len(few) == len(many)


def test_account_page_query_count_does_not_grow_with_the_caseload(officer: User, django_assert_max_num_queries) -> None:

    accounts = bulk_caseload(officer, 500)
    client = signed_in(officer)
    with django_assert_max_num_queries(ACCOUNT_MAX_QUERIES):
        response = client.get(f"/cases/{accounts[250].pk}/")
    assert response.status_code == 200
