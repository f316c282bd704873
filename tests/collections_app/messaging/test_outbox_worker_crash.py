"""A real Celery worker killed with SIGKILL mid-batch: after a restart every message reaches the gateway once."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from collections_app.models import Message
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - lets the flush clear audit tables
from tests.collections_app.messaging.messaging_support import ladder_version, policy
from tests.factories import make_account

REPO = Path(__file__).resolve().parents[3]
MESSAGES = 3000
CANDIDATE_ZONES = [
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Europe/Moscow",
    "America/Sao_Paulo",
    "Asia/Tokyo",
]


def daytime_zone() -> str:
    """A zone where it is now well inside allowed hours, so the real worker's clock lets messages out."""
    now = timezone.now()
    for name in CANDIDATE_ZONES:
        if 9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 19:
            return name
    raise AssertionError("no candidate zone is in daytime")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "config",
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "--loglevel=WARNING",
    ]
    # Its own session, so SIGKILL reaches the whole process group (parent and pool children) at once.
    return subprocess.Popen(  # noqa: S603 - a fixed command line
        command, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_hard(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def witnessed(path: Path) -> list[str]:
    if not path.exists():
        return []
    # Only whole lines: the worker may be appending while the test reads.
    whole = path.read_text().split("\n")[:-1]
    return [json.loads(line)["idempotency_key"] for line in whole]


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sigkilled_worker_mid_batch_then_restart_sends_every_message_exactly_once(tmp_path):
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
        "PYTHONPATH": str(REPO),
    }
    env.pop("TEST_DB_NAME", None)
    app.control.purge()

    zone = daytime_zone()
    account = make_account()
    version, pv = ladder_version(), policy()
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            borrower_id=account.borrower_id,
            account=account,
            audience="borrower",
            channel="in_app",
            recipient=f"app:crash-{n}",
            recipient_timezone=zone,
            body=f"reminder {n}",
            template_version=version,
            policy_version=pv,
            idempotency_key=f"crash-{n:05d}",
            not_before=now - datetime.timedelta(seconds=1),
        )
        for n in range(MESSAGES)
    )
    # The cap is one in-app message per borrower per day: lift it for this volume test.
    type(pv).objects.filter(pk=pv.pk).update(max_messages_per_channel_per_day=MESSAGES)

    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        app.send_task("collections_app.relay_messages")
        app.send_task("collections_app.relay_messages")
        assert wait_for(lambda: len(witnessed(gateway)) > 0, 60), log.read_text()
        kill_hard(worker)
        handed = len(witnessed(gateway))
        assert handed < MESSAGES, "the worker finished before it could be killed mid-batch"
        in_flight = Message.objects.filter(status="sending").count()
        print(f"killed after {handed} hand-offs with {in_flight} messages in flight")  # noqa: T201

        worker = start_worker(env, log)
        # The killed task is not redelivered before the visibility timeout: the sweep is what recovers.
        app.send_task("collections_app.sweep_outbox")
        # A duplicate delivery of the same task sends nothing twice.
        app.send_task("collections_app.relay_messages")
        app.send_task("collections_app.relay_messages")

        def all_sent() -> bool:
            return Message.objects.exclude(status="sent").count() == 0

        if not wait_for(all_sent, 90):
            app.send_task("collections_app.sweep_outbox")
            assert wait_for(all_sent, 60), (Message.objects.exclude(status="sent").count(), log.read_text()[-3000:])
    finally:
        kill_hard(worker)

    keys = witnessed(gateway)
    assert len(keys) == MESSAGES, f"{len(keys) - len(set(keys))} duplicates; {in_flight} were in flight at the kill"
    assert set(keys) == {f"crash-{n:05d}" for n in range(MESSAGES)}
