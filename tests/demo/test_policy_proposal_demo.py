"""The demo's work for the approvers: a pending policy proposal either approver may decide, and officer2's
family-contact request in the queue."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from review.models import FamilyContactRequest, PolicyProposal
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_each_approver_finds_a_policy_proposal_to_decide_and_officer2s_request(settings) -> None:
    settings.DEBUG = True  # seed_demo runs only with DEBUG on
    call_command("seed_demo", stdout=None)
    proposal = PolicyProposal.objects.get()
    assert proposal.status == "proposed" and proposal.proposed_by.username == "admin"
    for username in ("approver1", "approver2"):
        page = signed_in(User.objects.get(username=username)).get("/review/policies/").content.decode()
        assert f'action="/review/policies/{proposal.pk}/decide/"' in page
    waiting = FamilyContactRequest.objects.filter(requested_by__username="officer2", status="submitted")
    assert waiting.exists()
    queue = signed_in(User.objects.get(username="approver1")).get("/review/").content.decode()
    assert f"/review/{waiting.first().pk}/" in queue
    call_command("seed_demo", stdout=None)
    assert PolicyProposal.objects.count() == 1
