"""The TOTP second factor for approvers, auditors and superusers: verification, enrolment, recovery codes."""

import base64
import datetime
import re
import subprocess
import sys
import time

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER
from audit.models import AuditEvent
from demo.totp_devices import DEMO_TOTP_SECRETS, demo_totp_devices_enrol
from tests.conftest import signed_in
from tests.factories import make_user
from tests.security.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The authenticator app's current code for `device`."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return str(totp.token()).zfill(device.digits)


def password_step(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def carol_with_device(approver: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=approver, name="phone", confirmed=True)


def test_the_approvers_password_leads_to_the_second_step(carol_with_device: TOTPDevice) -> None:
    response = Client().post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    assert response["Location"] == "/accounts/mfa/"


def test_every_page_but_the_exempt_ones_asks_for_the_second_factor(carol_with_device: TOTPDevice) -> None:
    client = password_step("carol")
    for path in ("/review/", "/audit/", "/cases/", "/admin/", "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/mfa/?next="), path
    assert client.post("/language/", {"language": "en"}).status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/mfa/").status_code == 200


def test_a_correct_code_completes_sign_in_with_a_new_session_key(carol_with_device: TOTPDevice) -> None:
    client = password_step("carol")
    key_after_password = client.session.session_key
    response = client.post("/accounts/mfa/", {"otp_token": code_for(carol_with_device)})
    assert response.status_code == 302
    assert response["Location"] == "/review/"
    assert client.session.session_key != key_after_password
    assert client.get("/review/").status_code != 302
    event = AuditEvent.objects.filter(action="login", detail__mfa="totp").get()
    assert event.actor_username == "carol"


def test_the_second_step_returns_to_the_page_asked_for(carol_with_device: TOTPDevice) -> None:
    client = Client()
    client.post("/accounts/login/?next=/audit/", {"username": "carol", "password": PASSWORD, "next": "/review/"})
    response = client.post("/accounts/mfa/", {"otp_token": code_for(carol_with_device)})
    assert response["Location"] == "/review/"


def test_an_offsite_next_is_ignored(carol_with_device: TOTPDevice) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": "carol", "password": PASSWORD, "next": "https://evil.example/"})
    response = client.post("/accounts/mfa/", {"otp_token": code_for(carol_with_device)})
    assert response["Location"] == "/review/"


def test_a_wrong_code_is_refused_and_audited_as_a_failed_login(carol_with_device: TOTPDevice) -> None:
    client = password_step("carol")
    wrong = "000000" if code_for(carol_with_device) != "000000" else "111111"
    response = client.post("/accounts/mfa/", {"otp_token": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
    assert client.get("/review/").status_code == 302
    assert AuditEvent.objects.filter(action="login_failed").exists()


def test_a_used_code_cannot_be_replayed(carol_with_device: TOTPDevice) -> None:
    code = code_for(carol_with_device)
    assert password_step("carol").post("/accounts/mfa/", {"otp_token": code}).status_code == 302
    replay = password_step("carol").post("/accounts/mfa/", {"otp_token": code})
    assert replay.status_code == 200


def test_five_wrong_codes_lock_the_username_and_end_the_session(carol_with_device: TOTPDevice) -> None:
    client = password_step("carol")
    wrong = "000000" if code_for(carol_with_device) != "000000" else "111111"
    for _ in range(5):
        response = client.post("/accounts/mfa/", {"otp_token": wrong})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert Client().post("/accounts/login/", {"username": "carol", "password": PASSWORD}).status_code == 429
    assert AuditEvent.objects.filter(action="lockout", actor_username="carol").exists()


def test_a_recovery_code_signs_in_once(carol_with_device: TOTPDevice) -> None:
    from access.views import recovery_codes_issue

    codes = recovery_codes_issue(user=carol_with_device.user)
    assert len(codes) == 10
    response = password_step("carol").post("/accounts/mfa/", {"otp_token": codes[0].upper()})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", detail__mfa="recovery_code").exists()
    assert password_step("carol").post("/accounts/mfa/", {"otp_token": codes[0]}).status_code == 200
    assert StaticToken.objects.filter(device__user=carol_with_device.user).count() == 9


def test_an_officer_needs_no_second_factor() -> None:
    make_user("olga", CASE_OFFICER)
    client = Client()
    response = client.post("/accounts/login/", {"username": "olga", "password": PASSWORD})
    assert response["Location"] == "/cases/"
    assert not client.get("/cases/").get("Location", "").startswith("/accounts/mfa/")


@pytest.mark.parametrize("role", [RISK_APPROVER, COMPLIANCE_AUDITOR])
def test_a_role_needing_mfa_without_a_device_is_sent_to_enrolment(role: str) -> None:
    make_user("newbie", role)
    response = Client().post("/accounts/login/", {"username": "newbie", "password": PASSWORD})
    assert response["Location"] == "/accounts/mfa/enrol/"


def test_the_superuser_needs_the_second_factor_for_the_admin(admin_user: User) -> None:
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "root", "password": "test-pass-2026!"})
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/")


def test_the_admins_own_login_page_leads_to_the_common_sign_in(db: None) -> None:
    response = Client().get("/admin/login/?next=/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fauth%2Fuser%2F"


def test_enrolment_shows_a_qr_code_and_confirms_with_a_code_then_shows_recovery_codes(approver: User) -> None:
    client = password_step("carol")
    page = client.get("/accounts/mfa/enrol/")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    svg = base64.b64decode(re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page.content.decode())[1])
    assert svg.lstrip().startswith(b"<?xml") or b"<svg" in svg[:200]
    assert "<script" not in page.content.decode().split("<main>")[1]
    device = TOTPDevice.objects.get(user=approver, confirmed=False)
    assert page.context["secret"] == base64.b32encode(device.bin_key).decode()
    done = client.post("/accounts/mfa/enrol/", {"otp_token": code_for(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert done["Cache-Control"].startswith("max-age=0")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/review/").get("Location", "") != "/accounts/mfa/enrol/"
    assert AuditEvent.objects.filter(action="update", detail__mfa="enrolled", actor_username="carol").exists()


def _enrolment_secret(client: Client) -> str:
    page = client.get("/accounts/mfa/enrol/")
    assert page.status_code == 200
    return page.context["secret"]


def _device_of(secret: str) -> TOTPDevice:
    return TOTPDevice(key=base64.b32decode(secret).hex())


def test_the_pending_secret_is_shown_only_to_the_session_that_started_the_enrolment(approver: User) -> None:
    mine, theirs = password_step("carol"), password_step("carol")
    my_secret = _enrolment_secret(mine)
    # Someone else with the password, in another session, gets another pending key, never this one.
    their_page = theirs.get("/accounts/mfa/enrol/")
    assert their_page.context["secret"] != my_secret
    assert my_secret not in their_page.content.decode()
    # The page shows the same key again in its own session (a reload), not a new one each time.
    assert _enrolment_secret(mine) == my_secret


ENROLLED_AT = datetime.datetime(2026, 12, 7, 10, 0, 5, tzinfo=datetime.UTC)


@time_machine.travel(ENROLLED_AT, tick=False)
def test_a_secret_another_session_was_shown_stops_working_once_the_user_confirms(approver: User) -> None:
    mine, theirs = password_step("carol"), password_step("carol")
    my_secret, their_secret = _enrolment_secret(mine), _enrolment_secret(theirs)

    assert mine.post("/accounts/mfa/enrol/", {"otp_token": code_for(_device_of(my_secret))}).status_code == 200

    assert list(TOTPDevice.objects.filter(user=approver).values_list("confirmed", flat=True)) == [True]
    # The other session's key confirms nothing and signs nobody in; its page is gone.
    assert theirs.get("/accounts/mfa/enrol/")["Location"] == "/accounts/mfa/"
    late = theirs.post("/accounts/mfa/", {"otp_token": code_for(_device_of(their_secret))})
    assert late.status_code == 200 and "_otp_device_id" not in theirs.session
    # A minute on (past django-otp's throttle after that wrong code), the confirmed key alone signs carol in.
    with time_machine.travel(ENROLLED_AT + datetime.timedelta(minutes=1), tick=False):
        fresh = password_step("carol")
        assert fresh.post("/accounts/mfa/", {"otp_token": code_for(_device_of(their_secret))}).status_code == 200
    with time_machine.travel(ENROLLED_AT + datetime.timedelta(minutes=2), tick=False):
        assert fresh.post("/accounts/mfa/", {"otp_token": code_for(_device_of(my_secret))}).status_code == 302


def test_after_confirmation_the_session_holds_no_pending_secret_and_a_new_enrolment_gets_a_fresh_key(
    approver: User,
) -> None:
    client = password_step("carol")
    secret = _enrolment_secret(client)
    client.post("/accounts/mfa/enrol/", {"otp_token": code_for(_device_of(secret))})
    assert "_mfa_enrol_device" not in client.session
    # The verified user replacing their authenticator starts from a new key; the old one works until then.
    assert _enrolment_secret(client) != secret
    assert TOTPDevice.objects.get(user=approver, confirmed=True).key == _device_of(secret).key


def test_a_wrong_enrolment_code_confirms_nothing(approver: User) -> None:
    client = password_step("carol")
    client.get("/accounts/mfa/enrol/")
    device = TOTPDevice.objects.get(user=approver)
    response = client.post("/accounts/mfa/enrol/", {"otp_token": "not-a-code"})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed


def test_the_password_alone_cannot_replace_an_enrolled_authenticator(carol_with_device: TOTPDevice) -> None:
    client = password_step("carol")
    response = client.get("/accounts/mfa/enrol/")
    assert response["Location"] == "/accounts/mfa/"
    assert TOTPDevice.objects.filter(user=carol_with_device.user).count() == 1


def test_a_verified_user_can_make_new_recovery_codes(approver: User) -> None:
    client = signed_in(approver)
    assert client.get("/accounts/security/recovery-codes/").status_code == 200
    response = client.post("/accounts/security/recovery-codes/")
    assert len(response.context["codes"]) == 10
    assert StaticToken.objects.filter(device__user=approver).count() == 10


def test_demo_skip_mfa_lets_the_password_suffice(settings, carol_with_device: TOTPDevice) -> None:
    settings.DEMO_SKIP_MFA = True
    client = Client()
    response = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    assert response["Location"] == "/review/"


@pytest.mark.parametrize(("debug", "expected"), [("0", "False"), ("1", "True")])
def test_demo_skip_mfa_only_works_while_debug_is_on(debug: str, expected: str) -> None:
    env = {"DEBUG": debug, "DEMO_SKIP_MFA": "1", "SECRET_KEY": "x" * 60, "PATH": "/usr/bin:/bin"}
    code = "from django.conf import settings; print(settings.DEMO_SKIP_MFA)"
    out = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected


def test_the_demo_devices_accept_codes_from_the_published_secrets() -> None:
    users = [
        User.objects.create_superuser(username, "a@example.com", PASSWORD)
        if username.startswith("admin")
        else make_user(username, RISK_APPROVER)
        for username in DEMO_TOTP_SECRETS
    ]
    assert demo_totp_devices_enrol(users=users) == len(DEMO_TOTP_SECRETS) == 6
    assert demo_totp_devices_enrol(users=users) == 0
    assert TOTPDevice.objects.count() == 6
    secret = DEMO_TOTP_SECRETS["approver1"]
    app = TOTP(base64.b32decode(secret), 30, 0, 6, 0)
    app.time = time.time()
    client = password_step("approver1")
    response = client.post("/accounts/mfa/", {"otp_token": str(app.token()).zfill(6)})
    assert response.status_code == 302
