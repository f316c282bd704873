"""Policy changes are proposals: checked against the legal floors when filed, decided by a second risk approver,
and in force only once approved and their effective time has come."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, override

from access.roles import CASE_OFFICER, RISK_APPROVER
from audit.models import AuditEvent
from collections_app.models import PolicyProfile, PolicyVersion, Portfolio
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.profiles import policy_version_create
from review.models import PolicyProposal
from review.policy_proposals import (
    PolicyDecisionConflict,
    policy_change_file,
    policy_proposal_decide,
    policy_switch_file,
    policy_switches_apply,
)
from review.tasks import apply_policy_switches
from tests.conftest import signed_in
from tests.factories import make_account, make_portfolio, make_user

pytestmark = pytest.mark.django_db

URL = "/review/policies/"


@pytest.fixture
def proposer():
    return make_user("erin", RISK_APPROVER)


def cn_default() -> PolicyProfile:
    return PolicyProfile.objects.get(code="cn-default")


def in_force(profile: PolicyProfile, at: datetime.datetime) -> PolicyVersion:
    return profile.version_in_force(at=at)


def test_a_proposal_below_a_floor_is_refused_naming_the_rule_and_writes_nothing(proposer) -> None:
    response = signed_in(proposer).post(
        f"{URL}new/", {"profile": "cn-default", "field": "send_window_start", "value": "05:00"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    with override("zh-hans"):
        rule = str(gettext("allowed hours within 08:00-22:00"))
    assert rule in body and "NIFA 2025" in body
    assert not PolicyProposal.objects.exists()
    assert not AuditEvent.objects.filter(action="policy_proposed").exists()


@pytest.mark.parametrize(
    ("profile", "field", "value", "source"),
    [
        ("cn-default", "family_min_dpd", "0", "NIFA"),
        ("cn-default", "max_connected_calls_per_day", "100", "NIFA"),
        ("us-regf", "max_call_attempts", "100", "1006.14(b)"),
        ("uk-conc", "send_window_end", "23:59", "CONC 7.9"),
    ],
)
def test_the_service_refuses_each_floor_with_its_source(proposer, profile, field, value, source) -> None:
    from review.policy_proposals import policy_value_parse

    with pytest.raises(ValidationError) as refused:
        policy_change_file(
            actor=proposer,
            profile=PolicyProfile.objects.get(code=profile),
            changes={field: policy_value_parse(field, value)},
        )
    assert source in " ".join(refused.value.message_dict[field])
    assert not PolicyProposal.objects.exists()


def test_an_opt_out_line_the_firewall_refuses_is_not_filed(proposer) -> None:
    with pytest.raises(ValidationError) as refused:
        policy_change_file(actor=proposer, profile=cn_default(), changes={"opt_out_line": "欠款٥٠٠٠元，回复TD退订"})
    assert "opt_out_line" in refused.value.message_dict
    assert not PolicyProposal.objects.exists()


def test_a_valid_proposal_changes_nothing_until_approved_and_its_time_comes(proposer, approver) -> None:
    profile = cn_default()
    account = make_account(portfolio=make_portfolio())
    now = timezone.now()
    before = in_force(profile, now)
    takes_effect = now + datetime.timedelta(days=2)
    proposal = policy_change_file(
        actor=proposer, profile=profile, changes={"family_min_dpd": 45}, effective_from=takes_effect, now=now
    )
    # Filed, not approved: nothing changes, even after its effective time.
    assert profile.versions.count() == 1
    assert in_force(profile, takes_effect + datetime.timedelta(days=1)) == before
    event = AuditEvent.objects.get(action="policy_proposed")
    assert event.object_id == str(proposal.pk) and event.fields == ["policyversion.family_min_dpd"]

    decided_at = now + datetime.timedelta(hours=1)
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="ok", actor=approver, now=decided_at)
    proposal.refresh_from_db()
    new = proposal.policy_version
    assert proposal.status == "approved" and new.family_min_dpd == 45 and new.effective_from == takes_effect
    # Approved, but its time has not come: every lookup still answers the version before.
    assert in_force(profile, decided_at) == before
    assert policy_version_for_account(account, at=takes_effect - datetime.timedelta(seconds=1)) == before
    assert policy_version_for_account(account, at=takes_effect) == new
    approved = AuditEvent.objects.get(action="policy_approved")
    assert approved.actor_id == approver.pk and approved.fields == ["policyversion.family_min_dpd"]
    assert "ok" not in str(approved.detail)  # the reason stays on the proposal


def test_an_approval_after_the_effective_time_takes_effect_at_the_approval(proposer, approver) -> None:
    profile = cn_default()
    now = timezone.now()
    proposal = policy_change_file(actor=proposer, profile=profile, changes={"family_min_dpd": 40}, now=now)
    decided_at = now + datetime.timedelta(hours=3)
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=approver, now=decided_at)
    proposal.refresh_from_db()
    assert proposal.policy_version.effective_from == decided_at
    assert in_force(profile, decided_at - datetime.timedelta(seconds=1)).family_min_dpd == 30


def test_the_proposer_cannot_approve_their_own_proposal(proposer) -> None:
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45})
    page = signed_in(proposer).get(URL).content.decode()
    assert f'data-proposal="{proposal.pk}"' in page
    assert f'action="/review/policies/{proposal.pk}/decide/"' not in page  # no form for the proposer

    response = signed_in(proposer).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve", "reason": ""})
    assert response.status_code == 403
    with override("zh-hans"):
        refusal = gettext("You proposed this change: another risk approver must decide it.")
    assert refusal in [str(message) for message in response.context["messages"]]
    with pytest.raises(PermissionDenied):
        policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=proposer)
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and cn_default().versions.count() == 1
    assert AuditEvent.objects.filter(action="permission_denied", detail__reason="separation_of_duties").exists()


def test_the_database_refuses_a_decision_by_the_proposer(proposer) -> None:
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45})
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyProposal.objects.filter(pk=proposal.pk).update(
            status="rejected", decided_by=proposer, decided_at=timezone.now(), reason="mine"
        )


def test_an_approver_decides_on_the_page_once(proposer, approver) -> None:
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45})
    page = signed_in(approver).get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-proposal="{proposal.pk}"' in body and 'data-field="family_min_dpd"' in body
    response = signed_in(approver).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve", "reason": ""})
    assert response.status_code == 302 and response["Location"] == URL
    assert cn_default().versions.count() == 2
    again = signed_in(approver).post(f"{URL}{proposal.pk}/decide/", {"decision": "reject", "reason": "late"})
    assert again.status_code == 409
    with pytest.raises(PolicyDecisionConflict):
        policy_proposal_decide(proposal_id=proposal.pk, decision="reject", reason="late", actor=approver)


def test_a_rejection_needs_a_reason_and_adds_no_version(proposer, approver) -> None:
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45})
    response = signed_in(approver).post(f"{URL}{proposal.pk}/decide/", {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    signed_in(approver).post(f"{URL}{proposal.pk}/decide/", {"decision": "reject", "reason": "Too early"})
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.reason == "Too early"
    assert cn_default().versions.count() == 1
    assert AuditEvent.objects.filter(action="policy_rejected", object_id=str(proposal.pk)).exists()


def test_a_portfolio_cannot_switch_to_a_profile_of_another_kind(proposer) -> None:
    portfolio = make_portfolio()
    response = signed_in(proposer).post(f"{URL}new/", {"portfolio": portfolio.code, "profile": "uk-conc"})
    assert response.status_code == 200
    with override("zh-hans"):
        expected = gettext("A %(kind)s portfolio can use only a %(kind)s policy profile.") % {"kind": "cn"}
    assert expected in response.content.decode()
    with pytest.raises(ValidationError):
        policy_switch_file(actor=proposer, portfolio=portfolio, new_profile=PolicyProfile.objects.get(code="uk-conc"))
    assert not PolicyProposal.objects.exists()


def test_a_switch_moves_the_portfolio_only_when_its_time_comes(proposer, approver) -> None:
    portfolio = make_portfolio()
    strict = PolicyProfile.objects.create(code="cn-strict", name="cn strict", kind="cn")
    policy_version_create(
        profile=strict, changes={"family_min_dpd": 60, "lender_name": "Strict", "family_only_when_unreachable": True}
    )
    now = timezone.now()
    takes_effect = now + datetime.timedelta(days=1)
    proposal = policy_switch_file(
        actor=proposer, portfolio=portfolio, new_profile=strict, effective_from=takes_effect, now=now
    )
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=approver, now=now)
    assert Portfolio.objects.get(pk=portfolio.pk).policy_profile == cn_default()
    assert apply_policy_switches.apply().get() == 0  # the beat's task, now: not yet due
    assert policy_switches_apply(now=takes_effect - datetime.timedelta(seconds=1)) == 0
    assert policy_switches_apply(now=takes_effect) == 1
    assert Portfolio.objects.get(pk=portfolio.pk).policy_profile == strict
    assert policy_switches_apply(now=takes_effect) == 0  # once
    event = AuditEvent.objects.get(action="policy_switch_applied")
    assert event.object_id == str(portfolio.pk) and event.detail["proposal"] == proposal.pk


def test_a_switch_already_due_moves_at_approval(proposer, approver) -> None:
    portfolio = make_portfolio()
    strict = PolicyProfile.objects.create(code="cn-strict", name="cn strict", kind="cn")
    policy_version_create(profile=strict, changes={"lender_name": "Strict", "family_only_when_unreachable": True})
    proposal = policy_switch_file(actor=proposer, portfolio=portfolio, new_profile=strict)
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=approver)
    assert Portfolio.objects.get(pk=portfolio.pk).policy_profile == strict


@pytest.mark.parametrize("offset", [datetime.timedelta(hours=-1), datetime.timedelta(days=400)])
def test_the_effective_time_lies_between_now_and_a_year_ahead(proposer, offset) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        policy_change_file(
            actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45}, effective_from=now + offset, now=now
        )
    assert "effective_from" in refused.value.message_dict


def test_reveal_purposes_change_only_by_proposal_and_are_checked(proposer, approver) -> None:
    purposes = dict(cn_default().current_version.reveal_purposes)
    with pytest.raises(ValidationError) as refused:
        policy_change_file(
            actor=proposer,
            profile=cn_default(),
            changes={"reveal_purposes": purposes | {"borrower.id_number": ["curiosity"]}},
        )
    assert "reveal_purposes" in refused.value.message_dict
    narrower = purposes | {"borrower.id_number": ["legal_request"]}
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"reveal_purposes": narrower})
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=approver)
    assert cn_default().current_version.reveal_purposes["borrower.id_number"] == ["legal_request"]


def test_officers_are_refused_the_policy_pages(officer) -> None:
    client = signed_in(officer)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}new/").status_code == 403
    filing = {"profile": "cn-default", "field": "family_min_dpd", "value": "45"}
    assert client.post(f"{URL}new/", filing).status_code == 403
    assert not PolicyProposal.objects.exists()
    with pytest.raises(PermissionDenied):
        policy_change_file(actor=officer, profile=cn_default(), changes={"family_min_dpd": 45})


def test_an_administrator_files_on_the_page_but_does_not_decide(admin_user, approver) -> None:
    client = signed_in(admin_user)
    assert client.get(f"{URL}new/").status_code == 200
    response = client.post(f"{URL}new/", {"profile": "cn-default", "field": "family_min_dpd", "value": "45"})
    assert response.status_code == 303
    proposal = PolicyProposal.objects.get()
    assert proposal.proposed_by == admin_user
    assert client.get(URL).status_code == 403  # deciding is the risk approvers'
    assert signed_in(approver).get(URL).status_code == 200
    assert make_user("olga", CASE_OFFICER).has_perm("review.add_policyproposal") is False


def test_the_database_keeps_a_proposal_as_filed_and_its_decision_once_made(proposer, approver) -> None:
    proposal = policy_change_file(actor=proposer, profile=cn_default(), changes={"family_min_dpd": 45})
    with pytest.raises(DatabaseError), transaction.atomic():
        PolicyProposal.objects.filter(pk=proposal.pk).update(changes={"family_min_dpd": 31})
    policy_proposal_decide(proposal_id=proposal.pk, decision="reject", reason="Not now", actor=approver)
    with pytest.raises(DatabaseError), transaction.atomic():
        PolicyProposal.objects.filter(pk=proposal.pk).update(status="proposed", decided_by=None, decided_at=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        PolicyProposal.objects.filter(pk=proposal.pk).update(reason="Changed my mind")
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.reason == "Not now"


def test_eligibility_reads_the_version_in_force_at_its_own_moment(case, proposer, approver) -> None:
    from review.selectors import eligibility_evaluate

    now = timezone.now()
    takes_effect = now + datetime.timedelta(days=1)
    proposal = policy_change_file(
        actor=proposer, profile=cn_default(), changes={"family_min_dpd": 90}, effective_from=takes_effect, now=now
    )
    policy_proposal_decide(proposal_id=proposal.pk, decision="approve", reason="", actor=approver, now=now)
    template_version = case.template.current_version
    before, _preview, old = eligibility_evaluate(
        account=case.account, contact=case.contact, template_version=template_version, now=now
    )
    after, _preview, new = eligibility_evaluate(
        account=case.account, contact=case.contact, template_version=template_version, now=takes_effect
    )
    assert old.family_min_dpd == 30 and new.family_min_dpd == 90
    assert before.eligible and not after.eligible
