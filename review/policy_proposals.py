"""Writes of policy proposals: no rule changes without a second person, none crosses a legal floor.

A change to a profile's fields, or to which profile a portfolio uses, is filed as a proposal with an
effective-from time (`policy_change_file`, `policy_switch_file`): filing builds the version it would add and
validates it in full (the legal floors, the firewall), so a refused one writes nothing. A risk approver who did
not propose it decides it (`policy_proposal_decide`; the database refuses the proposer too). Approving a change
adds the profile's next version, in force from the later of its effective time and the approval
(`collections_app.services.profiles.policy_version_create`). A switch moves the portfolio when its time comes:
at approval when that time has passed, else by `policy_switches_apply` (the beat runs it every minute).
"""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from access.roles import RISK_APPROVER, user_has_role
from audit.record import audit_record
from collections_app.models import PolicyProfile, PolicyVersion, Portfolio
from collections_app.services.profiles import policy_changeable_fields, policy_version_create, policy_version_draft
from review.models import PolicyProposal

User = AbstractBaseUser | AnonymousUser
Status = PolicyProposal.Status
# How far back an effective time may lie (a form filled in a minute ago) and how far ahead it may be set.
EFFECTIVE_FROM_GRACE = datetime.timedelta(minutes=5)
EFFECTIVE_FROM_HORIZON = datetime.timedelta(days=366)
# The permission, besides the risk approver's role, that lets an administrator file (superusers hold every one).
FILE_PERMISSION = "review.add_policyproposal"


class PolicyDecisionConflict(Exception):
    """The proposal no longer awaits a decision."""

    def __init__(self, proposal: PolicyProposal) -> None:
        super().__init__(f"policy proposal {proposal.pk} is {proposal.status}")
        self.proposal = proposal


def policy_proposal_may_file(user: User) -> bool:
    """Who may file a policy proposal: a risk approver, or an administrator holding `FILE_PERMISSION`."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user_has_role(user, RISK_APPROVER) or user.has_perm(FILE_PERMISSION)


def policy_value_to_json(name: str, value: Any) -> Any:
    """A field's value as the proposal stores it: JSON (a time as HH:MM:SS)."""
    return value.isoformat() if isinstance(value, datetime.time) else value


def policy_value_from_json(name: str, value: Any) -> Any:
    """A stored value back as the version's field holds it."""
    field = PolicyVersion._meta.get_field(name)
    return value if isinstance(field, models.JSONField) else field.to_python(value)


def policy_value_parse(name: str, text: str) -> Any:
    """A value typed into a form (`value`) as the field's Python value; ValidationError on `value` if it is not one.

    Lists and mappings (the ladder's days, hotlines, reveal purposes) are written as JSON; a time as HH:MM;
    a yes/no field as true or false; an empty text clears a field that may be empty.
    """
    field = PolicyVersion._meta.get_field(name)
    try:
        return field.formfield().clean(text)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from exc


def _effective_from_checked(effective_from: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    if effective_from is None:
        return now
    if effective_from < now - EFFECTIVE_FROM_GRACE or effective_from > now + EFFECTIVE_FROM_HORIZON:
        raise ValidationError(
            {"effective_from": gettext("Choose a time from now to one year ahead (or leave it empty: now).")}
        )
    return effective_from


def _deny(actor: User, proposal_id: int | None, why: str) -> None:
    audit_record(
        action="permission_denied",
        actor=actor,
        role=RISK_APPROVER,
        object_type="policyproposal",
        object_id=proposal_id or "",
        outcome="denied",
        detail={"reason": why},
    )


def _may_file_or_deny(actor: User) -> None:
    if not policy_proposal_may_file(actor):
        _deny(actor, None, "role")
        raise PermissionDenied(gettext("Only a risk approver or an administrator may propose a policy change."))


def _proposed(proposal: PolicyProposal, *, actor: User, fields: list[str]) -> PolicyProposal:
    proposal.full_clean()
    proposal.save()
    audit_record(
        action="policy_proposed",
        actor=actor,
        role=RISK_APPROVER if user_has_role(actor, RISK_APPROVER) else "admin",
        object_type="policyproposal",
        object_id=proposal.pk,
        fields=[f"policyversion.{name}" for name in fields],
        detail={
            "kind": proposal.kind,
            "profile": proposal.profile.code,
            "portfolio": proposal.portfolio_id,
            "new_profile": proposal.new_profile.code if proposal.new_profile else None,
            "effective_from": proposal.effective_from.isoformat(),
        },
    )
    return proposal


def policy_change_file(
    *,
    actor: User,
    profile: PolicyProfile,
    changes: dict[str, Any],
    effective_from: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> PolicyProposal:
    """Propose new values for fields of `profile`, in force from `effective_from` (default: now) once approved.

    The version it would add is validated in full first: a value below a legal floor, or free text the
    firewall refuses, raises ValidationError naming the rule and its source, and nothing is written.
    """
    _may_file_or_deny(actor)
    now = now or timezone.now()
    effective_from = _effective_from_checked(effective_from, now)
    if not changes:
        raise ValidationError({"field": gettext("Name a field to change.")})
    unknown = sorted(set(changes) - set(policy_changeable_fields()))
    if unknown:
        raise ValidationError({"field": gettext("Not a policy field: %(names)s.") % {"names": ", ".join(unknown)}})
    with transaction.atomic():
        PolicyProfile.objects.select_for_update().get(pk=profile.pk)
        draft, newest = policy_version_draft(profile=profile, changes=changes, effective_from=effective_from)
        draft.full_clean()
        changed = sorted(name for name in changes if newest is None or getattr(newest, name) != getattr(draft, name))
        if not changed:
            raise ValidationError({"value": gettext("The profile already has this value: nothing would change.")})
        proposal = PolicyProposal(
            kind=PolicyProposal.Kind.PROFILE_CHANGE,
            profile=profile,
            changes={name: policy_value_to_json(name, getattr(draft, name)) for name in changed},
            effective_from=effective_from,
            proposed_by=actor,
            proposed_at=now,
        )
        return _proposed(proposal, actor=actor, fields=changed)


def policy_switch_file(
    *,
    actor: User,
    portfolio: Portfolio,
    new_profile: PolicyProfile,
    effective_from: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> PolicyProposal:
    """Propose that `portfolio` use `new_profile` from `effective_from` (default: now) once approved; only a
    profile of the portfolio's kind (ValidationError on `profile` otherwise, and nothing is written)."""
    _may_file_or_deny(actor)
    now = now or timezone.now()
    effective_from = _effective_from_checked(effective_from, now)
    if new_profile.kind != portfolio.kind:
        raise ValidationError(
            {
                "profile": gettext("A %(kind)s portfolio can use only a %(kind)s policy profile.")
                % {"kind": portfolio.kind}
            }
        )
    if new_profile.pk == portfolio.policy_profile_id:
        raise ValidationError({"profile": gettext("The portfolio already uses this profile: nothing would change.")})
    proposal = PolicyProposal(
        kind=PolicyProposal.Kind.PORTFOLIO_SWITCH,
        profile_id=portfolio.policy_profile_id,
        portfolio=portfolio,
        new_profile=new_profile,
        effective_from=effective_from,
        proposed_by=actor,
        proposed_at=now,
    )
    with transaction.atomic():
        return _proposed(proposal, actor=actor, fields=["portfolio.policy_profile"])


def policy_proposal_changes(proposal: PolicyProposal) -> dict[str, Any]:
    """The proposal's field -> value, as the version's fields hold them."""
    return {name: policy_value_from_json(name, value) for name, value in proposal.changes.items()}


def _switch_apply(proposal: PolicyProposal, *, now: datetime.datetime, actor: User | None) -> None:
    """Move the proposal's portfolio to its new profile (the database refuses a profile of another kind)."""
    portfolio = Portfolio.objects.select_for_update().get(pk=proposal.portfolio_id)
    before = portfolio.policy_profile_id
    portfolio.policy_profile_id = proposal.new_profile_id
    portfolio.full_clean()
    portfolio.save(update_fields=["policy_profile"])
    proposal.applied_at = now
    proposal.save(update_fields=["applied_at"])
    audit_record(
        action="policy_switch_applied",
        actor=actor,
        object_type="portfolio",
        object_id=portfolio.pk,
        fields=["portfolio.policy_profile"],
        detail={"proposal": proposal.pk, "from_profile": before, "to_profile": proposal.new_profile_id},
    )


def policy_proposal_decide(
    *, proposal_id: int, decision: str, reason: str, actor: User, now: datetime.datetime | None = None
) -> PolicyProposal:
    """Approve or reject a proposal: the one place a policy proposal is decided.

    Only a risk approver who did not propose it (PermissionDenied, audited, otherwise; the database refuses the
    proposer too). A rejection needs a reason. PolicyDecisionConflict once decided. Approving a change adds the
    profile's next version (validated again: the floors hold whatever happened since filing), in force from the
    later of the proposal's time and now; a switch whose time has come moves the portfolio at once.
    """
    now = now or timezone.now()
    reason = reason.strip()
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": gettext("Choose approve or reject.")})
    if decision == "reject" and not reason:
        raise ValidationError({"reason": gettext("A rejection needs a reason.")})
    if not user_has_role(actor, RISK_APPROVER):
        _deny(actor, proposal_id, "role")
        raise PermissionDenied(gettext("Only a risk approver may decide a policy proposal."))
    proposer_id = PolicyProposal.objects.filter(pk=proposal_id).values_list("proposed_by_id", flat=True).first()
    if proposer_id is not None and proposer_id == actor.pk:
        _deny(actor, proposal_id, "separation_of_duties")
        raise PermissionDenied(gettext("You proposed this change: another risk approver must decide it."))
    with transaction.atomic():
        proposal = PolicyProposal.objects.select_for_update().select_related("profile").get(pk=proposal_id)
        if proposal.status != Status.PROPOSED:
            raise PolicyDecisionConflict(proposal)
        proposal.decided_by, proposal.decided_at, proposal.reason = actor, now, reason
        if decision == "reject":
            proposal.status = Status.REJECTED
        else:
            proposal.status = Status.APPROVED
            effective_from = max(proposal.effective_from, now)
            if proposal.kind == PolicyProposal.Kind.PROFILE_CHANGE:
                proposal.policy_version = policy_version_create(
                    profile=proposal.profile,
                    changes=policy_proposal_changes(proposal),
                    actor=actor,
                    effective_from=effective_from,
                )
        proposal.full_clean()
        proposal.save()
        audit_record(
            action="policy_approved" if decision == "approve" else "policy_rejected",
            actor=actor,
            role=RISK_APPROVER,
            object_type="policyproposal",
            object_id=proposal.pk,
            fields=[f"policyversion.{name}" for name in sorted(proposal.changes)],
            # The reason's text stays on the proposal, out of the audit log (as for the other decisions).
            detail={
                "kind": proposal.kind,
                "profile": proposal.profile.code,
                "version": proposal.policy_version.version if proposal.policy_version else None,
                "portfolio": proposal.portfolio_id,
                "reason": bool(reason),
            },
        )
        if proposal.status == Status.APPROVED and proposal.portfolio_id and proposal.effective_from <= now:
            _switch_apply(proposal, now=now, actor=actor)
    return proposal


def policy_switches_apply(*, now: datetime.datetime | None = None) -> int:
    """Move every portfolio whose approved switch has come due; returns how many moved. Safe to run twice."""
    now = now or timezone.now()
    moved = 0
    due = PolicyProposal.objects.filter(
        kind=PolicyProposal.Kind.PORTFOLIO_SWITCH,
        status=Status.APPROVED,
        applied_at__isnull=True,
        effective_from__lte=now,
    ).order_by("effective_from", "pk")
    for proposal_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            proposal = PolicyProposal.objects.select_for_update().get(pk=proposal_id)
            if proposal.applied_at is None:
                _switch_apply(proposal, now=now, actor=None)
                moved += 1
    return moved
