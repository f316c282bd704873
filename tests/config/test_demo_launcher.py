"""The `make run` launcher's pieces: the generated demo env file, the Redis probe, and what it starts."""

import base64
import os
import signal
import socket
import stat
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from config import demo_launcher as demo


def test_env_file_is_generated_with_demo_flags_and_a_matching_ed25519_key_pair(tmp_path: Path) -> None:
    path = tmp_path / ".env.demo"

    assert demo.ensure_env_file(path) is True

    values = demo.read_env_file(path)
    assert values["DEBUG"] == "1"
    assert values["DEMO_SKIP_MFA"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert len(values["GATEWAY_WEBHOOK_SECRET"]) >= 32
    seed = base64.b64decode(values["AUDIT_SIGNING_KEY"], validate=True)
    public = base64.b64decode(values["AUDIT_PUBLIC_KEY"], validate=True)
    assert len(seed) == 32 and len(public) == 32
    derived = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert derived == public
    # Secrets: readable by the owner only.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_env_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / ".env.demo"
    path.write_text("SECRET_KEY=mine\n", encoding="utf-8")

    assert demo.ensure_env_file(path) is False
    assert path.read_text(encoding="utf-8") == "SECRET_KEY=mine\n"


def test_each_generated_env_file_has_its_own_secrets(tmp_path: Path) -> None:
    first, second = demo.generate_demo_env(), demo.generate_demo_env()

    for name in ("SECRET_KEY", "AUDIT_SIGNING_KEY", "GATEWAY_WEBHOOK_SECRET"):
        assert first[name] != second[name]


def test_real_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    path = tmp_path / ".env.demo"
    path.write_text("# comment\n\nDEBUG=1\nSECRET_KEY='from-file'\nAUDIT_PUBLIC_KEY=abc=\n", encoding="utf-8")

    env = demo.demo_environment({"SECRET_KEY": "from-env", "PATH": "/bin"}, demo.read_env_file(path))

    assert env["SECRET_KEY"] == "from-env"
    assert env["DEBUG"] == "1"
    assert env["AUDIT_PUBLIC_KEY"] == "abc="
    assert env["PATH"] == "/bin"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings"


def test_redis_probe_answers_true_for_the_running_redis() -> None:
    assert demo.redis_available(settings.REDIS_URL) is True


def test_redis_probe_answers_false_when_nothing_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port was free a moment ago and nothing listens on it now.
    assert demo.redis_available(f"redis://127.0.0.1:{port}/0", timeout=0.5) is False


def test_redis_probe_answers_false_for_a_malformed_url() -> None:
    assert demo.redis_available("not-a-url") is False


def test_with_redis_the_web_server_runs_beside_a_celery_worker_with_beat() -> None:
    commands = dict(demo.worker_commands(python=sys.executable, port=8123, use_redis=True))

    assert commands["web"][-2:] == ["127.0.0.1:8123", "--noreload"]
    assert commands["celery"][1:6] == ["-m", "celery", "-A", "config", "worker"]
    assert "--beat" in commands["celery"]
    assert "scheduler" not in commands


def test_without_redis_the_in_process_scheduler_runs_instead() -> None:
    commands = dict(demo.worker_commands(python=sys.executable, port=8000, use_redis=False))

    assert commands["scheduler"] == [sys.executable, "-m", "config.scheduler"]
    assert "celery" not in commands


def test_launcher_env_file_is_ignored_by_git() -> None:
    ignored = (Path(settings.BASE_DIR) / ".gitignore").read_text(encoding="utf-8").split()

    assert ".env.demo" in ignored
    assert os.path.basename(demo.ENV_FILE) == ".env.demo"


def _gone(pid: int, within: float = 5.0) -> bool:
    """Whether process `pid` has ended (reaped by its parent or by init) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _wait_for_file(path: Path, within: float = 10.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written")


def test_stopping_ends_every_child_and_its_own_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    spawner = (
        "import pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    supervisor = demo.Supervisor(dict(os.environ))
    supervisor.start("spawner", [sys.executable, "-c", spawner])
    grandchild = int(_wait_for_file(pid_file))
    ((_name, child),) = supervisor.children

    supervisor.stop()

    assert child.poll() is not None
    assert _gone(grandchild)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(demo, "STOP_GRACE_SECONDS", 0.5)
    ready = tmp_path / "ready"
    stubborn = (
        "import pathlib, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"pathlib.Path({str(ready)!r}).write_text('1')\n"
        "time.sleep(120)\n"
    )
    supervisor = demo.Supervisor(dict(os.environ))
    supervisor.start("stubborn", [sys.executable, "-c", stubborn])
    _wait_for_file(ready)

    supervisor.stop()

    ((_name, child),) = supervisor.children
    assert child.returncode == -signal.SIGKILL


def test_the_supervisor_reports_a_child_that_stopped() -> None:
    supervisor = demo.Supervisor(dict(os.environ))
    supervisor.start("quick", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor.start("slow", [sys.executable, "-c", "import time; time.sleep(120)"])
    supervisor.children[0][1].wait(timeout=30)

    assert supervisor.first_exited() == ("quick", 3)
    supervisor.stop()
    assert supervisor.children[1][1].poll() is not None
