"""Repayment plans under maker-checker: proposed on the account page, decided by a team lead who did not propose
them, kept while the instalments are paid and broken by a missed one, which resumes the ladder."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from access.models import Team
from access.roles import CASE_OFFICER, TEAM_LEAD
from audit.models import AuditEvent
from collections_app.account_rules import TimedPayment, instalments_settled
from collections_app.dpd import lender_today
from collections_app.models import CallTask, LoanAccount, PlanInstalment, RepaymentPlan
from collections_app.selectors.profiles import kept_plan_q
from collections_app.services.plans import repayment_plans_settle
from tests.collections_app.support import make_task
from tests.collections_app.team.conftest import Teams
from tests.conftest import signed_in
from tests.factories import make_account, make_payment, make_plan, make_user

pytestmark = pytest.mark.django_db
Status = RepaymentPlan.Status


def proposal(rows: list[tuple[datetime.date, str]], **fields: str) -> dict[str, object]:
    """The proposal form's POST: the kind, the instalment rows of the formset, the difference's reason."""
    data: dict[str, object] = {
        "kind": fields.get("kind", "instalments"),
        "difference_reason": fields.get("difference_reason", ""),
        "instalments-TOTAL_FORMS": "6",
        "instalments-INITIAL_FORMS": "0",
        "instalments-MIN_NUM_FORMS": "0",
        "instalments-MAX_NUM_FORMS": "24",
    }
    for i, (due, amount) in enumerate(rows):
        data[f"instalments-{i}-due_date"] = due.isoformat()
        data[f"instalments-{i}-amount"] = amount
    return data


def days(n: int) -> datetime.date:
    return lender_today() + datetime.timedelta(days=n)


def test_an_officer_proposes_a_plan_that_totals_the_outstanding(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("900.00"))
    client = signed_in(officer)
    assert client.get(f"/cases/{account.pk}/plans/new/").status_code == 200
    response = client.post(
        f"/cases/{account.pk}/plans/new/", proposal([(days(7), "300.00"), (days(37), "300.00"), (days(67), "300.00")])
    )
    assert response.status_code == 303 and response["Location"] == f"/cases/{account.pk}/"
    plan = RepaymentPlan.objects.get(account=account)
    assert (plan.status, plan.created_by, plan.outstanding_at_proposal) == (Status.PROPOSED, officer, Decimal("900"))
    assert list(plan.instalments.values_list("amount", flat=True)) == [Decimal("300")] * 3
    event = AuditEvent.objects.get(action="plan_proposed")
    assert (event.object_id, event.role, event.detail["instalments"]) == (str(plan.pk), "case_officer", 3)
    assert f'data-plan="{plan.pk}"' in client.get(f"/cases/{account.pk}/").content.decode()


def test_a_total_that_differs_from_the_outstanding_needs_its_reason(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("900.00"))
    client = signed_in(officer)
    rows = [(days(7), "300.00"), (days(37), "300.00")]
    response = client.post(f"/cases/{account.pk}/plans/new/", proposal(rows))
    assert response.status_code == 200
    assert response.context["form"].errors["difference_reason"]
    assert not RepaymentPlan.objects.exists()
    explained = proposal(rows, difference_reason="The lender waived the late fees of 300 in writing.")
    assert client.post(f"/cases/{account.pk}/plans/new/", explained).status_code == 303
    assert RepaymentPlan.objects.get().difference_reason.startswith("The lender waived")


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        ([], "instalments"),
        ([(-1, "900.00")], "instalments"),
        ([(30, "450.00"), (10, "450.00")], "instalments"),
        ([(10, "450.00"), (40, "450.00")], "extension"),
        ([(2000, "900.00")], "instalments"),
    ],
    ids=["no-instalment", "in-the-past", "out-of-order", "extension-of-two", "beyond-three-years"],
)
def test_a_malformed_proposal_is_a_field_error_and_writes_nothing(officer: User, rows, kind) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("900.00"))
    response = signed_in(officer).post(
        f"/cases/{account.pk}/plans/new/", proposal([(days(n), amount) for n, amount in rows], kind=kind)
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not RepaymentPlan.objects.exists() and not PlanInstalment.objects.exists()


def test_an_extension_is_one_new_date_for_the_whole_amount(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("900.00"))
    response = signed_in(officer).post(
        f"/cases/{account.pk}/plans/new/", proposal([(days(20), "900.00")], kind="extension")
    )
    assert response.status_code == 303
    assert RepaymentPlan.objects.get().kind == "extension"


def test_one_open_plan_per_account(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("900.00"))
    client = signed_in(officer)
    assert client.post(f"/cases/{account.pk}/plans/new/", proposal([(days(9), "900.00")])).status_code == 303
    again = client.post(f"/cases/{account.pk}/plans/new/", proposal([(days(9), "900.00")]))
    assert again.status_code == 200 and again.context["form"].non_field_errors()
    assert RepaymentPlan.objects.count() == 1


def test_another_officers_account_is_404(officer: User, other_officer: User) -> None:
    account = make_account(other_officer, dpd=40)
    assert signed_in(officer).post(f"/cases/{account.pk}/plans/new/", proposal([(days(9), "1.00")])).status_code == 404
    assert not RepaymentPlan.objects.exists()


def test_the_lead_approves_with_a_reason_and_the_ladder_pauses(lead_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("600.00"))
    plan = make_plan(account, officer, status=Status.PROPOSED, instalments=[(days(5), Decimal("600"))])
    task = make_task(account, days_ago=0)
    assert lead_client.get(f"/team/plans/{plan.pk}/").status_code == 200
    assert f'data-plan="{plan.pk}"' in lead_client.get("/team/").content.decode()
    response = lead_client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "approve", "reason": "Affordable."})
    assert response.status_code == 303
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by, plan.decision_reason) == (Status.APPROVED, teams.lead, "Affordable.")
    event = AuditEvent.objects.get(action="plan_approved")
    assert (event.role, event.detail["from"], event.detail["to"]) == ("team_lead", "proposed", "approved")
    assert "Affordable" not in str(event.detail)
    assert LoanAccount.objects.filter(pk=account.pk).filter(kept_plan_q(today=lender_today())).exists()
    task.refresh_from_db()
    assert task.status == CallTask.Status.CANCELLED


def test_a_rejection_needs_a_reason_and_a_decided_plan_answers_409(lead_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer, dpd=40)
    plan = make_plan(account, officer, status=Status.PROPOSED, instalments=[(days(5), Decimal("600"))])
    response = lead_client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert lead_client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "reject", "reason": "Not affordable."})
    plan.refresh_from_db()
    assert (plan.status, plan.closed_at is not None) == (Status.REJECTED, True)
    again = lead_client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "approve", "reason": "Changed my mind."})
    assert again.status_code == 409
    plan.refresh_from_db()
    assert plan.status == Status.REJECTED


def test_the_proposer_cannot_approve_their_own_plan(officer: User) -> None:
    # An officer who also leads their own team: the role allows the decision, maker-checker does not.
    both = make_user("olga", CASE_OFFICER, TEAM_LEAD)
    Team.objects.create(name="Olga's", lead=both).members.add(both)
    account = make_account(both, dpd=40, outstanding=Decimal("500.00"))
    client = signed_in(both)
    assert client.post(f"/cases/{account.pk}/plans/new/", proposal([(days(5), "500.00")])).status_code == 303
    plan = RepaymentPlan.objects.get(account=account)
    assert "decision-form" not in client.get(f"/team/plans/{plan.pk}/").content.decode()
    response = client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "approve", "reason": "Looks fine to me."})
    assert response.status_code == 403
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by) == (Status.PROPOSED, None)
    assert AuditEvent.objects.filter(action="permission_denied", object_type="repaymentplan").exists()
    # The database refuses it too, whatever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentPlan.objects.filter(pk=plan.pk).update(
            status=Status.APPROVED, decided_by=both, decided_at=timezone.now(), decision_reason="self"
        )


def test_a_lead_of_another_team_cannot_see_or_decide_the_plan(teams: Teams, officer) -> None:
    plan = make_plan(make_account(officer), officer, status=Status.PROPOSED, instalments=[(days(5), Decimal("9"))])
    client = signed_in(teams.other_lead)
    assert client.get(f"/team/plans/{plan.pk}/").status_code == 404
    assert client.post(f"/team/plans/{plan.pk}/decide/", {"decision": "approve", "reason": "x"}).status_code == 404


def test_the_officer_withdraws_a_proposal_awaiting_its_decision(officer: User) -> None:
    account = make_account(officer, dpd=40)
    plan = make_plan(account, officer, status=Status.PROPOSED, instalments=[(days(5), Decimal("9"))])
    response = signed_in(officer).post(f"/cases/{account.pk}/plans/{plan.pk}/withdraw/", {"reason": "Paid in full."})
    assert response.status_code == 303
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == (Status.CANCELLED, "Paid in full.")
    assert AuditEvent.objects.filter(action="plan_cancelled", object_id=str(plan.pk)).exists()


def test_payments_settle_the_instalments_active_then_kept(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("600.00"))
    agreed = timezone.now() - datetime.timedelta(days=10)
    plan = make_plan(
        account, officer, agreed_at=agreed, instalments=[(days(-2), Decimal("300")), (days(20), Decimal("300"))]
    )
    make_payment(account, Decimal("300"), paid_at=agreed + datetime.timedelta(days=5))
    assert repayment_plans_settle()["plans_active"] == 1
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert LoanAccount.objects.filter(pk=account.pk).filter(kept_plan_q(today=lender_today())).exists()
    make_payment(account, Decimal("300"), paid_at=timezone.now())
    repayment_plans_settle()
    plan.refresh_from_db()
    assert (plan.status, plan.closed_at is not None) == (Status.KEPT, True)
    assert all(plan.instalments.values_list("paid_at", flat=True))
    assert [e.action for e in AuditEvent.objects.filter(object_type="repaymentplan").order_by("id")] == [
        "plan_active",
        "plan_kept",
    ]


def test_a_missed_instalment_breaks_the_plan_and_the_ladder_resumes(officer: User) -> None:
    account = make_account(officer, dpd=40, outstanding=Decimal("600.00"))
    plan = make_plan(account, officer, instalments=[(days(-1), Decimal("300")), (days(29), Decimal("300"))])
    # The pause ends the day the instalment falls overdue, before any job runs (the SQL twin of plan_kept).
    assert not LoanAccount.objects.filter(pk=account.pk).filter(kept_plan_q(today=lender_today())).exists()
    assert repayment_plans_settle()["plans_broken"] == 1
    plan.refresh_from_db()
    assert plan.status == Status.BROKEN and days(-1).isoformat() in plan.status_reason
    event = AuditEvent.objects.get(action="plan_broken")
    assert event.actor_id is None and days(-1).isoformat() in event.detail["reason"]
    # A broken plan is closed: the officer may propose the next one.
    assert (
        signed_in(officer).post(f"/cases/{account.pk}/plans/new/", proposal([(days(5), "600.00")])).status_code == 303
    )


def test_the_database_refuses_a_move_the_transitions_do_not_allow(officer: User) -> None:
    plan = make_plan(make_account(officer), officer, status=Status.REJECTED, instalments=[(days(5), Decimal("9"))])
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentPlan.objects.filter(pk=plan.pk).update(status=Status.APPROVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentPlan.objects.filter(pk=plan.pk).update(status=Status.PROPOSED)


def test_plan_statuses_are_those_of_the_contract() -> None:
    assert RepaymentPlan.Status.values == ["proposed", "approved", "rejected", "active", "kept", "broken", "cancelled"]


def test_instalments_are_paid_in_due_order_as_the_money_arrives() -> None:
    t = [datetime.datetime(2026, 5, d, 10, tzinfo=datetime.UTC) for d in (1, 2, 3)]
    amounts = [Decimal("100"), Decimal("100"), Decimal("100")]
    payments = [
        TimedPayment(t[1], Decimal("150")),
        TimedPayment(t[0], Decimal("30")),
        TimedPayment(t[2], Decimal("20")),
    ]
    assert instalments_settled(amounts=amounts, payments=payments) == [t[1], t[2], None]
    assert instalments_settled(amounts=amounts, payments=[]) == [None, None, None]
    assert instalments_settled(amounts=amounts, payments=[TimedPayment(t[0], Decimal("300"))]) == [t[0]] * 3
