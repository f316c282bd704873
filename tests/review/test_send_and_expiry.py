"""Just before sending the rules are checked again; approvals not sent in 72 hours and undecided requests expire."""

import datetime
import json
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone, translation

from audit.models import AuditEvent
from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_run
from collections_app.models import LoanAccount, Message, PhoneOptOut
from review.models import FamilyContactRequest
from review.services import family_contact_request_decide
from review.tasks import expire_family_contact_requests
from tests.factories import make_plan
from tests.review.conftest import file_request

pytestmark = pytest.mark.django_db
Status = FamilyContactRequest.Status
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def morning() -> object:
    """10:00 in Shanghai today, inside the allowed hours, whenever the suite runs."""
    today = timezone.now().astimezone(SHANGHAI).date()
    with time_machine.travel(datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture
def gateway(settings, tmp_path: Path) -> Path:
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


def sent_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def approved(submitted, approver) -> FamilyContactRequest:
    return family_contact_request_decide(request_id=submitted.pk, decision="approve", reason="", actor=approver).request


def test_an_approved_message_reaches_the_gateway_once_without_debt_details_and_closes_the_request(
    approved, gateway
) -> None:
    relay_run()
    relay_run()
    [line] = sent_lines(gateway)
    assert line["audience"] == "family" and line["recipient"] == approved.contact.phone
    assert lint_message(line["body"], audience="family") == []
    approved.refresh_from_db()
    assert approved.status == Status.SENT
    assert AuditEvent.objects.filter(action="request_sent", object_id=str(approved.pk)).count() == 1


@translation.override("en")  # reasons are stored in the language active when they are written
def test_a_borrower_who_paid_before_sending_cancels_the_request_and_nothing_is_sent(approved, gateway) -> None:
    LoanAccount.objects.filter(pk=approved.account_id).update(oldest_unpaid_due_date=None)
    relay_run()
    assert sent_lines(gateway) == []
    approved.refresh_from_db()
    approved.message.refresh_from_db()
    assert approved.status == Status.CANCELLED
    assert "paid" in approved.status_reason
    assert approved.message.status == Message.Status.SUPPRESSED
    assert AuditEvent.objects.filter(action="request_cancelled", object_id=str(approved.pk)).count() == 1


def test_a_plan_agreed_before_sending_cancels_the_request(approved, gateway, officer) -> None:
    make_plan(approved.account, officer, instalments=[])
    relay_run()
    assert sent_lines(gateway) == []
    approved.refresh_from_db()
    assert approved.status == Status.CANCELLED


def test_a_contact_who_opted_out_before_sending_cancels_the_request(approved, gateway) -> None:
    PhoneOptOut.objects.create(phone=approved.contact.phone, source="sms_reply", received_at=timezone.now())
    relay_run()
    assert sent_lines(gateway) == []
    approved.refresh_from_db()
    assert approved.status == Status.CANCELLED
    assert approved.status_reason


def test_a_family_message_without_an_approved_request_is_never_sent(case, gateway) -> None:
    message_enqueue(
        borrower=case.account.borrower,
        account=case.account,
        contact=case.contact,
        audience="family",
        channel="sms",
        template_version=case.template.current_version,
        policy_version=case.account.portfolio.policy_profile.current_version,
        idempotency_key="rogue-family-message",
    )
    relay_run()
    assert sent_lines(gateway) == []
    assert Message.objects.get(idempotency_key="rogue-family-message").status == Message.Status.SUPPRESSED


def test_an_approval_not_sent_within_72_hours_expires_and_its_message_is_suppressed(approved) -> None:
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=71)):
        assert expire_family_contact_requests.apply().get() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=72, minutes=1)):
        assert expire_family_contact_requests.apply().get() == 1
    approved.refresh_from_db()
    approved.message.refresh_from_db()
    assert approved.status == Status.EXPIRED
    assert approved.message.status == Message.Status.SUPPRESSED
    assert AuditEvent.objects.filter(action="request_expired", object_id=str(approved.pk)).count() == 1


def test_a_request_undecided_for_7_days_expires(submitted) -> None:
    with time_machine.travel(timezone.now() + datetime.timedelta(days=6, hours=23)):
        assert expire_family_contact_requests.apply().get() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        assert expire_family_contact_requests.apply().get() == 1
    submitted.refresh_from_db()
    assert submitted.status == Status.EXPIRED
    assert "7" in submitted.status_reason


def test_a_new_request_within_7_days_of_a_sent_message_fails_rule_6(approved, gateway, officer, case) -> None:
    relay_run()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        from review.services import IneligibleError

        with pytest.raises(IneligibleError) as refused:
            file_request(officer, case)
        assert [r.rule for r in refused.value.evaluation.failed] == [6]
