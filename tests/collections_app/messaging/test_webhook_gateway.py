"""The gateway's signed webhooks: opt-outs and stops end to end, receipts forward only, replays refused."""

import json
import time

import pytest
import time_machine
from django.test import Client

from audit.models import AuditEvent
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_run
from collections_app.messaging.webhooks import signature_for
from collections_app.models import ChannelStop, Message, PhoneOptOut
from tests.collections_app.messaging.messaging_support import DAYTIME, family_version, ladder_version, policy
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db
SECRET = "webhook-test-secret"
INBOUND = "/hooks/gateway/inbound/"
RECEIPT = "/hooks/gateway/receipt/"


@pytest.fixture(autouse=True)
def webhook_settings(settings, tmp_path):
    settings.GATEWAY_WEBHOOK_SECRET = SECRET
    settings.MESSAGE_GATEWAY = f"file:{tmp_path / 'gateway.jsonl'}"


def post(path: str, payload: object, *, timestamp: int | None = None, secret: str = SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return Client().post(
        path,
        data=body,
        content_type="application/json",
        headers={"X-Timestamp": stamp, "X-Signature": f"sha256={signature_for(secret, stamp, body)}"},
    )


def inbound(phone: str, text: str) -> dict:
    return {"from": phone, "text": text, "received_at": "2026-03-10T10:00:00+08:00"}


def family_message(officer, approver, key="fam"):
    account = make_account()
    contact = make_contact(account.borrower)
    message = message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience="family",
        channel="sms",
        template_version=family_version(officer, approver),
        policy_version=policy(),
        idempotency_key=key,
    )
    return account, contact, message


def borrower_sms(account, key):
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel="sms",
        template_version=ladder_version(),
        policy_version=policy(),
        idempotency_key=key,
    )


@pytest.mark.parametrize("text", ["TD", " td ", "退订", "Stop", "STOP\n", "\u3000stop"])
def test_family_contact_reply_opts_the_number_out_for_every_borrower(officer, approver, text):
    with time_machine.travel(DAYTIME, tick=False):
        account, contact, message = family_message(officer, approver)
        other_borrower_account = make_account()
        make_contact(other_borrower_account.borrower, phone=contact.phone)
    response = post(INBOUND, inbound(contact.phone, text))
    assert response.status_code == 204
    opt_out = PhoneOptOut.objects.get(phone=contact.phone)
    assert opt_out.source == "sms_reply"
    message.refresh_from_db()
    assert message.status == "suppressed"
    assert AuditEvent.objects.filter(action="opt_out").count() == 1
    assert AuditEvent.objects.filter(action="message_suppressed", object_id=str(message.pk)).exists()


def test_borrower_reply_stops_sms_and_suppresses_queued_sms():
    with time_machine.travel(DAYTIME, tick=False):
        account = make_account()
        queued = borrower_sms(account, "b1")
    assert post(INBOUND, inbound(account.borrower.phone, "TD")).status_code == 204
    assert ChannelStop.objects.filter(borrower=account.borrower, channel="sms", source="sms_reply").exists()
    assert not PhoneOptOut.objects.exists()
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    assert AuditEvent.objects.filter(action="channel_stopped").count() == 1


def test_other_text_changes_nothing():
    account = make_account()
    assert post(INBOUND, inbound(account.borrower.phone, "我明天还")).status_code == 204
    assert not ChannelStop.objects.exists() and not PhoneOptOut.objects.exists()


def test_bad_signature_is_refused_and_changes_nothing():
    account = make_account()
    assert post(INBOUND, inbound(account.borrower.phone, "TD"), secret="wrong").status_code == 401
    assert not ChannelStop.objects.exists()


def test_missing_signature_is_refused():
    response = Client().post(INBOUND, data=json.dumps(inbound("+8613800000001", "TD")), content_type="application/json")
    assert response.status_code == 401


def test_stale_timestamp_is_refused():
    account = make_account()
    stale = int(time.time()) - 301
    assert post(INBOUND, inbound(account.borrower.phone, "TD"), timestamp=stale).status_code == 401
    assert not ChannelStop.objects.exists()


def test_replayed_signature_is_refused():
    account = make_account()
    body = json.dumps(inbound(account.borrower.phone, "hello")).encode()
    stamp = str(int(time.time()))
    headers = {"X-Timestamp": stamp, "X-Signature": f"sha256={signature_for(SECRET, stamp, body)}"}
    first = Client().post(INBOUND, data=body, content_type="application/json", headers=headers)
    second = Client().post(INBOUND, data=body, content_type="application/json", headers=headers)
    assert (first.status_code, second.status_code) == (204, 401)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"from": "13800000000", "text": "TD", "received_at": "2026-03-10T10:00:00Z"}).encode(),
        json.dumps({"from": "+8613800000000", "text": "TD"}).encode(),
    ],
)
def test_malformed_inbound_body_is_400(raw):
    assert post(INBOUND, None, raw=raw).status_code == 400


def sent_message() -> Message:
    with time_machine.travel(DAYTIME, tick=False):
        message = borrower_sms(make_account(), "r1")
        relay_run()
    message.refresh_from_db()
    assert message.status == "sent"
    return message


def receipt(status: str, at: str = "2026-03-10T10:05:00+08:00") -> dict:
    return {"idempotency_key": "r1", "status": status, "at": at}


def test_receipts_move_forward_and_a_late_sent_never_overwrites_delivered():
    message = sent_message()
    assert post(RECEIPT, receipt("delivered")).status_code == 204
    assert post(RECEIPT, receipt("sent", "2026-03-10T10:06:00+08:00")).status_code == 204
    assert post(RECEIPT, receipt("failed", "2026-03-10T10:07:00+08:00")).status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    assert AuditEvent.objects.filter(action="message_delivered", object_id=str(message.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="message_failed").exists()


def test_failed_receipt_is_terminal():
    message = sent_message()
    assert post(RECEIPT, receipt("failed")).status_code == 204
    assert post(RECEIPT, receipt("delivered", "2026-03-10T10:06:00+08:00")).status_code == 204
    message.refresh_from_db()
    assert message.status == "failed"


def test_replayed_receipt_changes_nothing():
    message = sent_message()
    body = json.dumps(receipt("delivered")).encode()
    stamp = str(int(time.time()))
    headers = {"X-Timestamp": stamp, "X-Signature": f"sha256={signature_for(SECRET, stamp, body)}"}
    assert Client().post(RECEIPT, data=body, content_type="application/json", headers=headers).status_code == 204
    events = AuditEvent.objects.count()
    assert Client().post(RECEIPT, data=body, content_type="application/json", headers=headers).status_code == 401
    assert AuditEvent.objects.count() == events
    message.refresh_from_db()
    assert message.status == "delivered"


@pytest.mark.parametrize(
    "payload",
    [
        {"idempotency_key": "r1", "status": "read", "at": "2026-03-10T10:00:00Z"},
        {"idempotency_key": "r1", "status": "sent"},
        {"status": "sent", "at": "x"},
    ],
)
def test_malformed_receipt_is_400(payload):
    assert post(RECEIPT, payload).status_code == 400


def test_receipt_for_an_unknown_key_is_taken_and_ignored():
    assert post(RECEIPT, {"idempotency_key": "nope", "status": "sent", "at": "2026-03-10T10:00:00Z"}).status_code == 204
