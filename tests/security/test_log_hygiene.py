"""Log hygiene: personal values, passwords, session keys and secrets never reach the application logs."""

import json
import logging
import time

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import CASE_OFFICER, RISK_APPROVER
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_run
from collections_app.messaging.webhooks import signature_for
from review.models import FamilyContactRequest
from review.services import approver_portfolio_grant
from tests.collections_app.messaging.messaging_support import DAYTIME, ladder_version, policy
from tests.factories import make_account, make_borrower, make_contact, make_portfolio, make_user
from tests.review.conftest import add_failed_attempts, make_family_template

pytestmark = pytest.mark.django_db

OFFICER_PASSWORD = "Canary-Officer-Pass-5b1c"
APPROVER_PASSWORD = "Canary-Approver-Pass-8e2d"
WRONG_PASSWORD = "Canary-Wrong-Pass-3a9f"
WEBHOOK_SECRET = "canary-webhook-secret-0c4e7d"
NAME = "金丝雀丙"
PHONE = "+8613911112222"
ID_NUMBER = "11010519491231002X"
CONTACT_NAME = "金丝雀丁"
CONTACT_PHONE = "+8613933334444"
NOTE = "Canary note: the borrower said 金丝雀丙 lives at Canary Road 42"


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, from every logger that reaches the root."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Everything:
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def code_for(user: User) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return str(totp.token()).zfill(device.digits)


@time_machine.travel(DAYTIME, tick=True)
def test_a_full_flow_leaves_no_secret_or_personal_value_in_the_logs(captured: Everything, settings) -> None:
    settings.SECRET_KEY = "canary-django-secret-key-" + "9d3f" * 12
    settings.GATEWAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.MESSAGE_GATEWAY = "console"
    olga = make_user("olga", CASE_OFFICER, password=OFFICER_PASSWORD)
    rita = make_user("rita", RISK_APPROVER, password=APPROVER_PASSWORD)
    TOTPDevice.objects.create(user=rita, name="phone", confirmed=True)
    approver_portfolio_grant(user=rita, portfolio=make_portfolio("default"))
    template = make_family_template()
    borrower = make_borrower(name=NAME, phone=PHONE, id_number=ID_NUMBER)
    account = make_account(olga, dpd=45, borrower=borrower)
    contact = make_contact(borrower, name=CONTACT_NAME, phone=CONTACT_PHONE)
    add_failed_attempts(account, olga)
    secrets = [OFFICER_PASSWORD, APPROVER_PASSWORD, WRONG_PASSWORD, WEBHOOK_SECRET, settings.SECRET_KEY]
    secrets.append(TOTPDevice.objects.get(user=rita).key)

    officer = Client()
    officer.post("/accounts/login/", {"username": "olga", "password": WRONG_PASSWORD})
    officer.post("/accounts/login/", {"username": OFFICER_PASSWORD, "password": OFFICER_PASSWORD})
    assert officer.post("/accounts/login/", {"username": "olga", "password": OFFICER_PASSWORD}).status_code == 302
    secrets.append(officer.cookies["sessionid"].value)
    assert officer.get("/cases/").status_code == 200
    assert officer.get(f"/cases/{account.pk}/").status_code == 200
    reveal = officer.post(f"/cases/{account.pk}/reveal/", {"field": "borrower.phone", "purpose": "call_borrower"})
    assert reveal.status_code == 200
    officer.post(
        f"/cases/{account.pk}/interactions/new/",
        {"outcome": "no_answer", "channel": "phone", "note": NOTE, "occurred_at": "2026-03-10T09:00"},
    )
    filed = officer.post(
        f"/cases/{account.pk}/family-contact/new/",
        {
            "contact": contact.pk,
            "template": template.pk,
            "justification": f"{NOTE} and five unanswered calls",
            "submit": "1",
        },
    )
    assert filed.status_code == 302, "the eligible request was not filed"
    officer.get("/cases/999999999/")
    officer.get("/review/")

    approver = Client()
    approver.post("/accounts/login/", {"username": "rita", "password": APPROVER_PASSWORD})
    code = code_for(rita)
    assert approver.post("/accounts/mfa/", {"otp_token": code}).status_code == 302
    secrets.append(approver.cookies["sessionid"].value)
    request = FamilyContactRequest.objects.get(account=account)
    assert approver.get(f"/review/{request.pk}/").status_code == 200
    approver.post(f"/review/{request.pk}/decide/", {"decision": "approve", "reason": "Policy met."})
    message_enqueue(
        borrower=borrower,
        account=account,
        contact=None,
        audience="borrower",
        channel="sms",
        template_version=ladder_version(),
        policy_version=policy(),
        idempotency_key="canary-ladder",
    )
    relay_run()

    body = json.dumps({"from": CONTACT_PHONE, "text": "TD", "received_at": "2026-03-10T10:00:00+08:00"}).encode()
    stamp = str(int(time.time()))
    Client().post(
        "/hooks/gateway/inbound/",
        data=body,
        content_type="application/json",
        headers={"X-Timestamp": stamp, "X-Signature": "sha256=" + signature_for(WEBHOOK_SECRET, stamp, body)},
    )
    Client().post(
        "/hooks/gateway/inbound/",
        data=body,
        content_type="application/json",
        headers={"X-Timestamp": stamp, "X-Signature": "sha256=" + "0" * 64},
    )
    officer.post("/accounts/logout/")
    secrets += list(Session.objects.values_list("session_key", flat=True))

    personal = [NAME, PHONE, PHONE[3:], ID_NUMBER, CONTACT_NAME, CONTACT_PHONE, CONTACT_PHONE[3:], NOTE]
    text = "\n".join(captured.lines)
    assert any("canary-ladder" in line for line in captured.lines), "the console gateway's log line is missing"
    found = [value for value in personal + secrets if value and value in text]
    assert found == [], "\n".join(line for line in captured.lines if any(v in line for v in found))
