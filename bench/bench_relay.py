"""Messages through the relay to the file gateway with two Celery workers: messages per second.

Run from the repository root: `python bench/bench_relay.py` with `DATABASE_URL` and `REDIS_URL` set. Sizes:
`BENCH_MESSAGES` (default 20,000) queued borrower messages, `BENCH_RUNS` (default 3) runs, `BENCH_WORKERS`
(default 2) worker processes (one pool process each). It builds its own throwaway database (`bench_relay`, or
`TEST_DB_NAME`), starts the workers against it, kicks the relay and times until every message is `sent`.
Each message is written once to the file gateway (checked). Goal: >= 1,000 messages/s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_relay")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
GOAL_PER_SECOND = 1000.0
ZONES = ["Asia/Shanghai", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo"]


def daytime_zone() -> str:
    """A recipient zone where it is now inside allowed hours (the workers use the real clock)."""
    now = timezone.now()
    return next(z for z in ZONES if 9 <= now.astimezone(zoneinfo.ZoneInfo(z)).hour < 19)


def populate(run: int) -> None:
    """One borrower, overdue account and queued in-app message per message (so no daily cap applies).

    Each message names its account, so the contact gate's hand-off check reads the account's state (paid,
    pauses) as it does for every ladder reminder.
    """
    from collections_app.models import Message, PolicyVersion, Portfolio, TemplateVersion

    pv = PolicyVersion.objects.in_force(at=timezone.now()).filter(profile__code="cn-default").first()
    version = TemplateVersion.objects.filter(template__code="ladder-overdue-in_app").latest("version")
    portfolio, _ = Portfolio.objects.get_or_create(
        code="bench", defaults={"name": "bench", "policy_profile": pv.profile}
    )
    zone = daytime_zone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM collections_app_borrower")
        base = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO collections_app_borrower (id, external_ref, name, id_number, phone, timezone)
            SELECT %s + g, 'R' || (%s + g), '测试' || g, '', '+86139' || lpad((%s + g)::text, 8, '0'), %s
            FROM generate_series(1, %s) AS g
            """,
            [base, base, base, zone, MESSAGES],
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('collections_app_borrower', 'id'), %s)", [base + MESSAGES])
        cursor.execute(
            """
            INSERT INTO collections_app_loanaccount (account_number, borrower_id, portfolio_id, principal, outstanding,
                oldest_unpaid_due_date, updated_at)
            SELECT 'R' || (%s + g), %s + g, %s, 1000, 1000, CURRENT_DATE - 10, now()
            FROM generate_series(1, %s) AS g
            """,
            [base, base, portfolio.pk, MESSAGES],
        )
        cursor.execute(
            f"""
            INSERT INTO {Message._meta.db_table} (borrower_id, account_id, audience, channel, recipient,
                recipient_timezone, body, template_version_id, status, status_reason, idempotency_key,
                policy_version_id, not_before, attempts, last_error, created_at, updated_at)
            SELECT a.borrower_id, a.id, 'borrower', 'in_app', 'app:R' || a.borrower_id, %s,
                   '测*您好，您的借款已逾期，请尽快还款。', %s, 'queued', '', %s || a.borrower_id, %s,
                   now() - interval '1 second', 0, '', now(), now()
            FROM collections_app_loanaccount AS a WHERE a.borrower_id > %s
            """,  # noqa: S608 - the table name comes from model metadata
            [zone, version.pk, f"bench-{run}-", pv.pk, base],
        )


def start_workers(env: dict[str, str], log: Path) -> list[subprocess.Popen]:
    """Two (or BENCH_WORKERS) worker processes with one pool process each."""
    celery = str(Path(sys.executable).with_name("celery"))
    return [
        subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                celery,
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                f"--hostname=bench{n}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]


def main() -> None:
    """Populate, run, print figures."""
    from collections_app.models import Message
    from config.celery import app

    old_config = setup_databases(verbosity=0, interactive=False)
    rates = []
    workers: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            gateway = Path(tmp) / "gateway.jsonl"
            database = settings.DATABASES["default"]
            env = {
                **os.environ,
                "DATABASE_URL": (
                    f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
                    f"{database['PORT'] or 5432}/{connection.settings_dict['NAME']}"
                ),
                "MESSAGE_GATEWAY": f"file:{gateway}",
                "PYTHONPATH": str(ROOT),
                "LOG_LEVEL": "WARNING",
            }
            env.pop("TEST_DB_NAME", None)
            app.control.purge()
            workers = start_workers(env, Path(tmp) / "workers.log")
            time.sleep(5)  # let both workers connect to the broker before the clock starts
            for run in range(RUNS):
                populate(run)
                started = time.perf_counter()
                # A few kicks, as on-commit kicks would arrive: the workers share the outbox through SKIP LOCKED.
                for _ in range(WORKERS * 2):
                    app.send_task("collections_app.relay_messages")
                deadline = time.monotonic() + 600
                while Message.objects.filter(status__in=["queued", "sending"]).exists():
                    if time.monotonic() > deadline:
                        raise SystemExit("the relay did not finish within 600 s")
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
                rates.append(MESSAGES / seconds)
                print(f"run {run + 1}: {MESSAGES} messages in {seconds:.1f} s = {rates[-1]:.0f}/s", flush=True)
            keys = [json.loads(line)["idempotency_key"] for line in gateway.read_text().splitlines()]
            assert len(keys) == len(set(keys)) == MESSAGES * RUNS, "a message reached the gateway twice or not at all"
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        teardown_databases(old_config, verbosity=0)
    median = statistics.median(rates)
    print(
        f"relay to the file gateway with {WORKERS} workers: median {median:.0f} messages/s "
        f"(spread {max(rates) - min(rates):.0f}, {RUNS} runs of {MESSAGES:,})"
    )
    print(f"goal: >= {GOAL_PER_SECOND:.0f}/s; figure/goal = {median / GOAL_PER_SECOND:.2f} (>= 1 meets it)")


if __name__ == "__main__":
    main()
