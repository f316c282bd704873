"""Repayment plans under maker-checker: an officer proposes, a team lead decides, payments keep or break the plan.

Every status change goes through `_transition`, which checks the move against `RepaymentPlan.TRANSITIONS`
(the database trigger of migration 0012 holds the same table), saves, and records `plan_<status>` in the same
transaction. Whoever proposed a plan never decides it: checked here and by the `plan_decider_is_not_proposer`
constraint. `repayment_plans_settle` (daily, before escalation) marks instalments paid from the payments that
arrived and breaks a plan once an instalment is unpaid past its due date, so the ladder resumes.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER, TEAM_LEAD
from audit.record import audit_record, audit_record_many, person_key
from collections_app import account_rules as rules
from collections_app.dpd import lender_today
from collections_app.models import LoanAccount, Payment, PlanInstalment, RepaymentPlan
from collections_app.services.call_tasks import call_tasks_cancel_not_due

Status = RepaymentPlan.Status
DECISIONS = {"approve": Status.APPROVED, "reject": Status.REJECTED}
REASON_MAX_LENGTH = 1000


class PlanConflict(Exception):
    """The plan is no longer in a status that allows the step; carries the plan as it now stands."""

    def __init__(self, plan: RepaymentPlan) -> None:
        super().__init__(f"plan {plan.pk} is {plan.status}")
        self.plan = plan


class ProposerCannotDecide(PermissionDenied):
    """The user who proposed a plan tried to decide it."""


def _event(
    plan: RepaymentPlan, previous: str, *, actor: AbstractBaseUser | None, role: str, reason: str = ""
) -> dict[str, Any]:
    """The `plan_<status>` event of a move from `previous`, as `audit_record`'s keyword arguments.

    `reason` is a system-written reason (a missed instalment); what people write stays on the plan, and the
    log says only whether there was any.
    """
    return {
        "action": f"plan_{plan.status}",
        "actor": actor,
        "role": role,
        "object_type": "repaymentplan",
        "object_id": plan.pk,
        "persons": [person_key("borrower", plan.account.borrower_id)],
        "detail": {
            "account_id": plan.account_id,
            "from": previous,
            "to": plan.status,
            "reason": reason,
            "reason_written": bool(plan.decision_reason or (plan.status_reason and not reason)),
        },
    }


def _transition(
    plan: RepaymentPlan,
    status: str,
    *,
    actor: AbstractBaseUser | None,
    role: str,
    now: datetime.datetime,
    **fields: Any,
) -> RepaymentPlan:
    """Move a locked plan to `status`, validate, save and audit `plan_<status>` in the caller's transaction."""
    previous = plan.status
    if status not in RepaymentPlan.TRANSITIONS.get(previous, frozenset()):
        raise PlanConflict(plan)
    plan.status = status
    for name, value in fields.items():
        setattr(plan, name, value)
    if status not in RepaymentPlan.OPEN_STATUSES:
        plan.closed_at = now
    plan.full_clean(validate_unique=False, validate_constraints=False)
    plan.save()
    audit_record(**_event(plan, previous, actor=actor, role=role))
    return plan


def _lock(plan_id: int) -> RepaymentPlan:
    return RepaymentPlan.objects.select_for_update(of=("self",)).select_related("account").get(pk=plan_id)


def repayment_plan_propose(
    *,
    account: LoanAccount,
    officer: AbstractBaseUser,
    kind: str,
    instalments: Sequence[rules.ProposedInstalment],
    difference_reason: str = "",
    now: datetime.datetime | None = None,
) -> RepaymentPlan:
    """File a plan for the lead's decision; field errors (ValidationError) write nothing. One open plan per account."""
    now = now or timezone.now()
    if kind not in RepaymentPlan.Kind.values:
        raise ValidationError({"kind": _("Choose instalments or an extension.")})
    difference_reason = difference_reason.strip()
    try:
        with transaction.atomic():
            # The account's row lock serialises proposals, so the outstanding compared is the one on file.
            locked = LoanAccount.objects.select_for_update().get(pk=account.pk)
            errors = rules.plan_proposal_errors(
                kind=kind,
                instalments=instalments,
                outstanding=locked.outstanding,
                difference_reason=difference_reason,
                today=lender_today(now),
            )
            if errors:
                raise ValidationError(errors)
            if RepaymentPlan.objects.filter(account=locked, status__in=RepaymentPlan.OPEN_STATUSES).exists():
                raise ValidationError(_("This account already has a plan proposed or in force."))
            plan = RepaymentPlan(
                account=locked,
                kind=kind,
                agreed_at=now,
                created_by=officer,
                outstanding_at_proposal=locked.outstanding,
                difference_reason=difference_reason,
            )
            plan.full_clean(validate_constraints=False)
            plan.save()
            PlanInstalment.objects.bulk_create(
                PlanInstalment(plan=plan, due_date=item.due_date, amount=item.amount) for item in instalments
            )
            audit_record(
                action="plan_proposed",
                actor=officer,
                role=CASE_OFFICER,
                object_type="repaymentplan",
                object_id=plan.pk,
                persons=[person_key("borrower", locked.borrower_id)],
                detail={
                    "account_id": locked.pk,
                    "kind": kind,
                    "instalments": len(instalments),
                    "total": str(sum(item.amount for item in instalments)),
                    "outstanding": str(locked.outstanding),
                    "difference_explained": bool(difference_reason),
                },
            )
    except IntegrityError as exc:
        # Two proposals at once: the partial unique constraint lets one stand.
        raise ValidationError(_("This account already has a plan proposed or in force.")) from exc
    return plan


def repayment_plan_decide(
    *, plan: RepaymentPlan, lead: AbstractBaseUser, decision: str, reason: str, now: datetime.datetime | None = None
) -> RepaymentPlan:
    """Approve or reject a proposed plan with a reason; never by its proposer; PlanConflict once it was decided."""
    now = now or timezone.now()
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve or reject.")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the decision.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(max)d characters.") % {"max": REASON_MAX_LENGTH}})
    if plan.created_by_id == lead.pk:
        raise ProposerCannotDecide(_("You proposed this plan: another team lead decides it."))
    with transaction.atomic():
        locked = _lock(plan.pk)
        _transition(
            locked,
            DECISIONS[decision],
            actor=lead,
            role=TEAM_LEAD,
            now=now,
            decided_by=lead,
            decided_at=now,
            decision_reason=reason,
        )
        if locked.status == Status.APPROVED:
            # The ladder pauses from now: the account's open call tasks are no longer asked for.
            call_tasks_cancel_not_due(reason="plan", account_ids=[locked.account_id], actor=lead, role=TEAM_LEAD)
    return locked


def repayment_plan_withdraw(
    *, plan: RepaymentPlan, officer: AbstractBaseUser, reason: str, now: datetime.datetime | None = None
) -> RepaymentPlan:
    """Cancel a plan still awaiting its decision (the borrower changed their mind); PlanConflict once decided."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required.")})
    with transaction.atomic():
        locked = _lock(plan.pk)
        if locked.status != Status.PROPOSED:
            raise PlanConflict(locked)
        return _transition(
            locked, Status.CANCELLED, actor=officer, role=CASE_OFFICER, now=now, status_reason=reason[:500]
        )


def repayment_plans_settle(
    *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Mark instalments paid from the payments since each plan was agreed; move plans to active, kept or broken.

    Set-based reads (three queries whatever the number of plans), bulk writes, one `plan_<status>` event per
    plan that moved. A plan broken here stops pausing the ladder; `kept_plan_q` already stopped counting it
    the day its instalment fell overdue.
    """
    now = now or timezone.now()
    today = today or lender_today(now)
    with transaction.atomic():
        plans = list(
            RepaymentPlan.objects.select_for_update(of=("self",))
            .filter(status__in=RepaymentPlan.IN_FORCE_STATUSES)
            .select_related("account")
            .order_by("pk")
        )
        by_plan: dict[int, list[PlanInstalment]] = defaultdict(list)
        for instalment in PlanInstalment.objects.filter(plan__status__in=RepaymentPlan.IN_FORCE_STATUSES).order_by(
            "plan_id", "due_date", "pk"
        ):
            by_plan[instalment.plan_id].append(instalment)
        payments: dict[int, list[rules.TimedPayment]] = defaultdict(list)
        in_force_accounts = RepaymentPlan.objects.filter(status__in=RepaymentPlan.IN_FORCE_STATUSES).values(
            "account_id"
        )
        for account_id, paid_at, amount in Payment.objects.filter(account_id__in=in_force_accounts).values_list(
            "account_id", "paid_at", "amount"
        ):
            payments[account_id].append(rules.TimedPayment(paid_at, amount))
        paid_now: list[PlanInstalment] = []
        events: list[dict[str, Any]] = []
        moved = defaultdict(int)
        for plan in plans:
            instalments = by_plan[plan.pk]
            paid_now += _settle_instalments(plan, instalments, payments[plan.account_id])
            status, reason = _settled_status(plan, instalments, today)
            if status != plan.status:
                previous = plan.status
                plan.status, plan.status_reason = status, reason
                if status not in RepaymentPlan.OPEN_STATUSES:
                    plan.closed_at = now
                events.append(_event(plan, previous, actor=None, role="", reason=reason))
                moved[status] += 1
        PlanInstalment.objects.bulk_update(paid_now, ["paid_at"], batch_size=1000)
        for status in moved:
            changed = [plan for plan in plans if plan.status == status]
            RepaymentPlan.objects.bulk_update(changed, ["status", "status_reason", "closed_at"], batch_size=1000)
        audit_record_many(events)
    return {"instalments_paid": len(paid_now), **{f"plans_{status}": n for status, n in moved.items()}}


def _settle_instalments(
    plan: RepaymentPlan, instalments: list[PlanInstalment], payments: list[rules.TimedPayment]
) -> list[PlanInstalment]:
    """Fill the paid time of the plan's instalments that its payments now cover; the instalments changed."""
    agreed_on = lender_today(plan.agreed_at)
    since = [payment for payment in payments if lender_today(payment.paid_at) >= agreed_on]
    settled = rules.instalments_settled(amounts=[i.amount for i in instalments], payments=since)
    changed = []
    for instalment, paid_at in zip(instalments, settled, strict=True):
        # A time already recorded stays: settling only fills what is missing.
        if instalment.paid_at is None and paid_at is not None:
            instalment.paid_at = paid_at
            changed.append(instalment)
    return changed


def _settled_status(plan: RepaymentPlan, instalments: list[PlanInstalment], today: datetime.date) -> tuple[str, str]:
    """The status a plan in force takes given its instalments today, and the reason for a move."""
    facts = [rules.InstalmentFact(i.due_date, lender_today(i.paid_at) if i.paid_at else None) for i in instalments]
    if instalments and all(fact.paid_on is not None for fact in facts):
        return Status.KEPT, _("Every instalment is paid.")
    result = rules.plan_kept(active=True, instalments=facts, today=today)
    if not result.kept:
        missed = ", ".join(day.isoformat() for day in result.missed)
        return Status.BROKEN, _("An instalment is unpaid past its due date: %(dates)s") % {"dates": missed}
    if plan.status == Status.APPROVED and any(fact.paid_on is not None for fact in facts):
        return Status.ACTIVE, _("The first instalment is paid.")
    return plan.status, plan.status_reason
