"""Policy profiles are data: an edit adds a version (audited), and messages record the version they used."""

import datetime

import pytest

from audit.models import AuditEvent
from collections_app.messaging.firewall.modes import firewall_profile_for
from collections_app.models import PolicyProfile, PolicyVersion
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.profiles import policy_version_create
from tests.conftest import signed_in as signed_in_plain
from tests.factories import make_account, make_portfolio
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


def test_edit_adds_a_version_and_the_account_follows_it(admin_user):
    profile = PolicyProfile.objects.get(code="cn-default")
    account = make_account(portfolio=make_portfolio())
    before = policy_version_for_account(account)
    new = policy_version_create(profile=profile, changes={"send_window_start": datetime.time(9, 0)}, actor=admin_user)
    assert new.version == before.version + 1 and new.send_window_start == datetime.time(9, 0)
    before.refresh_from_db()
    assert before.send_window_start == datetime.time(8, 0)
    assert policy_version_for_account(account) == new
    event = AuditEvent.objects.get(action="policy_changed")
    assert event.detail["changed"] == ["send_window_start"]


def test_admin_save_creates_the_next_version(admin_user):
    current = PolicyVersion.objects.filter(profile__code="uk-conc").order_by("-version").first()
    url = f"/admin/collections_app/policyversion/{current.pk}/change/"
    client = signed_in(admin_user)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for key in ("reminder_days", "sms_days", "service_hotlines", "product_names"):
        data[key] = form[key].value()
    data["max_messages_per_channel_per_day"] = 2
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    versions = list(PolicyVersion.objects.filter(profile__code="uk-conc").order_by("version"))
    assert [v.max_messages_per_channel_per_day for v in versions] == [1, 2]
    assert AuditEvent.objects.filter(action="policy_changed").count() == 1
