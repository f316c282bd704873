"""Each pending policy proposal has its dry run before anyone decides: a profile change against the version in
force, a portfolio switch against the portfolio's profile, shown to risk approvers only and audited."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import User

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.models import LoanAccount, PolicyProfile, Portfolio
from review.dry_run import policy_dry_run, policy_switch_dry_run
from review.models import PolicyProposal
from review.policy_proposals import policy_change_file, policy_switch_file
from tests.conftest import signed_in
from tests.factories import make_user
from tests.review.eligibility_cases import NOW, policy_with
from tests.review.test_policy_dry_run import PROPOSAL, book  # noqa: F401 - the book of flipping cases

pytestmark = pytest.mark.django_db


def cn_default() -> PolicyProfile:
    return PolicyProfile.objects.get(code="cn-default")


def strict_cn_profile() -> PolicyProfile:
    """A second cn profile whose version in force holds cn-default's numbers with PROPOSAL's changes."""
    profile = PolicyProfile.objects.create(code="cn-strict", name="cn strict", kind="cn")
    version = policy_with(**PROPOSAL)
    version.profile, version.version = profile, 1
    version.effective_from = NOW - datetime.timedelta(days=1)
    version.save()
    return profile


def figure(html: str, name: str) -> int:
    return int(re.search(rf'data-figure="{name}">(\d+)<', html).group(1))


@time_machine.travel(NOW, tick=False)
def test_a_switch_counts_as_the_same_change_made_to_the_profile_its_portfolio_uses(book) -> None:  # noqa: F811
    # Every cn-default account of the book is in one portfolio: moving it to a profile with PROPOSAL's numbers
    # changes today exactly what PROPOSAL made to cn-default would.
    portfolio = LoanAccount.objects.get(pk=book["dpd-30"].pk).portfolio
    assert not LoanAccount.objects.filter(portfolio__policy_profile=cn_default()).exclude(portfolio=portfolio).exists()
    switched = policy_switch_dry_run(portfolio=portfolio, new_profile=strict_cn_profile(), now=NOW)
    changed = policy_dry_run(profile=cn_default(), proposed=policy_with(**PROPOSAL), now=NOW)
    assert switched.become_eligible.count > 0 and switched.become_ineligible.count > 0
    assert switched.messages_added.count > 0 and switched.messages_dropped.count > 0
    assert switched == changed
    assert Portfolio.objects.get(pk=portfolio.pk).policy_profile == cn_default()  # nothing moved


@time_machine.travel(NOW, tick=False)
def test_an_approver_sees_what_a_pending_change_would_do_today(book) -> None:  # noqa: F811
    proposer, approver = make_user("erin", RISK_APPROVER), make_user("frank", RISK_APPROVER)
    # From the first version's own time (the test database's creation, after NOW): a change cannot come before it.
    first = cn_default().versions.get(version=1)
    proposal = policy_change_file(
        actor=proposer,
        profile=cn_default(),
        changes={"family_min_dpd": 45},
        effective_from=first.effective_from,
        now=NOW,
    )
    expected = policy_dry_run(profile=cn_default(), proposed=policy_with(family_min_dpd=45), now=NOW)
    client = signed_in(approver)
    queue = client.get("/review/policies/").content.decode()
    assert f'href="/review/policies/{proposal.pk}/dry-run/"' in queue
    response = client.get(f"/review/policies/{proposal.pk}/dry-run/")
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "become_ineligible") == expected.become_ineligible.count > 0
    assert figure(html, "become_eligible") == expected.become_eligible.count == 0
    assert figure(html, "eligible_now") == expected.eligible_now
    event = AuditEvent.objects.filter(action="view", object_type="policyproposal").latest("id")
    assert (event.object_id, event.detail["dry_run"]) == (str(proposal.pk), True)
    # Only a look: the proposal still waits and no version was added.
    proposal.refresh_from_db()
    assert proposal.status == PolicyProposal.Status.PROPOSED and cn_default().versions.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_dry_run_of_a_switch_proposal_is_shown_too(officer: User) -> None:
    proposer, approver = make_user("erin", RISK_APPROVER), make_user("frank", RISK_APPROVER)
    portfolio = Portfolio.objects.create(code="north", name="North", policy_profile=cn_default())
    proposal = policy_switch_file(
        actor=proposer, portfolio=portfolio, new_profile=strict_cn_profile(), effective_from=NOW, now=NOW
    )
    response = signed_in(approver).get(f"/review/policies/{proposal.pk}/dry-run/")
    assert response.status_code == 200 and figure(response.content.decode(), "accounts") == 0


def test_an_officer_never_sees_a_dry_run(officer: User) -> None:
    proposal = policy_change_file(
        actor=make_user("erin", RISK_APPROVER), profile=cn_default(), changes={"family_min_dpd": 45}
    )
    assert signed_in(officer).get(f"/review/policies/{proposal.pk}/dry-run/").status_code in (403, 404)
