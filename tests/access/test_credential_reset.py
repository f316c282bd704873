"""An approved credential reset: a single-use, 24-hour link by e-mail to the user alone, then re-enrolment (issue 16).

Nobody but the user sees the link or the new secret: not the administrators' pages, not the admin, not the log.
"""

import base64
import datetime
import logging
import re
import time

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils.translation import gettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AccessChange
from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from tests.audit.helpers import event_text
from tests.conftest import signed_in
from tests.factories import make_superuser, make_user

pytestmark = pytest.mark.django_db

OLD_PASSWORD = "test-pass-2026!"
NEW_PASSWORD = "Brand-new-pass-2027"
LINK = re.compile(r"http://\S+/access/password/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")
# A moment in the lender's working day, so nothing depends on the hour the suite runs at.
T0 = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)


def superuser(username: str) -> User:
    return make_superuser(username, OLD_PASSWORD)


@pytest.fixture
def admins() -> tuple[User, User]:
    return superuser("root"), superuser("root2")


@pytest.fixture
def carol() -> User:
    return make_user("carol", RISK_APPROVER, email="carol@example.com")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the approval's commit (the e-mail), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def approve(admins: tuple[User, User], committed, **data: str) -> AccessChange:
    """`root` requests the change about carol, `root2` approves it (and it commits)."""
    root, root2 = admins
    assert signed_in(root).post("/access/changes/new/", {"user": "carol", **data}).status_code == 302
    change = AccessChange.objects.latest("pk")
    decider = signed_in(root2)
    with committed():
        response = decider.post(f"/access/changes/{change.pk}/decide/", {"decision": "approve", "reason": "ok"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == AccessChange.Status.APPROVED
    return change


def the_link() -> re.Match:
    (message,) = mail.outbox
    match = LINK.search(message.body)
    assert match, message.body
    return match


def set_password(link: str, password: str = NEW_PASSWORD) -> Client:
    client = Client()
    form = client.get(link)
    assert form.status_code == 302  # the token moves into the session, out of the address bar
    response = client.post(form["Location"], {"new_password1": password, "new_password2": password})
    assert response.status_code == 302 and response["Location"] == "/access/password/done/"
    return client


def code_for(key_hex: str) -> str:
    totp = TOTP(bytes.fromhex(key_hex), 30, 0, 6, 0)
    totp.time = time.time()
    return str(totp.token()).zfill(6)


def assert_nobody_else_sees(admins: tuple[User, User], carol: User, *secrets: str) -> None:
    """No administrator's page, no audit event and no access change holds any of `secrets`."""
    pages = [
        "/access/changes/",
        "/admin/auth/user/",
        f"/admin/auth/user/{carol.pk}/change/",
        "/admin/audit/auditevent/",
        *(f"/admin/audit/auditevent/{pk}/change/" for pk in AuditEvent.objects.values_list("pk", flat=True)),
    ]
    for admin in admins:
        client = signed_in(admin)
        for page in pages:
            body = client.get(page).content.decode()
            assert not [secret for secret in secrets if secret in body], (admin.username, page)
    for event in AuditEvent.objects.all():
        assert not [secret for secret in secrets if secret in event_text(event)], event.action
    for change in AccessChange.objects.all():
        text = f"{change.before} {change.after} {change.reason}"
        assert not [secret for secret in secrets if secret in text]


def test_an_approved_reset_emails_the_user_alone_a_link_that_works_once(admins, carol, committed, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    carol_session = signed_in(carol)
    change = approve(admins, committed, change="reset_password")

    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    assert gettext("Family-Contact Review: set your password") == message.subject
    link = the_link()
    carol.refresh_from_db()
    assert not carol.has_usable_password() and not carol.check_password(OLD_PASSWORD)
    assert carol_session.get("/review/").status_code == 302  # her sessions ended with the approval
    sent = AuditEvent.objects.get(action="password_reset", detail__step="link_sent")
    assert sent.actor_id == admins[1].pk and sent.detail["access_change"] == change.pk
    assert_nobody_else_sees(admins, carol, link[0], link["token"])

    set_password(link[0])
    carol.refresh_from_db()
    assert carol.check_password(NEW_PASSWORD)
    done = AuditEvent.objects.get(action="password_reset", detail__step="password_set")
    assert done.actor_id == carol.pk and done.object_id == str(carol.pk)
    # Spent: the same link now shows the refusal and sets nothing, and the refusal is audited.
    again = Client().get(link[0], follow=True)
    assert again.status_code == 200 and not again.context["validlink"]
    assert AuditEvent.objects.filter(action="password_reset", outcome="failed", detail__step="link_refused").exists()
    assert_nobody_else_sees(admins, carol, link[0], link["token"])
    assert link["token"] not in caplog.text and NEW_PASSWORD not in caplog.text


def test_the_link_is_valid_for_24_hours(admins, carol, committed) -> None:
    with time_machine.travel(T0, tick=False):
        approve(admins, committed, change="reset_password")
    link = the_link()[0]
    with time_machine.travel(T0 + datetime.timedelta(hours=24, minutes=1), tick=False):
        late = Client().get(link, follow=True)
        assert late.status_code == 200 and not late.context["validlink"]
    with time_machine.travel(T0 + datetime.timedelta(hours=23, minutes=59), tick=False):
        set_password(link)
    carol.refresh_from_db()
    assert carol.check_password(NEW_PASSWORD)


def test_a_newer_reset_replaces_the_older_link(admins, carol, committed) -> None:
    approve(admins, committed, change="reset_password")
    first = the_link()[0]
    mail.outbox.clear()
    approve(admins, committed, change="reset_password")
    assert not Client().get(first, follow=True).context["validlink"]
    set_password(the_link()[0])


def test_a_deactivated_users_link_is_refused(admins, carol, committed) -> None:
    approve(admins, committed, change="reset_password")
    User.objects.filter(pk=carol.pk).update(is_active=False)
    assert not Client().get(the_link()[0], follow=True).context["validlink"]


def test_a_rejected_reset_changes_and_sends_nothing(admins, carol, committed) -> None:
    root, root2 = admins
    signed_in(root).post("/access/changes/new/", {"user": "carol", "change": "reset_password"})
    change = AccessChange.objects.get()
    decider = signed_in(root2)
    with committed():
        decider.post(f"/access/changes/{change.pk}/decide/", {"decision": "reject", "reason": "not asked for"})
    assert mail.outbox == []
    carol.refresh_from_db()
    assert carol.check_password(OLD_PASSWORD)


def test_a_reset_for_a_user_without_an_address_is_refused_with_a_field_error(admins) -> None:
    make_user("olga", RISK_APPROVER)
    response = signed_in(admins[0]).post("/access/changes/new/", {"user": "olga", "change": "reset_password"})
    assert response.status_code == 200
    assert response.context["form"].errors["user"] == [
        gettext("This user has no e-mail address to send the reset link to.")
    ]
    assert not AccessChange.objects.exists() and mail.outbox == []


def test_a_credential_reset_forces_a_new_password_and_re_enrolment_with_no_secret_seen_by_anyone(
    admins, carol, committed
) -> None:
    old = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=carol, name="recovery", confirmed=True)
    old_code = StaticToken.objects.create(device=recovery, token=StaticToken.random_token()).token

    approve(admins, committed, change="reset_password")
    approve(admins, committed, change="reset_mfa")

    assert not TOTPDevice.objects.filter(user=carol).exists() and not StaticDevice.objects.filter(user=carol).exists()
    assert Client().post("/accounts/login/", {"username": "carol", "password": OLD_PASSWORD}).status_code == 200
    link = the_link()
    set_password(link[0])

    client = Client()
    response = client.post("/accounts/login/", {"username": "carol", "password": NEW_PASSWORD})
    assert response["Location"] == "/accounts/mfa/enrol/"
    assert client.get("/review/")["Location"].startswith("/accounts/mfa/enrol/")
    assert client.post("/accounts/mfa/", {"otp_token": old_code}).status_code == 302  # no device: back to enrolment
    page = client.get("/accounts/mfa/enrol/")
    secret = page.context["secret"]
    assert base64.b32decode(secret).hex() != old.key
    done = client.post("/accounts/mfa/enrol/", {"otp_token": code_for(base64.b32decode(secret).hex())})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert AuditEvent.objects.filter(action="mfa_reset").exists()
    assert_nobody_else_sees(admins, carol, link[0], link["token"], secret, base64.b32decode(secret).hex(), *codes)


def test_an_unsendable_link_leaves_the_reset_approved_and_audits_the_failure(
    admins, carol, committed, settings
) -> None:
    # A real SMTP backend with nothing listening: the connection is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    approve(admins, committed, change="reset_password")
    carol.refresh_from_db()
    assert not carol.has_usable_password()
    failed = AuditEvent.objects.get(action="password_reset", outcome="failed")
    assert failed.detail == {"step": "link_not_sent"} and failed.object_id == str(carol.pk)
