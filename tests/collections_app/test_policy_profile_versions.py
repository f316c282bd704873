"""Policy profiles are data: an approved change adds a version (audited), in force from its effective time; the
admin's edit of a version or of a portfolio's profile files a proposal instead of writing it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.messaging.firewall.modes import firewall_profile_for
from collections_app.models import PolicyProfile, PolicyVersion
from collections_app.selectors.profiles import current_policy_versions, policy_version_for_account
from collections_app.services.profiles import policy_version_create
from review.models import PolicyProposal
from review.policy_proposals import policy_proposal_decide
from tests.conftest import signed_in as signed_in_plain
from tests.factories import make_account, make_portfolio, make_user
from tests.security.fixtures import otp_verify_session

pytestmark = pytest.mark.django_db


def signed_in(user):
    """A client signed in as `user`, past the second factor where the user needs one."""
    client = signed_in_plain(user)
    otp_verify_session(client, user)
    return client


def test_built_in_profiles_exist_with_their_numbers():
    versions = {v.profile.code: v for v in PolicyVersion.objects.select_related("profile")}
    assert set(versions) >= {"cn-default", "us-regf", "uk-conc"}
    assert versions["cn-default"].max_connected_calls_per_day == 3
    assert versions["us-regf"].max_call_attempts == 7 and versions["us-regf"].contact_once_only
    assert firewall_profile_for(versions["us-regf"]).strict_debt
    assert not firewall_profile_for(versions["cn-default"]).strict_debt
    assert "95188" in firewall_profile_for(versions["cn-default"]).hotlines


def test_a_new_version_is_in_force_from_its_effective_time_and_the_account_follows_it(admin_user):
    profile = PolicyProfile.objects.get(code="cn-default")
    account = make_account(portfolio=make_portfolio())
    now = timezone.now()
    before = policy_version_for_account(account, at=now)
    takes_effect = now + datetime.timedelta(days=2)
    new = policy_version_create(
        profile=profile,
        changes={"send_window_start": datetime.time(9, 0)},
        actor=admin_user,
        effective_from=takes_effect,
    )
    assert new.version == before.version + 1 and new.send_window_start == datetime.time(9, 0)
    before.refresh_from_db()
    assert before.send_window_start == datetime.time(8, 0)
    # Until its time comes, every decision still reads the version before it.
    assert policy_version_for_account(account, at=now) == before
    assert policy_version_for_account(account, at=takes_effect - datetime.timedelta(seconds=1)) == before
    assert profile.version_in_force(at=takes_effect - datetime.timedelta(seconds=1)) == before
    assert policy_version_for_account(account, at=takes_effect) == new
    assert current_policy_versions(at=takes_effect)[profile.pk] == new
    event = AuditEvent.objects.get(action="policy_changed")
    assert event.detail["changed"] == ["send_window_start"]


def test_a_version_cannot_take_effect_before_one_already_approved(admin_user):
    profile = PolicyProfile.objects.get(code="cn-default")
    later = timezone.now() + datetime.timedelta(days=10)
    policy_version_create(profile=profile, changes={"sms_repeat_every_days": 5}, effective_from=later)
    with pytest.raises(ValidationError) as refused:
        policy_version_create(
            profile=profile, changes={"sms_repeat_every_days": 6}, effective_from=later - datetime.timedelta(days=1)
        )
    assert "effective_from" in refused.value.message_dict


def _admin_form_data(client, url):
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for key in ("reminder_days", "sms_days", "service_hotlines", "product_names", "reveal_purposes"):
        data[key] = form[key].value()
    data.pop("proposal_effective_from", None)
    return {k: v for k, v in data.items() if not isinstance(v, bool) or v}


def test_admin_save_files_a_proposal_and_adds_no_version(admin_user):
    current = PolicyVersion.objects.filter(profile__code="uk-conc").order_by("-version").first()
    url = f"/admin/collections_app/policyversion/{current.pk}/change/"
    client = signed_in(admin_user)
    data = _admin_form_data(client, url)
    data["max_messages_per_channel_per_day"] = 2
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    # No version yet: the edit waits for a risk approver who did not propose it.
    versions = list(PolicyVersion.objects.filter(profile__code="uk-conc").order_by("version"))
    assert [v.max_messages_per_channel_per_day for v in versions] == [1]
    assert not AuditEvent.objects.filter(action="policy_changed").exists()
    proposal = PolicyProposal.objects.get()
    assert proposal.changes == {"max_messages_per_channel_per_day": 2} and proposal.proposed_by == admin_user
    event = AuditEvent.objects.get(action="policy_proposed")
    assert event.object_id == str(proposal.pk) and event.fields == ["policyversion.max_messages_per_channel_per_day"]

    policy_proposal_decide(
        proposal_id=proposal.pk, decision="approve", reason="", actor=make_user("carol", RISK_APPROVER)
    )
    versions = list(PolicyVersion.objects.filter(profile__code="uk-conc").order_by("version"))
    assert [v.max_messages_per_channel_per_day for v in versions] == [1, 2]
    assert AuditEvent.objects.filter(action="policy_changed").count() == 1


def test_admin_edit_below_a_floor_is_a_form_error_and_files_nothing(admin_user):
    current = PolicyVersion.objects.filter(profile__code="uk-conc").order_by("-version").first()
    url = f"/admin/collections_app/policyversion/{current.pk}/change/"
    client = signed_in(admin_user)
    data = _admin_form_data(client, url)
    data["send_window_end_0"] = data["send_window_end"] = "23:00:00"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "FCA CONC 7.9" in str(response.context["adminform"].form.errors)
    assert not PolicyProposal.objects.exists()


def test_admin_cannot_switch_a_portfolio_directly_but_files_a_proposal(admin_user):
    portfolio = make_portfolio()
    other = PolicyProfile.objects.create(code="cn-strict", name="cn strict", kind="cn")
    policy_version_create(profile=other, changes={"lender_name": "Strict", "family_only_when_unreachable": True})
    url = f"/admin/collections_app/portfolio/{portfolio.pk}/change/"
    client = signed_in(admin_user)
    response = client.post(url, {"code": portfolio.code, "name": "Renamed", "policy_profile": other.pk})
    assert response.status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.policy_profile.code == "cn-default" and portfolio.name == "Renamed"
    proposal = PolicyProposal.objects.get()
    assert proposal.portfolio == portfolio and proposal.new_profile == other and proposal.status == "proposed"


def test_a_moment_before_the_first_version_is_decided_by_the_first_version():
    profile = PolicyProfile.objects.get(code="cn-default")
    first = profile.versions.get(version=1)
    long_ago = first.effective_from - datetime.timedelta(days=400)
    assert profile.version_in_force(at=long_ago) == first
    later = policy_version_create(profile=profile, changes={"family_min_dpd": 40})
    assert profile.version_in_force(at=long_ago) == first
    assert profile.version_in_force(at=later.effective_from) == later
