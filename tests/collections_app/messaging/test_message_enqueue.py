"""message_enqueue: rendering, the firewall, opt-outs and allowed hours decide what is written."""

import datetime

import pytest
import time_machine
from django.db import transaction

from audit.models import AuditEvent
from collections_app.messaging.checks import MessageRefused
from collections_app.messaging.consent import cease_request_record, channel_stop_record, phone_opt_out_record
from collections_app.messaging.outbox import message_enqueue, message_suppress
from collections_app.messaging.render import message_render_preview
from collections_app.messaging.tasks import kick_relay, relay_messages
from collections_app.models import Message
from tests.collections_app.messaging.messaging_support import (
    DAYTIME,
    NIGHT,
    SHANGHAI,
    enqueue_borrower_sms,
    family_version,
    ladder_version,
    policy,
)
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def enqueue_family(account, contact, version, key: str = "f1") -> Message:
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience="family",
        channel="sms",
        template_version=version,
        policy_version=policy(),
        idempotency_key=key,
    )


@time_machine.travel(DAYTIME, tick=False)
def test_borrower_sms_in_allowed_hours_is_queued_masked_and_audited():
    account = make_account(borrower=None)
    account.borrower.name = "张三丰"
    account.borrower.save()
    message = enqueue_borrower_sms(account)
    assert message.status == "queued"
    assert "张**" in message.body and "张三丰" not in message.body
    assert message.recipient == account.borrower.phone
    assert message.policy_version == policy() and message.template_version == ladder_version()
    event = AuditEvent.objects.get(action="message_queued")
    assert event.object_id == str(message.pk) and event.persons == [f"borrower:{account.borrower_id}"]


@time_machine.travel(NIGHT, tick=False)
def test_message_outside_allowed_hours_waits_for_the_window_to_open():
    message = enqueue_borrower_sms(make_account())
    assert message.status == "waiting"
    assert message.not_before == datetime.datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
    assert AuditEvent.objects.filter(action="message_waiting", object_id=str(message.pk)).exists()


@time_machine.travel(DAYTIME, tick=False)
def test_same_idempotency_key_returns_the_existing_message():
    account = make_account()
    first = enqueue_borrower_sms(account)
    assert enqueue_borrower_sms(account) == first
    assert Message.objects.count() == 1


@time_machine.travel(DAYTIME, tick=False)
def test_family_message_needs_an_approved_version(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    with pytest.raises(MessageRefused):
        enqueue_family(account, contact, family_version(officer, None))
    assert not Message.objects.exists()


@time_machine.travel(DAYTIME, tick=False)
def test_family_message_ends_with_the_profile_opt_out_line(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    message = enqueue_family(account, contact, family_version(officer, approver))
    assert message.status == "queued"
    assert message.body.endswith("回复TD退订")
    assert message.recipient == contact.phone
    event = AuditEvent.objects.get(action="message_queued")
    assert sorted(event.persons) == sorted([f"borrower:{account.borrower_id}", f"contact:{contact.pk}"])


@time_machine.travel(DAYTIME, tick=False)
def test_family_message_failing_the_firewall_is_refused_with_its_findings(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    version = family_version(officer, approver, body="{borrower_name}欠款5000元已逾期45天，请转告。")
    with pytest.raises(MessageRefused) as refused:
        enqueue_family(account, contact, version)
    text = " ".join(refused.value.messages)
    assert "amount" in text and "overdue_detail" in text
    assert not Message.objects.exists()


@time_machine.travel(DAYTIME, tick=False)
def test_edited_family_template_refuses_the_old_version(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    old = family_version(officer, approver)
    family_version(officer, None, body="请{borrower_name}回电，谢谢。")
    with pytest.raises(MessageRefused):
        enqueue_family(account, contact, old)


@time_machine.travel(DAYTIME, tick=False)
def test_opted_out_phone_gets_a_suppressed_family_message(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    phone_opt_out_record(phone=contact.phone, actor=officer)
    message = enqueue_family(account, contact, family_version(officer, approver))
    assert message.status == "suppressed" and message.status_reason
    assert AuditEvent.objects.filter(action="opt_out").count() == 1
    assert AuditEvent.objects.filter(action="message_suppressed", object_id=str(message.pk)).exists()


@time_machine.travel(DAYTIME, tick=False)
def test_stopped_channel_and_cease_suppress_borrower_messages(officer):
    account = make_account()
    channel_stop_record(borrower=account.borrower, channel="sms", actor=officer)
    assert enqueue_borrower_sms(account, "a").status == "suppressed"
    other = make_account()
    cease_request_record(borrower=other.borrower, actor=officer)
    assert enqueue_borrower_sms(other, "b").status == "suppressed"
    assert AuditEvent.objects.filter(action="channel_stopped").count() == 1
    assert AuditEvent.objects.filter(action="cease_requested").count() == 1


@time_machine.travel(DAYTIME, tick=False)
def test_recording_an_opt_out_suppresses_messages_already_queued(officer, approver):
    account = make_account()
    contact = make_contact(account.borrower)
    message = enqueue_family(account, contact, family_version(officer, approver))
    phone_opt_out_record(phone=contact.phone, actor=officer)
    message.refresh_from_db()
    assert message.status == "suppressed"


@time_machine.travel(DAYTIME, tick=False)
def test_suppress_only_touches_messages_not_yet_handed_over():
    account = make_account()
    message = enqueue_borrower_sms(account)
    assert message_suppress(message=message, reason="expired", why="request expired")
    assert not message_suppress(message=message, reason="paused")
    message.refresh_from_db()
    assert message.status_reason == "expired"


@time_machine.travel(DAYTIME, tick=False)
def test_a_message_is_suppressed_only_with_a_contract_reason_code():
    message = enqueue_borrower_sms(make_account())
    with pytest.raises(ValueError, match="ContactReason"):
        message_suppress(message=message, reason="request expired")
    message.refresh_from_db()
    assert message.status == "queued"


@time_machine.travel(DAYTIME, tick=False)
def test_enqueue_kicks_the_relay_only_on_commit(django_capture_on_commit_callbacks):
    account = make_account()
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_borrower_sms(account)
            raise RuntimeError("the decision failed")
    assert callbacks == [] and not Message.objects.exists()


@time_machine.travel(DAYTIME, tick=False)
def test_a_committed_enqueue_kicks_the_relay_once(django_capture_on_commit_callbacks, monkeypatch):
    kicks = []
    monkeypatch.setattr(relay_messages, "delay", lambda *args, **kwargs: kicks.append((args, kwargs)))
    account = make_account()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = enqueue_borrower_sms(account)
        assert kicks == [], "the relay was kicked before the message was committed"
    assert message.status == Message.Status.QUEUED
    assert callbacks == [kick_relay]
    assert kicks == [((), {})]


def test_preview_renders_without_writing(officer, approver):
    account = make_account()
    text = message_render_preview(
        template_version=family_version(officer, approver), borrower=account.borrower, policy_version=policy()
    )
    assert text.endswith("回复TD退订") and "95188" in text
    assert not Message.objects.exists()
