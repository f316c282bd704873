"""Daily caps are counted in the database under the borrower's row lock: concurrent workers never both pass."""

import json
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from audit.models import AuditEvent
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_batch, relay_run
from collections_app.models import Message
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - lets the flush clear audit tables
from tests.collections_app.messaging.messaging_support import DAYTIME, ladder_version, policy
from tests.factories import make_account

WORKERS = 6


def enqueue(account, key, channel="sms"):
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel=channel,
        template_version=ladder_version(channel=channel),
        policy_version=policy(),
        idempotency_key=key,
    )


@pytest.fixture
def gateway_file(settings, tmp_path):
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


@pytest.mark.django_db
@time_machine.travel(DAYTIME, tick=False)
@translation.override("en")  # the event's words are written in the language active then
def test_second_sms_to_a_borrower_on_one_day_is_suppressed_by_the_cap(gateway_file):
    account = make_account()
    first, second = enqueue(account, "a"), enqueue(account, "b")
    in_app = enqueue(account, "c", channel="in_app")
    relay_run()
    for message in (first, second, in_app):
        message.refresh_from_db()
    assert (first.status, second.status, in_app.status) == ("sent", "suppressed", "sent")
    assert second.status_reason == "cap"
    event = AuditEvent.objects.get(action="message_suppressed", object_id=str(second.pk))
    assert event.detail["reason"] == "cap" and "1 of 1 messages on this channel today" in event.detail["why"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@time_machine.travel(DAYTIME, tick=False)
def test_concurrent_workers_never_both_pass_the_cap(gateway_file):
    account = make_account()
    for n in range(WORKERS):
        enqueue(account, f"race-{n}")
    barrier = threading.Barrier(WORKERS)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            relay_batch(batch_size=1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    statuses = sorted(Message.objects.values_list("status", flat=True))
    assert statuses == ["sent"] + ["suppressed"] * (WORKERS - 1)
    lines = gateway_file.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["recipient"] == account.borrower.phone
