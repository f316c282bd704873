"""Writes of family-contact requests: every transition under a row lock, with its audit event."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.roles import CASE_OFFICER, RISK_APPROVER, user_has_role
from audit.record import audit_record, person_key
from collections_app.models import (
    Contact,
    ContactReason,
    LoanAccount,
    Message,
    MessageTemplate,
    PolicyVersion,
    Portfolio,
)
from collections_app.selectors.accounts import loan_accounts_for_user
from review import family_messages
from review.models import JUSTIFICATION_MIN_LENGTH, ApproverAllPortfolios, ApproverPortfolio, FamilyContactRequest
from review.policy import Evaluation
from review.selectors import (
    APPROVER_SCOPE_ATTR,
    MessagePreview,
    eligibility_evaluate,
    reviewable_requests,
    template_current_version,
)

Status = FamilyContactRequest.Status


class IneligibleError(Exception):
    """The request fails at least one eligibility rule; nothing was written."""

    def __init__(self, evaluation: Evaluation, preview: MessagePreview | None = None) -> None:
        super().__init__(evaluation.failure_summary())
        self.evaluation = evaluation
        self.preview = preview


class DecisionConflict(Exception):
    """The request is no longer in a state that allows the action; carries the request as it now stands."""

    def __init__(self, request: FamilyContactRequest) -> None:
        super().__init__(f"request {request.pk} is {request.status}")
        self.request = request


class SeparationOfDutiesError(PermissionDenied):
    """A user tried to decide a request they filed."""


@dataclass(frozen=True)
class DecisionOutcome:
    """What a decision did: the request as it now stands and whether the decision itself stood."""

    request: FamilyContactRequest
    decided: bool


def _persons(request: FamilyContactRequest) -> list[str]:
    return [person_key("borrower", request.account.borrower_id), person_key("contact", request.contact_id)]


def _transition(
    request: FamilyContactRequest,
    status: str,
    *,
    actor: AbstractBaseUser | None,
    role: str = "",
    now: datetime.datetime,
    detail: dict[str, Any] | None = None,
    **fields: Any,
) -> FamilyContactRequest:
    """Move a locked request to `status`, validate, save and audit `request_<status>` in the same transaction."""
    previous = request.status
    if status not in FamilyContactRequest.TRANSITIONS.get(previous, frozenset()):
        raise DecisionConflict(request)
    request.status = status
    for name, value in fields.items():
        setattr(request, name, value)
    if status not in FamilyContactRequest.OPEN_STATUSES:
        request.closed_at = now
    request.full_clean(validate_unique=False, validate_constraints=False)
    request.save()
    audit_record(
        action=f"request_{status}",
        actor=actor,
        role=role,
        object_type="familycontactrequest",
        object_id=request.pk,
        persons=_persons(request),
        # System-written reasons only: the approver's free text stays on the request, out of the audit log.
        detail={
            "from": previous,
            "to": status,
            "reason": request.status_reason,
            "decision_reason": bool(request.decision_reason),
        }
        | (detail or {}),
    )
    return request


def _lock(request_id: int) -> FamilyContactRequest:
    return (
        FamilyContactRequest.objects.select_for_update(of=("self",))
        .select_related("account", "contact", "template_version__template", "policy_version")
        .get(pk=request_id)
    )


def family_contact_request_submit(
    *,
    account: LoanAccount,
    contact: Contact,
    template: MessageTemplate,
    justification: str,
    requested_by: AbstractBaseUser,
    now: datetime.datetime | None = None,
) -> FamilyContactRequest:
    """File a request after evaluating rules 1-7; raise IneligibleError (writing nothing) when any rule fails."""
    now = now or timezone.now()
    if not user_has_role(requested_by, CASE_OFFICER):
        raise PermissionDenied(_("Only case officers file family-contact requests."))
    if len(justification.strip()) < JUSTIFICATION_MIN_LENGTH:
        raise ValidationError(
            {"justification": gettext("Write at least %(n)d characters.") % {"n": JUSTIFICATION_MIN_LENGTH}}
        )
    template_version = template_current_version(template)
    if template_version is None:
        raise ValidationError({"template": gettext("The template has no version.")})
    with transaction.atomic():
        # The account row lock serialises filings for one borrower, so rules 5 and 6 cannot race.
        locked = loan_accounts_for_user(requested_by).select_for_update().filter(pk=account.pk).first()
        if locked is None:
            raise PermissionDenied(_("The account is not in your caseload."))
        evaluation, preview, policy_version = eligibility_evaluate(
            account=account, contact=contact, template_version=template_version, now=now
        )
        if not evaluation.eligible:
            raise IneligibleError(evaluation, preview)
        request = FamilyContactRequest(
            account=account,
            contact=contact,
            template_version=template_version,
            channel=template.channel,
            justification=justification.strip(),
            policy_version=policy_version,
            evaluation_at_filing=evaluation.as_json(),
            requested_by=requested_by,
            requested_at=now,
        )
        request.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError as exc:
            # Only the one-open-request-per-contact constraint can fire here (rule 5).
            raise IneligibleError(evaluation, preview) from exc
        audit_record(
            action="request_submitted",
            actor=requested_by,
            role=CASE_OFFICER,
            object_type="familycontactrequest",
            object_id=request.pk,
            persons=_persons(request),
            detail={"policy_version_id": policy_version.pk, "template_version_id": template_version.pk},
        )
    return request


def family_contact_request_withdraw(
    *, request: FamilyContactRequest, actor: AbstractBaseUser, now: datetime.datetime | None = None
) -> FamilyContactRequest:
    """Withdraw an undecided request; only an officer who works the account may; DecisionConflict once decided."""
    now = now or timezone.now()
    if not user_has_role(actor, CASE_OFFICER):
        raise PermissionDenied(_("Only case officers withdraw requests."))
    with transaction.atomic():
        locked = _lock(request.pk)
        if not loan_accounts_for_user(actor).filter(pk=locked.account_id).exists():
            raise PermissionDenied(_("The account is not in your caseload."))
        if locked.status != Status.SUBMITTED:
            raise DecisionConflict(locked)
        return _transition(locked, Status.WITHDRAWN, actor=actor, role=CASE_OFFICER, now=now)


def _deny(actor: AbstractBaseUser, request_id: int, why: str) -> None:
    # Written in its own transaction: the refusal must be on record even though the action is not taken.
    with transaction.atomic():
        audit_record(
            action="permission_denied",
            actor=actor,
            role=RISK_APPROVER,
            object_type="familycontactrequest",
            object_id=request_id,
            outcome="denied",
            detail={"why": why},
        )


def _decision_allowed(*, request_id: int, decision: str, reason: str, actor: AbstractBaseUser) -> None:
    """Refuse a malformed decision or a decider without the role, the scope or distance from the request.

    Refusals of the decider are audited as `permission_denied`.
    """
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": gettext("Choose approve or reject.")})
    if decision == "reject" and not reason:
        raise ValidationError({"reason": gettext("A rejection needs a reason.")})
    if not user_has_role(actor, RISK_APPROVER):
        _deny(actor, request_id, "role")
        raise PermissionDenied(_("Only risk approvers decide requests."))
    if not reviewable_requests(actor).filter(pk=request_id).exists():
        _deny(actor, request_id, "scope")
        raise PermissionDenied(_("The request is outside your portfolios."))
    requested_by_id = FamilyContactRequest.objects.filter(pk=request_id).values_list("requested_by_id", flat=True)
    if requested_by_id.first() == actor.pk:
        _deny(actor, request_id, "separation_of_duties")
        raise SeparationOfDutiesError(_("You filed this request; someone else must decide it."))


def _reject(
    request: FamilyContactRequest, *, reason: str, actor: AbstractBaseUser, now: datetime.datetime
) -> DecisionOutcome:
    request = _transition(
        request,
        Status.REJECTED,
        actor=actor,
        role=RISK_APPROVER,
        now=now,
        decided_by=actor,
        decided_at=now,
        decision_reason=reason,
    )
    return DecisionOutcome(request, decided=True)


def _approve(
    request: FamilyContactRequest, *, reason: str, actor: AbstractBaseUser, now: datetime.datetime
) -> DecisionOutcome:
    """Re-evaluate the locked request and queue its message; cancel it instead when either fails."""
    evaluation, _preview, policy_version = eligibility_evaluate(
        account=request.account,
        contact=request.contact,
        template_version=request.template_version,
        now=now,
        exclude_request_id=request.pk,
    )
    if not evaluation.eligible:
        request = _transition(
            request,
            Status.CANCELLED,
            actor=actor,
            role=RISK_APPROVER,
            now=now,
            status_reason=evaluation.failure_summary()[:500],
            evaluation_at_decision=evaluation.as_json(),
            detail={"stage": "decision", "failed_rules": [result.rule for result in evaluation.failed]},
        )
        return DecisionOutcome(request, decided=False)
    message = family_messages.family_message_enqueue(
        account=request.account,
        contact=request.contact,
        template_version=request.template_version,
        policy_version=policy_version,
        idempotency_key=f"family-contact-request-{request.pk}",
        actor=actor,
    )
    if message.status == Message.Status.SUPPRESSED:
        # The outbox refused it at once (e.g. the borrower asked communication to cease): nothing will go.
        request = _transition(
            request,
            Status.CANCELLED,
            actor=actor,
            role=RISK_APPROVER,
            now=now,
            status_reason=message.status_reason_label or gettext("The message was suppressed."),
            evaluation_at_decision=evaluation.as_json(),
            message=message,
            detail={"stage": "decision", "message_id": message.pk},
        )
        return DecisionOutcome(request, decided=False)
    request = _transition(
        request,
        Status.APPROVED,
        actor=actor,
        role=RISK_APPROVER,
        now=now,
        decided_by=actor,
        decided_at=now,
        decision_reason=reason,
        evaluation_at_decision=evaluation.as_json(),
        message=message,
        detail={"message_id": message.pk, "policy_version_id": policy_version.pk},
    )
    return DecisionOutcome(request, decided=True)


def family_contact_request_decide(
    *,
    request_id: int,
    decision: str,
    reason: str,
    actor: AbstractBaseUser,
    now: datetime.datetime | None = None,
) -> DecisionOutcome:
    """Approve or reject a submitted request after re-evaluating it; approval queues its one message.

    Raises SeparationOfDutiesError for the requester, DecisionConflict when the request is no longer
    submitted (another decision won), ValidationError for a rejection without a reason. When the
    re-evaluation fails the request is cancelled with the reason and the outcome says `decided=False`.
    """
    now = now or timezone.now()
    reason = reason.strip()
    _decision_allowed(request_id=request_id, decision=decision, reason=reason, actor=actor)
    with transaction.atomic():
        request = _lock(request_id)
        if request.status != Status.SUBMITTED:
            raise DecisionConflict(request)
        if decision == "reject":
            return _reject(request, reason=reason, actor=actor, now=now)
        return _approve(request, reason=reason, actor=actor, now=now)


def family_contact_request_cancel(
    *, request_id: int, reason: str, actor: AbstractBaseUser | None = None, now: datetime.datetime | None = None
) -> FamilyContactRequest:
    """Cancel an open request because eligibility was lost; suppress its message if one is queued."""
    now = now or timezone.now()
    with transaction.atomic():
        request = _lock(request_id)
        request = _transition(request, Status.CANCELLED, actor=actor, now=now, status_reason=reason[:500])
        if request.message_id is not None:
            family_messages.message_suppress(
                message=request.message, reason=ContactReason.REQUEST_CANCELLED, why=reason, actor=actor
            )
        return request


def family_contact_requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire approvals not sent in time (suppressing their message) and requests undecided for too long."""
    now = now or timezone.now()
    expired = 0
    for version in PolicyVersion.objects.filter(
        pk__in=FamilyContactRequest.objects.filter(status__in=FamilyContactRequest.OPEN_STATUSES).values(
            "policy_version_id"
        )
    ):
        send_cutoff = now - datetime.timedelta(hours=version.approval_send_hours)
        decide_cutoff = now - datetime.timedelta(days=version.decision_expiry_days)
        candidates = FamilyContactRequest.objects.filter(policy_version=version).filter(
            status=Status.APPROVED, decided_at__lte=send_cutoff
        ) | FamilyContactRequest.objects.filter(
            policy_version=version, status=Status.SUBMITTED, requested_at__lte=decide_cutoff
        )
        for request_id in candidates.values_list("pk", flat=True):
            with transaction.atomic():
                request = _lock(request_id)
                if request.status == Status.APPROVED and request.decided_at <= send_cutoff:
                    reason = gettext("Not sent within %(hours)d hours of approval.") % {
                        "hours": version.approval_send_hours
                    }
                elif request.status == Status.SUBMITTED and request.requested_at <= decide_cutoff:
                    reason = gettext("No decision within %(days)d days.") % {"days": version.decision_expiry_days}
                else:
                    continue  # moved on since the candidate query
                _transition(request, Status.EXPIRED, actor=None, now=now, status_reason=reason)
                if request.message_id is not None:
                    family_messages.message_suppress(message=request.message, reason=ContactReason.EXPIRED, why=reason)
                expired += 1
    return expired


def _scope_forget(user: AbstractBaseUser) -> None:
    """Drop the scope the selectors keep on this user object: it has just changed."""
    user.__dict__.pop(APPROVER_SCOPE_ATTR, None)


def approver_portfolio_grant(
    *, user: AbstractBaseUser, portfolio: Portfolio, actor: AbstractBaseUser | None = None
) -> ApproverPortfolio:
    """Grant an approver a portfolio, adding to those they hold; an all-portfolios grant narrows to it."""
    with transaction.atomic():
        narrowed, _counts = ApproverAllPortfolios.objects.filter(user=user).delete()
        grant, _created = ApproverPortfolio.objects.get_or_create(user=user, portfolio=portfolio)
        audit_record(
            action="assignment_changed",
            actor=actor,
            object_type="approverportfolio",
            object_id=grant.pk,
            detail={
                "approver_id": user.pk,
                "portfolio": portfolio.code,
                "change": "granted",
                "all_portfolios_revoked": bool(narrowed),
            },
        )
    _scope_forget(user)
    return grant


def approver_portfolio_revoke(
    *, user: AbstractBaseUser, portfolio: Portfolio, actor: AbstractBaseUser | None = None
) -> None:
    """Remove an approver's grant on a portfolio (with no grant left, the approver sees nothing)."""
    with transaction.atomic():
        ApproverPortfolio.objects.filter(user=user, portfolio=portfolio).delete()
        audit_record(
            action="assignment_changed",
            actor=actor,
            object_type="approverportfolio",
            object_id=f"{user.pk}:{portfolio.pk}",
            detail={"approver_id": user.pk, "portfolio": portfolio.code, "change": "revoked"},
        )
    _scope_forget(user)


def approver_all_portfolios_grant(
    *, user: AbstractBaseUser, actor: AbstractBaseUser | None = None
) -> ApproverAllPortfolios:
    """Grant an approver every portfolio, present and future; the single-portfolio grants it replaces go."""
    with transaction.atomic():
        replaced = sorted(ApproverPortfolio.objects.filter(user=user).values_list("portfolio__code", flat=True))
        ApproverPortfolio.objects.filter(user=user).delete()
        grant, _created = ApproverAllPortfolios.objects.get_or_create(user=user)
        audit_record(
            action="assignment_changed",
            actor=actor,
            object_type="approverallportfolios",
            object_id=grant.pk,
            detail={"approver_id": user.pk, "portfolio": "*", "change": "granted", "replaced": replaced},
        )
    _scope_forget(user)
    return grant
