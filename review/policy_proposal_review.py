"""Reads for the risk approver's policy review: each proposal awaiting a decision, its values in force beside the
proposed ones, and the recently decided ones. Nothing here writes; `policy_proposals` files and decides.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from access.roles import RISK_APPROVER, user_has_role
from collections_app.models import PolicyVersion
from collections_app.selectors.profiles import current_policy_versions
from collections_app.services.profiles import policy_version_draft
from review.dry_run import DryRun, policy_dry_run, policy_switch_dry_run
from review.models import PolicyProposal
from review.policy_proposals import policy_proposal_changes

User = AbstractBaseUser | AnonymousUser
# How many decided proposals the page lists below the pending ones.
RECENT_DECIDED = 20


@dataclass(frozen=True)
class ValueChange:
    """One field of a proposal: its label, the value in force now and the proposed one (as displayed)."""

    field: str
    label: str
    current: str
    proposed: str


@dataclass(frozen=True)
class ProposalReview:
    """One proposal as the approver sees it before deciding."""

    proposal: PolicyProposal
    changes: tuple[ValueChange, ...]
    own: bool


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_changes(proposal: PolicyProposal, in_force: dict[int, PolicyVersion]) -> tuple[ValueChange, ...]:
    current = in_force.get(proposal.profile_id)
    rows = []
    for name, value in sorted(policy_proposal_changes(proposal).items()):
        label = str(PolicyVersion._meta.get_field(name).verbose_name)
        rows.append(ValueChange(name, label, _shown(getattr(current, name, None)), _shown(value)))
    return tuple(rows)


def _reviews(user: User, proposals: list[PolicyProposal], now: datetime.datetime) -> list[ProposalReview]:
    in_force = current_policy_versions(at=now)
    return [
        ProposalReview(
            proposal=proposal, changes=_value_changes(proposal, in_force), own=proposal.proposed_by_id == user.pk
        )
        for proposal in proposals
    ]


def _proposals() -> Any:
    return PolicyProposal.objects.select_related(
        "profile", "portfolio__policy_profile", "new_profile", "proposed_by", "decided_by", "policy_version"
    )


def policy_proposals_pending(user: User, *, now: datetime.datetime) -> list[ProposalReview]:
    """Every proposal awaiting a decision, oldest first, with the values in force at `now`; none for a non-approver."""
    if not user_has_role(user, RISK_APPROVER):
        return []
    pending = list(_proposals().filter(status=PolicyProposal.Status.PROPOSED).order_by("proposed_at", "pk"))
    return _reviews(user, pending, now)


def policy_proposals_decided(user: User, *, now: datetime.datetime) -> list[ProposalReview]:
    """The most recently decided proposals, newest first; none for a non-approver."""
    if not user_has_role(user, RISK_APPROVER):
        return []
    decided = _proposals().exclude(status=PolicyProposal.Status.PROPOSED).order_by("-decided_at", "-pk")
    return _reviews(user, list(decided[:RECENT_DECIDED]), now)


def policy_proposal_get_for_decision(user: User, proposal_id: int | str) -> PolicyProposal:
    """A proposal a risk approver may decide (decided or not); Http404 for anything else."""
    try:
        pk = int(proposal_id)
    except (TypeError, ValueError):
        raise Http404("No such policy proposal.") from None
    if not user_has_role(user, RISK_APPROVER):
        raise Http404("No such policy proposal.")
    proposal = PolicyProposal.objects.filter(pk=pk).first()
    if proposal is None:
        raise Http404("No such policy proposal.")
    return proposal


def policy_proposal_dry_run(proposal: PolicyProposal, *, now: datetime.datetime) -> DryRun:
    """What the proposal would change today if it were in force (review.dry_run): a profile change against the
    version in force, a portfolio switch against the portfolio's profile; nothing is written."""
    if proposal.kind == PolicyProposal.Kind.PORTFOLIO_SWITCH:
        return policy_switch_dry_run(portfolio=proposal.portfolio, new_profile=proposal.new_profile, now=now)
    # The version approval would add: the newest one's values with the proposal's changes. A version approved
    # since the filing may take effect after the proposal's own time; the draft then follows it.
    newest = proposal.profile.versions.order_by("-version").first()
    effective_from = max(proposal.effective_from, newest.effective_from) if newest else proposal.effective_from
    draft, _ = policy_version_draft(
        profile=proposal.profile, changes=policy_proposal_changes(proposal), effective_from=effective_from
    )
    return policy_dry_run(profile=proposal.profile, proposed=draft, now=now)
