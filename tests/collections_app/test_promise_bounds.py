"""A promise lies within the profile's horizon and its amount within (0, outstanding]; one recorded out of bounds
before these checks (9999-12-31, two years ahead) breaks no page and pauses escalation no longer than the horizon."""

import datetime
import json
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from collections_app import account_rules as rules
from collections_app.dpd import lender_today
from collections_app.messaging.relay import relay_run
from collections_app.models import LoanAccount, Message, PolicyProfile, PolicyVersion, PromiseToPay
from collections_app.services.profiles import policy_version_create
from review.models import FamilyContactRequest
from review.services import family_contact_request_decide
from tests.conftest import signed_in
from tests.factories import make_account, make_contact
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FAR = datetime.date(9999, 12, 31)


def post_promise(officer: User, account: LoanAccount, promised: datetime.date | str, amount: str):
    date = promised if isinstance(promised, str) else promised.isoformat()
    return signed_in(officer).post(f"/cases/{account.pk}/promises/new/", {"promised_date": date, "amount": amount})


def assert_refused(response, field: str) -> None:
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not PromiseToPay.objects.exists()


def test_every_profile_has_a_horizon_of_30_days_by_default() -> None:
    assert {version.promise_horizon_days for version in PolicyVersion.objects.all()} == {30}


def test_a_promise_on_the_last_day_of_the_horizon_is_taken(officer: User) -> None:
    account = make_account(officer)
    response = post_promise(officer, account, lender_today() + datetime.timedelta(days=30), "100.00")
    assert response.status_code == 303
    assert PromiseToPay.objects.get().promised_date == lender_today() + datetime.timedelta(days=30)


@pytest.mark.parametrize("promised", ["9999-12-31", "0001-01-01", "2000-01-01"])
def test_a_promise_dated_far_away_is_a_field_error_and_writes_nothing(officer: User, promised: str) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    events = AuditEvent.objects.count()
    response = client.post(f"/cases/{account.pk}/promises/new/", {"promised_date": promised, "amount": "100.00"})
    assert_refused(response, "promised_date")
    assert AuditEvent.objects.count() == events


def test_a_promise_one_day_beyond_the_horizon_is_a_field_error(officer: User) -> None:
    account = make_account(officer)
    response = post_promise(officer, account, lender_today() + datetime.timedelta(days=31), "100.00")
    assert_refused(response, "promised_date")
    assert (lender_today() + datetime.timedelta(days=30)).isoformat() in str(
        response.context["form"].errors["promised_date"]
    )


def test_the_horizon_comes_from_the_accounts_profile(officer: User) -> None:
    account = make_account(officer)
    policy_version_create(profile=PolicyProfile.objects.get(code="cn-default"), changes={"promise_horizon_days": 7})
    assert_refused(post_promise(officer, account, lender_today() + datetime.timedelta(days=8), "10"), "promised_date")
    assert post_promise(officer, account, lender_today() + datetime.timedelta(days=7), "10").status_code == 303


def test_a_promise_of_the_whole_outstanding_is_taken_and_a_cent_more_is_a_field_error(officer: User) -> None:
    account = make_account(officer, outstanding=Decimal("800.00"))
    tomorrow = lender_today() + datetime.timedelta(days=1)
    response = post_promise(officer, account, tomorrow, "800.01")
    assert_refused(response, "amount")
    assert "800.00" in str(response.context["form"].errors["amount"])
    assert post_promise(officer, account, tomorrow, "800.00").status_code == 303


def test_a_paid_off_account_takes_no_promise(officer: User) -> None:
    account = make_account(officer, dpd=None, outstanding=Decimal("0.00"))
    assert_refused(post_promise(officer, account, lender_today(), "1.00"), "amount")


def test_a_promise_out_of_bounds_on_both_fields_names_both(officer: User) -> None:
    account = make_account(officer, outstanding=Decimal("10.00"))
    response = post_promise(officer, account, "9999-12-31", "11")
    assert_refused(response, "promised_date")
    assert "amount" in response.context["form"].errors


def test_the_database_keeps_the_horizon_and_the_grace_within_the_calendar() -> None:
    version = PolicyVersion.objects.first()
    for field, value in (("promise_horizon_days", 0), ("promise_horizon_days", 366), ("promise_grace_days", 31)):
        with pytest.raises(IntegrityError), transaction.atomic():
            PolicyVersion.objects.filter(pk=version.pk).update(**{field: value})


def test_a_profile_edit_beyond_the_horizon_cap_is_refused() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        policy_version_create(
            profile=PolicyProfile.objects.get(code="cn-default"), changes={"promise_horizon_days": 10_000}
        )
    assert "promise_horizon_days" in refused.value.message_dict


# --- pre-existing bad data -------------------------------------------------------------------------------------


def far_promise(account: LoanAccount, officer: User, promised: datetime.date = FAR) -> PromiseToPay:
    """A promise as an earlier release or the admin may have stored it, past every check."""
    return PromiseToPay.objects.create(account=account, promised_date=promised, amount=Decimal("1"), created_by=officer)


def test_a_promise_dated_9999_12_31_breaks_neither_the_caseload_nor_the_account_page_nor_the_preview(
    officer: User,
) -> None:
    account = make_account(officer, dpd=45)
    contact = make_contact(account.borrower)
    template = make_family_template()
    far_promise(account, officer)
    client = signed_in(officer)
    for url in ("/cases/", f"/cases/{account.pk}/", f"/cases/{account.pk}/family-contact/new/"):
        assert client.get(url).status_code == 200, url
    preview = client.post(
        f"/cases/{account.pk}/family-contact/new/",
        {"contact": contact.pk, "template": template.pk, "justification": "x" * 30, "preview": "1"},
    )
    assert preview.status_code == 200
    # The promise is pending (within the horizon from today): the preview says family contact is paused.
    assert not preview.context["evaluation"].eligible


def test_a_promise_dated_9999_12_31_breaks_neither_the_review_page_nor_the_review_queue(
    officer: User, approver: User
) -> None:
    case = Case(account=make_account(officer, dpd=45), contact=None, template=make_family_template())
    case.contact = make_contact(case.account.borrower)
    add_failed_attempts(case.account, officer)
    request = file_request(officer, case)
    far_promise(case.account, officer)
    client = signed_in(approver)
    assert client.get(f"/review/{request.pk}/").status_code == 200
    assert client.get("/review/").status_code == 200


def test_the_relay_sends_the_rest_when_one_account_has_a_promise_dated_9999_12_31(
    officer: User, approver: User, settings, tmp_path: Path
) -> None:
    settings.MESSAGE_GATEWAY = f"file:{tmp_path / 'gateway.jsonl'}"
    template = make_family_template()
    requests = []
    for _ in range(2):
        account = make_account(officer, dpd=45)
        case = Case(account=account, contact=make_contact(account.borrower), template=template)
        add_failed_attempts(account, officer)
        requests.append(file_request(officer, case))
    with time_machine.travel(datetime.datetime.combine(lender_today(), datetime.time(10), tzinfo=SHANGHAI)):
        for request in requests:
            family_contact_request_decide(request_id=request.pk, decision="approve", reason="", actor=approver)
        far_promise(requests[0].account, officer)
        relay_run()
    sent = [json.loads(line) for line in (tmp_path / "gateway.jsonl").read_text().splitlines()]
    assert [line["recipient"] for line in sent] == [requests[1].contact.phone]
    paused, taken = (FamilyContactRequest.objects.get(pk=request.pk) for request in requests)
    assert (paused.status, taken.status) == (FamilyContactRequest.Status.CANCELLED, FamilyContactRequest.Status.SENT)
    assert paused.message.status == Message.Status.SUPPRESSED


# --- the pause is capped at the horizon, in Python and in SQL alike --------------------------------------------


def test_the_deadline_of_a_promise_dated_at_the_calendars_end_is_the_horizon_plus_grace() -> None:
    made_on = datetime.date(2026, 3, 1)
    assert rules.promise_deadline(FAR, 1, made_on=made_on, horizon_days=30) == datetime.date(2026, 4, 1)
    assert rules.promise_deadline(FAR, 30, made_on=datetime.date.max, horizon_days=365) == datetime.date.max


def test_a_kept_promise_dated_beyond_the_horizon_counts_payments_up_to_the_horizon_only() -> None:
    made_on = datetime.date(2026, 3, 1)
    late = rules.PaymentFact(datetime.date(2026, 4, 15), Decimal("5"))
    status = rules.promise_status(
        promised_date=FAR, amount=Decimal("5"), made_on=made_on, payments=[late], today=datetime.date(2026, 4, 15)
    )
    assert status.status == rules.PromiseStatus.BROKEN
    on_time = rules.PaymentFact(datetime.date(2026, 3, 31), Decimal("5"))
    status = rules.promise_status(
        promised_date=FAR, amount=Decimal("5"), made_on=made_on, payments=[on_time], today=datetime.date(2026, 4, 15)
    )
    assert status.status == rules.PromiseStatus.KEPT


@pytest.mark.parametrize(
    ("promised_offset", "amount", "fields"),
    [
        (0, "1", set()),
        (30, "100", set()),
        (-1, "1", {"promised_date"}),
        (31, "1", {"promised_date"}),
        (0, "0", {"amount"}),
        (0, "-1", {"amount"}),
        (0, "100.01", {"amount"}),
        (-1, "0", {"promised_date", "amount"}),
    ],
)
def test_the_promise_terms_rule_bounds_the_date_by_the_horizon_and_the_amount_by_the_outstanding(
    promised_offset: int, amount: str, fields: set[str]
) -> None:
    today = datetime.date(2026, 3, 10)
    errors = rules.promise_terms_errors(
        promised_date=today + datetime.timedelta(days=promised_offset),
        amount=Decimal(amount),
        outstanding=Decimal("100.00"),
        today=today,
        horizon_days=30,
    )
    assert set(errors) == fields
