"""The relay hands each message to the gateway exactly once and records every outcome."""

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from django.db import connection

from audit.models import AuditEvent
from collections_app.messaging import relay as message_services
from collections_app.messaging.gates import SendGate
from collections_app.messaging.gateways import Outcome, Result
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_reconcile, relay_run
from collections_app.models import Message
from tests.collections_app.messaging.messaging_support import DAYTIME, NIGHT, family_version, ladder_version, policy
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_file(settings, tmp_path):
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


@contextmanager
def worker_gone_for_a_while() -> Iterator[None]:
    """Later than the crashed hand-off by more than SQLite's orphan window (PostgreSQL asks the advisory locks)."""
    with time_machine.travel(
        DAYTIME + message_services.SQLITE_ORPHAN_AFTER + datetime.timedelta(minutes=1), tick=False
    ):
        yield


@contextmanager
def worker_alive(message: Message) -> Iterator[None]:
    """A worker still handing `message` over: on PostgreSQL it holds the message's advisory lock; on SQLite,
    which has none, its hand-off is younger than the orphan window (the clock stands still)."""
    if connection.vendor != "postgresql":
        yield
        return
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as live_worker:
        live_worker.execute("SELECT pg_advisory_lock(%s, %s)", [message_services.ADVISORY_NAMESPACE, message.pk])
        yield


def witnessed(path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["idempotency_key"] for line in path.read_text().splitlines()]


def enqueue(account, key: str, channel: str = "sms") -> Message:
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel=channel,
        template_version=ladder_version(channel=channel),
        policy_version=policy(),
        idempotency_key=key,
    )


@time_machine.travel(DAYTIME, tick=False)
def test_relay_sends_each_queued_message_once_and_records_sent(gateway_file):
    keys = [enqueue(make_account(), f"m{i}").idempotency_key for i in range(5)]
    stats = relay_run(batch_size=2)
    assert stats.sent == 5
    assert sorted(witnessed(gateway_file)) == sorted(keys)
    line = json.loads(gateway_file.read_text().splitlines()[0])
    assert set(line) == {"idempotency_key", "channel", "recipient", "audience", "body"}
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert AuditEvent.objects.filter(action="message_sending").count() == 5
    assert AuditEvent.objects.filter(action="message_sent").count() == 5


@time_machine.travel(DAYTIME, tick=False)
def test_a_duplicate_relay_run_sends_nothing_twice(gateway_file):
    enqueue(make_account(), "once")
    relay_run()
    assert relay_run().sent == 0
    assert witnessed(gateway_file) == ["once"]


@time_machine.travel(DAYTIME, tick=False)
def test_sending_message_already_accepted_is_reconciled_not_resent(gateway_file):
    message = enqueue(make_account(), "crashed-after-handoff")
    relay_run()
    # The worker died after the gateway took it but before recording `sent`.
    Message.objects.filter(pk=message.pk).update(status="sending", sent_at=None)
    with worker_gone_for_a_while():
        stats = relay_reconcile()
        assert stats.reconciled == 1
        relay_run()
    message.refresh_from_db()
    assert message.status == "sent"
    assert witnessed(gateway_file) == ["crashed-after-handoff"]


@time_machine.travel(DAYTIME, tick=False)
def test_sending_message_never_accepted_is_sent_exactly_once_after_reconciling(gateway_file):
    message = enqueue(make_account(), "crashed-before-handoff")
    Message.objects.filter(pk=message.pk).update(status="sending", send_date=DAYTIME.date())
    with worker_gone_for_a_while():
        assert relay_reconcile().requeued == 1
        relay_run()
    message.refresh_from_db()
    assert message.status == "sent"
    assert witnessed(gateway_file) == ["crashed-before-handoff"]


@time_machine.travel(DAYTIME, tick=False)
def test_sending_message_of_a_live_worker_is_left_alone(gateway_file):
    message = enqueue(make_account(), "in-flight")
    Message.objects.filter(pk=message.pk).update(status="sending", send_date=DAYTIME.date())
    with worker_alive(message):
        stats = relay_reconcile()
    assert stats.reconciled == 0 and stats.requeued == 0
    message.refresh_from_db()
    assert message.status == "sending"
    assert witnessed(gateway_file) == []


def test_waiting_message_goes_out_when_the_window_opens(gateway_file):
    with time_machine.travel(NIGHT, tick=False):
        message = enqueue(make_account(), "night")
        assert relay_run().sent == 0
    assert witnessed(gateway_file) == []
    with time_machine.travel(NIGHT.replace(day=11, hour=8, minute=0), tick=False):
        assert relay_run().sent == 1
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_reminder_queued_by_day_is_stale_if_the_relay_first_sees_it_after_its_window(gateway_file):
    """Its send day is over before the recipient's hours open again: it is never sent the next day."""
    with time_machine.travel(DAYTIME, tick=False):
        message = enqueue(make_account(), "late")
    with time_machine.travel(NIGHT, tick=False):
        stats = relay_run()
    assert (stats.sent, stats.waiting, stats.suppressed) == (0, 0, 1)
    message.refresh_from_db()
    assert (message.status, message.status_reason) == ("suppressed", "stale")
    event = AuditEvent.objects.get(action="message_suppressed", object_id=str(message.pk))
    assert event.detail["reason"] == "stale" and event.detail["stage"] == "hand-off"
    assert witnessed(gateway_file) == []


class RefusingGate(SendGate):
    """A send gate named in MESSAGE_SEND_GATES in place of review's: refuses every family message."""

    audience = "family"
    changes: list[tuple[str, str]] = []

    def before_send(self, message, now):
        return "the borrower paid"

    def after_status_change(self, message, old, new):
        self.changes.append((old, new))


@time_machine.travel(DAYTIME, tick=False)
def test_before_send_hook_suppresses_and_status_hook_sees_each_change(gateway_file, officer, approver, settings):
    account = make_account()
    contact = make_contact(account.borrower)
    changes = RefusingGate.changes = []
    settings.MESSAGE_SEND_GATES = [f"{__name__}.RefusingGate"]
    message = message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience="family",
        channel="sms",
        template_version=family_version(officer, approver),
        policy_version=policy(),
        idempotency_key="fam",
    )
    relay_run()
    message.refresh_from_db()
    # A gate's words name no code: the request behind the message is taken as cancelled.
    assert message.status == "suppressed" and message.status_reason == "request_cancelled"
    event = AuditEvent.objects.get(action="message_suppressed", object_id=str(message.pk))
    assert event.detail["why"] == "the borrower paid"
    assert changes == [("", "queued"), ("queued", "suppressed")]
    assert witnessed(gateway_file) == []


@time_machine.travel(DAYTIME, tick=False)
def test_opt_out_after_queueing_is_honoured_at_send(gateway_file, officer, approver):
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
        idempotency_key="fam",
    )
    # Written behind the services' back, as a concurrent transaction would: only the relay's re-check stops it.
    from collections_app.models import PhoneOptOut

    PhoneOptOut.objects.create(phone=contact.phone, source="officer", received_at=DAYTIME)
    relay_run()
    message.refresh_from_db()
    assert message.status == "suppressed"
    assert witnessed(gateway_file) == []


@time_machine.travel(DAYTIME, tick=False)
def test_gateway_refusal_fails_and_unknown_outcome_stays_sending(monkeypatch):
    refused, unknown = enqueue(make_account(), "refused"), enqueue(make_account(), "unknown")

    class Flaky:
        def send_many(self, messages):
            return [
                Result(Outcome.REJECTED, "HTTP 400")
                if m.idempotency_key == "refused"
                else Result(Outcome.UNKNOWN, "timeout")
                for m in messages
            ]

    monkeypatch.setattr(message_services, "current_gateway", lambda: Flaky())
    stats = relay_run()
    assert (stats.failed, stats.unknown) == (1, 1)
    refused.refresh_from_db()
    unknown.refresh_from_db()
    assert refused.status == "failed" and refused.last_error == "HTTP 400"
    assert unknown.status == "sending" and unknown.last_error == "timeout"
    assert AuditEvent.objects.filter(action="message_failed", object_id=str(refused.pk)).exists()
