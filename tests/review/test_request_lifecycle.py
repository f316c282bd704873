"""Filing, deciding, withdrawing: each transition in a service, guarded, audited as request_<status>."""

import datetime
import zoneinfo
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from collections_app.models import Message, PhoneOptOut
from review.models import FamilyContactRequest
from review.services import (
    DecisionConflict,
    IneligibleError,
    SeparationOfDutiesError,
    approver_all_portfolios_grant,
    family_contact_request_decide,
    family_contact_request_withdraw,
)
from tests.factories import make_plan
from tests.review.conftest import file_request

pytestmark = pytest.mark.django_db
Status = FamilyContactRequest.Status


@pytest.fixture
def shanghai_morning() -> Iterator[None]:
    """10:00 today in Shanghai, the contact's zone: inside the allowed hours whenever the suite runs.

    Today's date, so the facts the fixtures write at the real time stay in the rules' windows.
    """
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    today = timezone.now().astimezone(shanghai).date()
    with time_machine.travel(datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=shanghai), tick=True):
        yield


def failed_rules(evaluation: dict) -> list[int]:
    return [result["rule"] for result in evaluation["results"] if not result["passed"]]


def events(request: FamilyContactRequest, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="familycontactrequest", object_id=str(request.pk)))


def test_filing_stores_the_evaluation_and_policy_version_and_is_audited(officer, case) -> None:
    request = file_request(officer, case)
    assert request.status == Status.SUBMITTED
    assert request.evaluation_at_filing["eligible"] is True
    assert len(request.evaluation_at_filing["results"]) == 7
    assert request.policy_version.profile.code == "cn-default"
    [event] = events(request, "request_submitted")
    assert event.actor_username == "alice"
    assert sorted(event.persons) == sorted([f"borrower:{case.account.borrower_id}", f"contact:{case.contact.pk}"])


def test_an_ineligible_request_is_refused_and_nothing_is_written(officer, case) -> None:
    PhoneOptOut.objects.create(phone=case.contact.phone, source="officer", received_at=case.account.updated_at)
    with pytest.raises(IneligibleError) as refused:
        file_request(officer, case)
    assert [r.rule for r in refused.value.evaluation.failed] == [4]
    assert not FamilyContactRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="request_submitted").exists()


def test_a_second_request_for_the_same_contact_fails_rule_5(officer, submitted, case) -> None:
    with pytest.raises(IneligibleError) as refused:
        file_request(officer, case)
    assert [r.rule for r in refused.value.evaluation.failed] == [5]


def test_approval_queues_exactly_one_family_message_in_the_same_transaction(
    shanghai_morning, submitted, approver
) -> None:
    outcome = family_contact_request_decide(request_id=submitted.pk, decision="approve", reason="", actor=approver)
    assert outcome.decided
    request = outcome.request
    assert request.status == Status.APPROVED and request.decided_by == approver
    [message] = Message.objects.filter(audience="family")
    assert request.message == message
    assert message.contact_id == submitted.contact_id and message.channel == "sms"
    assert message.status == Message.Status.QUEUED
    assert request.evaluation_at_decision["eligible"] is True
    assert len(events(request, "request_approved")) == 1


def test_rejection_needs_a_reason(submitted, approver) -> None:
    with pytest.raises(ValidationError):
        family_contact_request_decide(request_id=submitted.pk, decision="reject", reason="  ", actor=approver)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    outcome = family_contact_request_decide(
        request_id=submitted.pk, decision="reject", reason="Not justified yet", actor=approver
    )
    assert outcome.request.status == Status.REJECTED
    assert outcome.request.decision_reason == "Not justified yet"
    assert not Message.objects.exists()
    assert len(events(submitted, "request_rejected")) == 1


def test_a_decision_on_a_decided_request_conflicts_and_changes_nothing(submitted, approver, second_approver) -> None:
    family_contact_request_decide(request_id=submitted.pk, decision="reject", reason="Too early", actor=approver)
    with pytest.raises(DecisionConflict) as conflict:
        family_contact_request_decide(request_id=submitted.pk, decision="approve", reason="", actor=second_approver)
    assert conflict.value.request.status == Status.REJECTED
    assert conflict.value.request.decided_by == approver
    assert not Message.objects.exists()


def test_re_evaluation_at_decision_cancels_with_the_reason(submitted, approver, case, officer) -> None:
    make_plan(case.account, officer, instalments=[], agreed_at=case.account.updated_at)
    outcome = family_contact_request_decide(request_id=submitted.pk, decision="approve", reason="", actor=approver)
    assert not outcome.decided
    request = outcome.request
    assert request.status == Status.CANCELLED
    assert request.evaluation_at_decision["eligible"] is False
    assert failed_rules(request.evaluation_at_decision) == [3]
    assert request.status_reason.startswith(f"{gettext('Rule')} 3: ")
    assert not Message.objects.exists()
    assert len(events(request, "request_cancelled")) == 1


def test_the_requester_cannot_decide_their_own_request(officer, case, approver) -> None:
    from django.contrib.auth.models import Group

    officer.groups.add(Group.objects.get(name="risk_approver"))
    officer._role_names = None  # the role cache predates the new group
    approver_all_portfolios_grant(user=officer)  # scope fails closed: a new approver needs a grant
    request = file_request(officer, case)
    with pytest.raises(SeparationOfDutiesError):
        family_contact_request_decide(request_id=request.pk, decision="approve", reason="", actor=officer)
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    assert AuditEvent.objects.filter(action="permission_denied", object_id=str(request.pk)).exists()


def test_the_database_refuses_a_decider_who_is_the_requester(submitted, officer) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyContactRequest.objects.filter(pk=submitted.pk).update(decided_by=officer)


def test_the_database_refuses_a_transition_outside_the_table(submitted, approver) -> None:
    family_contact_request_decide(request_id=submitted.pk, decision="reject", reason="No", actor=approver)
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyContactRequest.objects.filter(pk=submitted.pk).update(status=Status.SUBMITTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyContactRequest.objects.filter(pk=submitted.pk).update(status=Status.SENT)


def test_only_an_undecided_request_can_be_withdrawn(submitted, officer, approver) -> None:
    request = family_contact_request_withdraw(request=submitted, actor=officer)
    assert request.status == Status.WITHDRAWN
    assert len(events(request, "request_withdrawn")) == 1
    with pytest.raises(DecisionConflict):
        family_contact_request_withdraw(request=submitted, actor=officer)


def test_an_officer_outside_the_caseload_cannot_withdraw(submitted, other_officer) -> None:
    with pytest.raises(PermissionDenied):
        family_contact_request_withdraw(request=submitted, actor=other_officer)


def test_request_events_hold_no_personal_values(officer, case, approver) -> None:
    from tests.audit.helpers import assert_no_personal_values, audit_mark, events_since

    mark = audit_mark()
    request = file_request(officer, case)
    family_contact_request_decide(
        request_id=request.pk, decision="reject", reason=f"Call {case.contact.name} first", actor=approver
    )
    borrower = case.account.borrower
    canaries = [case.contact.name, case.contact.phone, borrower.name, borrower.phone, borrower.id_number]
    recorded = events_since(mark)
    assert {"request_submitted", "request_rejected"} <= {event.action for event in recorded}
    assert_no_personal_values(recorded, canaries)
