"""The SQLite default that `make run` uses: the ladder queues messages and the relay hands them over."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The ladder and the relay (run eagerly on commit, as `make run` does) at 10:00 on the ladder's day: a reminder
# is stale once its day is over in the recipient's zone, so the real day and hour of the run play no part.
PINNED = """
import datetime, zoneinfo, time_machine
moment = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
time_machine.travel(moment, tick=False).start()
"""
ESCALATE = (
    PINNED
    + """
from django.core.management import call_command
call_command("run_escalation", "--date", "2026-12-01")
"""
)
SCRIPT = (
    PINNED
    + """
from collections_app.messaging.relay import relay_sweep
from collections_app.models import Message
from django.db.models import Count
relay_sweep(batch_size=500)
print(json.dumps(dict(Message.objects.values_list("status").annotate(n=Count("id")).order_by())))
"""
)


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py on a throwaway SQLite database, as `make run` would (no DATABASE_URL)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "TEST_DB_NAME", "REDIS_URL"}}
    env.update(
        DEBUG="1",
        SECRET_KEY="sqlite-demo-test",
        SQLITE_PATH=str(tmp_path / "demo.sqlite3"),
        CELERY_TASK_ALWAYS_EAGER="1",
        MESSAGE_GATEWAY=f"file:{tmp_path / 'gateway.jsonl'}",
    )
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_escalation_and_relay_work_on_the_sqlite_default(tmp_path: Path) -> None:
    for command in (["migrate", "-v", "0"], ["seed_demo"]):
        result = manage(tmp_path, *command)
        assert result.returncode == 0, result.stderr[-2000:]
    first = manage(tmp_path, "shell", "-c", ESCALATE)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "messages queued" in first.stdout + first.stderr
    again = manage(tmp_path, "shell", "-c", ESCALATE)
    assert "0 messages queued" in again.stdout + again.stderr
    relay = manage(tmp_path, "shell", "-c", "import json\n" + SCRIPT)
    assert relay.returncode == 0, relay.stderr[-2000:]
    statuses = json.loads(relay.stdout.strip().splitlines()[-1])
    sent = (
        [json.loads(line) for line in (tmp_path / "gateway.jsonl").read_text().splitlines()]
        if (tmp_path / "gateway.jsonl").exists()
        else []
    )
    # Every message is handed over once, waits for its allowed hours, or is suppressed by the contact gate.
    assert len({line["idempotency_key"] for line in sent}) == len(sent)
    assert len(sent) == statuses.get("sent", 0)
    assert statuses.get("sent", 0) + statuses.get("waiting", 0) > 0, statuses
    assert set(statuses) <= {"sent", "waiting", "suppressed"}, statuses


def test_the_audit_chain_seals_verifies_and_finds_tampering_on_the_sqlite_default(tmp_path: Path) -> None:
    import sqlite3

    from tests.audit.conftest import new_key_pair

    seed, public = new_key_pair()
    keys = {"AUDIT_SIGNING_KEY": seed, "AUDIT_PUBLIC_KEY": public, "AUDIT_CHECKPOINT_DIR": str(tmp_path / "cp")}
    os.environ.update(keys)
    try:
        for command in (["migrate", "-v", "0"], ["seed_demo"], ["audit_checkpoint"], ["verify_audit"]):
            result = manage(tmp_path, *command)
            assert result.returncode == 0, (command, result.stdout, result.stderr[-2000:])
        assert result.stdout.startswith("ok events=")
        database = sqlite3.connect(tmp_path / "demo.sqlite3")
        with database:
            # An attacker with the file drops the trigger and edits a sealed event.
            database.execute("DROP TRIGGER audit_auditevent_seal_only")
            database.execute("UPDATE audit_auditevent SET action = 'list' WHERE seq = 2")
        database.close()
        tampered = manage(tmp_path, "verify_audit")
        assert tampered.returncode == 1
        assert tampered.stdout.splitlines()[0] == "first_bad_seq=2"
    finally:
        for name in keys:
            os.environ.pop(name)
