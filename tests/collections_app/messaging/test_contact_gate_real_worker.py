"""A real Celery worker runs the relay: what changed since queueing (paid off, a dispute) is stopped at hand-off.

The worker's clock cannot be pinned: the policy's window covers the whole day in a fixed zone, so the real hour of
the run never holds a message back, and only the gate's other rules decide.
"""

import datetime
import json
import os

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from collections_app.models import Flag, LoanAccount, Message
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - lets the flush clear audit tables
from tests.collections_app.messaging.messaging_support import ladder_version, policy
from tests.collections_app.messaging.test_outbox_worker_crash import WHOLE_DAY, kill_hard, start_worker, wait_for
from tests.factories import make_account


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_suppresses_what_no_longer_holds_and_sends_the_rest(tmp_path, officer):
    from config.celery import app

    gateway = tmp_path / "gateway.jsonl"
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "MESSAGE_GATEWAY": f"file:{gateway}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    env.pop("TEST_DB_NAME", None)
    app.control.purge()
    pv = policy()
    type(pv).objects.filter(pk=pv.pk).update(send_window_start=WHOLE_DAY[0], send_window_end=WHOLE_DAY[1])
    accounts = {name: make_account() for name in ("paid", "disputed", "owing")}
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            borrower_id=account.borrower_id,
            account=account,
            audience="borrower",
            channel="sms",
            recipient=account.borrower.phone,
            recipient_timezone="UTC",
            body="reminder",
            template_version=ladder_version(),
            policy_version=pv,
            idempotency_key=f"worker-{name}",
            not_before=now - datetime.timedelta(seconds=1),
        )
        for name, account in accounts.items()
    )
    # Between queueing and sending: the core system reports a payment in full, an officer opens a dispute.
    LoanAccount.objects.filter(pk=accounts["paid"].pk).update(oldest_unpaid_due_date=None, outstanding=0)
    Flag.objects.create(
        account=accounts["disputed"], kind="dispute", opened_reason="not mine", opened_by=officer, opened_at=now
    )

    worker = start_worker(env, tmp_path / "worker.log")
    try:
        app.send_task("collections_app.relay_messages")
        assert wait_for(lambda: not Message.objects.filter(status__in=["queued", "sending"]).exists(), 60), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
    finally:
        kill_hard(worker)

    outcome = dict(Message.objects.values_list("idempotency_key", "status_reason"))
    statuses = dict(Message.objects.values_list("idempotency_key", "status"))
    assert statuses == {"worker-paid": "suppressed", "worker-disputed": "suppressed", "worker-owing": "sent"}
    assert (outcome["worker-paid"], outcome["worker-disputed"]) == ("paid", "paused")
    handed = [json.loads(line)["idempotency_key"] for line in gateway.read_text().splitlines()]
    assert handed == ["worker-owing"]
