"""A real Celery worker killed with SIGKILL mid-batch: after a restart every message reaches the gateway once.

The gateway is an HTTP server run by the test on 127.0.0.1: after a number of hand-offs it holds every further
request open, so the kill always lands mid-batch however fast the machine is. The policy's window covers the whole
day in a fixed zone, so the real hour of the run (the worker's clock cannot be pinned) never holds a message back.
"""

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
# Hand-offs the gateway answers before it starts holding requests open: well inside the first batch.
HOLD_AFTER = 200
RECIPIENT_ZONE = "UTC"
# Sweeps sent 10 seconds apart before the test gives up on the recovery.
SWEEPS = 15
# The whole day: [00:00, 23:59:59.999999) lets out every instant but the last microsecond of a day.
WHOLE_DAY = (datetime.time(0, 0), datetime.time.max)


class HoldingGateway(ThreadingHTTPServer):
    """The `http:` gateway of CONTRACT.md: POST hands a message over, GET <url>/<key> says whether it was taken.

    Every POST is recorded as accepted when it arrives (duplicates included, so a resend shows); after
    `hold_after` POSTs it answers none until `released` is set, as a gateway that stalls mid-batch.
    """

    daemon_threads = True

    def __init__(self, hold_after: int) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.hold_after = hold_after
        self.lock = threading.Lock()
        self.posts: list[str] = []
        self.holding = threading.Event()
        self.released = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/gateway"

    def accepted(self) -> list[str]:
        with self.lock:
            return list(self.posts)


class _GatewayHandler(BaseHTTPRequestHandler):
    server: HoldingGateway

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: thousands of requests."""

    def _answer(self, status: int, payload: dict[str, str]) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the worker that asked was killed while the request was held

    def do_POST(self) -> None:
        key = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["idempotency_key"]
        with self.server.lock:
            self.server.posts.append(key)
            hold = len(self.server.posts) > self.server.hold_after and not self.server.released.is_set()
        if hold:
            self.server.holding.set()
            self.server.released.wait(timeout=300)
        self._answer(200, {"status": "accepted"})

    def do_GET(self) -> None:
        key = self.path.rsplit("/", 1)[-1]
        with self.server.lock:
            taken = key in self.server.posts
        if taken:
            self._answer(200, {"status": "accepted"})
        else:
            self._answer(404, {})


@pytest.fixture
def gateway() -> Iterator[HoldingGateway]:
    server = HoldingGateway(hold_after=HOLD_AFTER)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()


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


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sigkilled_worker_mid_batch_then_restart_sends_every_message_exactly_once(tmp_path, gateway):
    from config.celery import app

    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "MESSAGE_GATEWAY": f"http:{gateway.url}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": str(REPO),
    }
    env.pop("TEST_DB_NAME", None)
    app.control.purge()

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
            recipient_timezone=RECIPIENT_ZONE,
            body=f"reminder {n}",
            template_version=version,
            policy_version=pv,
            idempotency_key=f"crash-{n:05d}",
            not_before=now - datetime.timedelta(seconds=1),
        )
        for n in range(MESSAGES)
    )
    # The cap is one in-app message per borrower per day: lift it for this volume test. The window spans the
    # whole day, so the worker's real clock lets every message out at any hour.
    type(pv).objects.filter(pk=pv.pk).update(
        max_messages_per_channel_per_day=MESSAGES, send_window_start=WHOLE_DAY[0], send_window_end=WHOLE_DAY[1]
    )

    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        app.send_task("collections_app.relay_messages")
        app.send_task("collections_app.relay_messages")
        # The gateway holds its answers from the (HOLD_AFTER + 1)th hand-off on: the worker is stuck mid-batch.
        assert gateway.holding.wait(120), log.read_text()
        kill_hard(worker)
        handed = len(gateway.accepted())
        in_flight = Message.objects.filter(status="sending").count()
        assert HOLD_AFTER < handed < MESSAGES
        assert in_flight >= handed, "the kill must leave hand-offs whose outcome the database never recorded"
        print(f"killed after {handed} hand-offs with {in_flight} messages in flight")  # noqa: T201
        gateway.released.set()

        worker = start_worker(env, log)
        # The killed task is not redelivered before the visibility timeout: the sweep is what recovers.
        app.send_task("collections_app.sweep_outbox")
        # A duplicate delivery of the same task sends nothing twice.
        app.send_task("collections_app.relay_messages")
        app.send_task("collections_app.relay_messages")

        def all_sent() -> bool:
            return Message.objects.exclude(status="sent").count() == 0

        # As beat does every 10 seconds: each sweep reconciles one batch of orphaned hand-offs, and the kill left
        # two (both workers' batches were stalled at the gateway).
        for _ in range(SWEEPS):
            if wait_for(all_sent, 10):
                break
            app.send_task("collections_app.sweep_outbox")
        assert all_sent(), (Message.objects.exclude(status="sent").count(), log.read_text()[-3000:])
    finally:
        kill_hard(worker)

    keys = gateway.accepted()
    assert len(keys) == MESSAGES, f"{len(keys) - len(set(keys))} duplicates; {in_flight} were in flight at the kill"
    assert set(keys) == {f"crash-{n:05d}" for n in range(MESSAGES)}
