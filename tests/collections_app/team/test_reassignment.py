"""Reassignment by the team lead: within the team, audited, and everything the account owns moves with it."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.models import CallTask, Complaint, LoanAccount, LoanAccountUserObjectPermission, RepaymentPlan
from collections_app.selectors.accounts import loan_accounts_for_user
from collections_app.services.accounts import account_assign
from collections_app.services.complaints import complaint_file
from review.models import FamilyContactRequest
from tests.collections_app.support import make_task
from tests.collections_app.team.conftest import Teams
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_plan
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template

pytestmark = pytest.mark.django_db


def test_reassigning_two_accounts_moves_everything_they_own(
    lead_client: Client, teams: Teams, officer: User, other_officer: User
) -> None:
    first, second, stays = (make_account(officer, dpd=45) for _ in range(3))
    add_failed_attempts(first, officer)
    request = file_request(
        officer, Case(account=first, contact=make_contact(first.borrower), template=make_family_template())
    )
    plan = make_plan(second, officer, status=RepaymentPlan.Status.PROPOSED, instalments=[])
    open_task, done_task = make_task(first), make_task(second, days_ago=1, status=CallTask.Status.DONE)

    response = lead_client.post(
        "/team/reassign/", {"accounts": [first.pk, second.pk], "officer": other_officer.username}
    )

    assert response.status_code == 303
    assert response["Location"] == f"/team/accounts/?officer={other_officer.username}"
    moved = set(loan_accounts_for_user(other_officer).values_list("pk", flat=True))
    assert moved == {first.pk, second.pk}
    assert set(loan_accounts_for_user(officer).values_list("pk", flat=True)) == {stays.pk}
    assert LoanAccountUserObjectPermission.objects.filter(content_object__in=[first, second]).count() == 2
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert open_task.officer == other_officer  # the open call task went with the account
    assert done_task.officer == officer  # what was done stays with whoever did it
    new, old = signed_in(other_officer), signed_in(officer)
    assert new.get(f"/cases/{first.pk}/family-contact/{request.pk}/").status_code == 200
    assert old.get(f"/cases/{first.pk}/family-contact/{request.pk}/").status_code == 404
    assert f'data-plan="{plan.pk}"' in new.get(f"/cases/{second.pk}/").content.decode()
    assert old.get(f"/cases/{second.pk}/").status_code == 404
    assert FamilyContactRequest.objects.get().requested_by == officer  # who filed it is history
    events = AuditEvent.objects.filter(action="assignment_changed", actor_username="lena").order_by("object_id")
    assert [(e.object_id, e.role) for e in events] == [(str(first.pk), "team_lead"), (str(second.pk), "team_lead")]
    assert events[0].detail == {"from_officer_id": officer.pk, "to_officer_id": other_officer.pk}


def test_the_target_officer_must_be_in_the_team(lead_client: Client, teams: Teams, officer: User) -> None:
    account = make_account(officer)
    response = lead_client.post("/team/reassign/", {"accounts": [account.pk], "officer": teams.outsider.username})
    assert response.status_code == 200
    assert response.context["form"].errors["officer"]
    account.refresh_from_db()
    assert account.officer == officer
    assert not AuditEvent.objects.filter(action="assignment_changed", actor_username="lena").exists()


def test_an_account_of_another_team_answers_404_and_nothing_moves(
    lead_client: Client, teams: Teams, officer: User, other_officer: User
) -> None:
    own, foreign = make_account(officer), make_account(teams.outsider)
    response = lead_client.post(
        "/team/reassign/", {"accounts": [own.pk, foreign.pk], "officer": other_officer.username}
    )
    assert response.status_code == 404
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.officer, foreign.officer) == (officer, teams.outsider)
    assert AuditEvent.objects.filter(action="permission_denied", role="team_lead", object_type="loanaccount").exists()


def test_no_account_or_a_bad_id_is_a_field_error(lead_client: Client, teams: Teams, other_officer: User) -> None:
    for data in ({"officer": other_officer.username}, {"accounts": ["x"], "officer": other_officer.username}):
        response = lead_client.post("/team/reassign/", data)
        assert response.status_code == 200 and response.context["form"].errors["accounts"], data


def test_reassigning_by_filter_moves_the_matching_accounts(
    lead_client: Client, teams: Teams, officer: User, other_officer: User
) -> None:
    early, late, current = make_account(officer, dpd=10), make_account(officer, dpd=70), make_account(officer, dpd=-2)
    response = lead_client.post(
        "/team/reassign/",
        {
            "select": "filter",
            "filter_officer": officer.username,
            "filter_bucket": "61-90",
            "officer": other_officer.username,
        },
    )
    assert response.status_code == 303
    owners = dict(LoanAccount.objects.values_list("pk", "officer_id"))
    assert owners == {early.pk: officer.pk, late.pk: other_officer.pk, current.pk: officer.pk}


def test_account_assign_moves_open_call_tasks_for_every_caller(officer: User, other_officer: User) -> None:
    account = make_account(officer, outstanding=Decimal("10"))
    task = make_task(account)
    assert account_assign(accounts=[account], officer=other_officer) == 1
    assert account_assign(accounts=[account], officer=other_officer) == 0  # already theirs: nothing changes
    task.refresh_from_db()
    assert task.officer == other_officer
    account_assign(accounts=[account], officer=None)
    task.refresh_from_db()
    assert task.officer is None and not loan_accounts_for_user(other_officer).exists()


def test_account_assign_hands_the_complaints_still_to_answer_to_the_new_officer(
    officer: User, other_officer: User
) -> None:
    account = make_account(officer, outstanding=Decimal("10"))
    pending = complaint_file(
        account=account, officer=officer, complainant="borrower", channel="phone", category="conduct", text="Rude."
    )
    answered = complaint_file(
        account=account, officer=officer, complainant="borrower", channel="sms", category="other", text="Why?"
    )
    Complaint.objects.filter(pk=answered.pk).update(
        status="closed", resolution="Explained.", resolved_at=timezone.now(), closed_at=timezone.now()
    )
    account_assign(accounts=[account], officer=other_officer)
    owners = dict(Complaint.objects.values_list("pk", "owner_id"))
    assert owners == {pending.pk: other_officer.pk, answered.pk: officer.pk}
