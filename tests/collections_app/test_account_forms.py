"""The account page's forms: a valid post writes and redirects with its audit event; a bad one writes nothing."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.models import Flag, Interaction, PromiseToPay
from tests.collections_app.support import CALL_HOURS
from tests.conftest import signed_in
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@time_machine.travel(CALL_HOURS, tick=False)
def test_logging_an_interaction_redirects_and_is_audited(officer: User) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/interactions/new/", {"outcome": "refused", "channel": "phone", "note": "said no"}
    )
    assert response.status_code == 303
    assert response["Location"] == f"/cases/{account.pk}/"
    interaction = Interaction.objects.get()
    assert (interaction.account, interaction.officer, interaction.outcome) == (account, officer, "refused")
    event = AuditEvent.objects.get(action="create", object_type="interaction")
    assert event.object_id == str(interaction.pk)
    assert event.persons == [f"borrower:{account.borrower_id}"]
    assert "said no" not in str(event.detail)


def test_interaction_with_an_unknown_outcome_is_refused_next_to_the_field(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    events = AuditEvent.objects.count()
    response = client.post(f"/cases/{account.pk}/interactions/new/", {"outcome": "threatened", "channel": "phone"})
    assert response.status_code == 200
    assert response.context["form"].errors["outcome"]
    assert 'id="id_outcome_errors"' in response.content.decode()
    assert not Interaction.objects.exists()
    assert AuditEvent.objects.count() == events


@time_machine.travel(CALL_HOURS, tick=False)
def test_every_outcome_of_the_domain_can_be_logged(officer: User) -> None:
    client = signed_in(officer)
    for outcome in ["promised", "refused", "no_answer", "wrong_number", "disputed", "hardship"]:
        # One borrower each: four connected calls to one borrower in a day would pass the cn-default cap.
        account = make_account(officer)
        response = client.post(f"/cases/{account.pk}/interactions/new/", {"outcome": outcome, "channel": "phone"})
        assert response.status_code == 303, outcome
    assert Interaction.objects.count() == 6


def test_promise_to_pay_is_recorded_and_audited(officer: User) -> None:
    account = make_account(officer)
    promised = lender_today() + datetime.timedelta(days=3)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/promises/new/", {"promised_date": promised.isoformat(), "amount": "1500.00"}
    )
    assert response.status_code == 303
    promise = PromiseToPay.objects.get()
    assert (promise.promised_date, promise.amount, promise.created_by) == (promised, Decimal("1500.00"), officer)
    assert AuditEvent.objects.filter(action="create", object_type="promisetopay", object_id=str(promise.pk)).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"promised_date": "2099-01-01", "amount": "0"}, "amount"),
        ({"promised_date": "2099-01-01", "amount": "-5"}, "amount"),
        ({"promised_date": "2099-01-01", "amount": "abc"}, "amount"),
        ({"promised_date": "2000-01-01", "amount": "10"}, "promised_date"),
        ({"promised_date": "not a date", "amount": "10"}, "promised_date"),
        ({"amount": "10"}, "promised_date"),
    ],
)
def test_bad_promise_is_refused_and_writes_nothing(officer: User, data: dict[str, str], field: str) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    events = AuditEvent.objects.count()
    response = client.post(f"/cases/{account.pk}/promises/new/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not PromiseToPay.objects.exists()
    assert AuditEvent.objects.count() == events


def test_opening_and_closing_a_flag_needs_a_reason_and_is_audited(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    refused = client.post(f"/cases/{account.pk}/flags/new/", {"kind": "dispute", "reason": "   "})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    assert not Flag.objects.exists()

    opened = client.post(f"/cases/{account.pk}/flags/new/", {"kind": "dispute", "reason": "says amount is wrong"})
    assert opened.status_code == 303
    flag = Flag.objects.get()
    assert flag.is_open and flag.opened_reason == "says amount is wrong" and flag.opened_by == officer
    assert AuditEvent.objects.filter(action="flag_opened", object_id=str(flag.pk)).count() == 1

    no_reason = client.post(f"/cases/{account.pk}/flags/{flag.pk}/close/", {"reason": ""})
    assert no_reason.status_code == 200
    assert no_reason.context["form"].errors["reason"]
    assert Flag.objects.get().is_open

    closed = client.post(f"/cases/{account.pk}/flags/{flag.pk}/close/", {"reason": "statement corrected"})
    assert closed.status_code == 303
    flag.refresh_from_db()
    assert not flag.is_open and flag.closed_by == officer and flag.closed_reason == "statement corrected"
    event = AuditEvent.objects.get(action="flag_closed")
    assert event.object_id == str(flag.pk) and event.persons == [f"borrower:{account.borrower_id}"]


def test_a_second_open_flag_of_the_same_kind_is_refused(officer: User) -> None:
    account = make_account(officer)
    Flag.objects.create(
        account=account, kind="hardship", opened_reason="r", opened_by=officer, opened_at=timezone.now()
    )
    response = signed_in(officer).post(f"/cases/{account.pk}/flags/new/", {"kind": "hardship", "reason": "again"})
    assert response.status_code == 200
    assert response.context["form"].errors["kind"]
    assert Flag.objects.count() == 1
    assert not AuditEvent.objects.filter(action="flag_opened").exists()


def test_closing_a_closed_flag_is_refused(officer: User) -> None:
    account = make_account(officer)
    now = timezone.now()
    flag = Flag.objects.create(
        account=account,
        kind="dispute",
        opened_reason="r",
        opened_by=officer,
        opened_at=now,
        closed_reason="done",
        closed_by=officer,
        closed_at=now,
    )
    response = signed_in(officer).post(f"/cases/{account.pk}/flags/{flag.pk}/close/", {"reason": "again"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not AuditEvent.objects.filter(action="flag_closed").exists()


def test_form_pages_show_no_personal_data(officer: User) -> None:
    account = make_account(officer)
    for path in ("interactions/new/", "promises/new/", "flags/new/"):
        response = signed_in(officer).get(f"/cases/{account.pk}/{path}")
        assert response.status_code == 200
        assert account.borrower.name not in response.content.decode()
    assert not AuditEvent.objects.filter(action="view").exists()
