"""A policy proposal waiting for the risk approvers on first sign-in: the administrator proposes that cn-default
leave a family contact 14 days between messages instead of 7, from tomorrow. Filed through review's service (so it
is checked against the legal floors and audited); either approver may decide it, since neither proposed it."""

import datetime

from django.contrib.auth.models import User

from collections_app.models import PolicyProfile
from review.models import PolicyProposal
from review.policy_proposals import policy_change_file, policy_proposal_may_file

PROPOSER = "admin"
PROFILE = "cn-default"
CHANGES = {"contact_interval_days": 14}


def seed_policy_proposal_demo(*, users: dict[str, User], now: datetime.datetime) -> int:
    """File the demo's proposal unless the profile already has one; the number filed (0 on a later seed)."""
    proposer = users.get(PROPOSER)
    profile = PolicyProfile.objects.get(code=PROFILE)
    # A real `admin` without the right to propose (seed_demo never changes an existing user) files nothing.
    if (
        proposer is None
        or not policy_proposal_may_file(proposer)
        or PolicyProposal.objects.filter(profile=profile).exists()
    ):
        return 0
    policy_change_file(
        actor=proposer, profile=profile, changes=CHANGES, effective_from=now + datetime.timedelta(days=1), now=now
    )
    return 1
