"""Audit log benchmarks: (1) the account page with auditing on vs off, (2) verify_audit over 1,000,000 events,
(3) events written per second by 8 concurrent writer processes, then sealed per second.

Run from the repository root: `python bench/bench_audit.py` with `DATABASE_URL` set (PostgreSQL). It builds its
own throwaway database (`bench_audit`, or `TEST_DB_NAME`). Sizes come from the environment so a quick run is
possible: BENCH_AUDIT_RUNS (alternating runs per figure, default 5), BENCH_AUDIT_VERIFY_EVENTS (1,000,000),
BENCH_AUDIT_WRITE_EVENTS (8,000 per run), BENCH_AUDIT_PAGE_SECONDS (seconds of load per page run, 5),
BENCH_AUDIT_ONLY (comma list of 1,2,3). Each figure is the median of the runs, with its spread (min-max).

Benchmark 1 serves /cases/<id>/ with gunicorn (2 workers, as PERFORMANCE.md measured) twice: as configured,
and with the audit insert replaced by a no-op (`audit_off_application`, the only seam: audit.record._insert),
under 4 keep-alive client connections, alternating the two servers.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GOAL_PAGE_RATIO = 0.90
GOAL_VERIFY_PER_S = 200_000
GOAL_WRITE_PER_S = 2_000
GOAL_SEAL_PER_S = 50_000
WRITERS = 8
PAGE_CONNECTIONS = 4


def audit_off_application():  # noqa: ANN201 - gunicorn app factory
    """The WSGI app with every audit insert replaced by building the event in memory (benchmark 1's baseline)."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    import audit.record
    from audit.models import AuditEvent

    audit.record._insert = lambda **values: AuditEvent(**values)
    return application


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):,.0f}, spread {min(values):,.0f}-{max(values):,.0f}, n={len(values)}"


def _report(label: str, values: list[float], goal: float, unit: str) -> None:
    median = statistics.median(values)
    print(f"{label}: {median:,.0f} {unit} ({_spread(values)}); goal >= {goal:,.0f} {unit}; ratio {median / goal:.2f}")


def _keys() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    key = Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = base64.b64encode(key.private_bytes_raw()).decode()
    settings.AUDIT_PUBLIC_KEY = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    settings.AUDIT_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="bench-audit-checkpoints-")


def _clear_audit_tables() -> None:
    """Between runs: the bench database is throwaway and we connect as a superuser, so the triggers can be skipped."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "TRUNCATE audit_auditevent, audit_chainentry, audit_chainhead, audit_verificationrun RESTART IDENTITY"
        )
        cursor.execute("SET session_replication_role = origin")
    shutil.rmtree(__import__("django.conf").conf.settings.AUDIT_CHECKPOINT_DIR, ignore_errors=True)


# --- 2. verify -----------------------------------------------------------------------------------


def _fill_unsealed(n: int) -> None:
    """n realistic unsealed events, inserted by the database in one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, role, action, object_type, object_id,"
            " persons, fields, purpose, outcome, request_id, ip, detail)"
            " SELECT now() - (%s - g) * interval '1 ms', 1 + g %% 500, 'officer' || (g %% 500), 'case_officer',"
            " (ARRAY['view','list','reveal','update'])[1 + g %% 4], 'loanaccount', (g %% 100000)::text,"
            " jsonb_build_array('borrower:' || (g %% 100000), 'contact:' || (g %% 300000)),"
            ' \'["borrower.name", "borrower.phone", "contact.name"]\'::jsonb,'
            " CASE WHEN g %% 4 = 2 THEN 'call_borrower' ELSE '' END, 'ok', md5(g::text), '10.1.2.3',"
            " jsonb_build_object('page', g %% 7, 'rows', 50)"
            " FROM generate_series(1, %s) AS g",
            [n, n],
        )


def bench_verify(runs: int) -> None:
    from audit.chain.seal import seal
    from audit.chain.verify import verify

    n = _env_int("BENCH_AUDIT_VERIFY_EVENTS", 1_000_000)
    _clear_audit_tables()
    _fill_unsealed(n)
    started = time.perf_counter()
    result = seal()
    seal_seconds = time.perf_counter() - started
    print(f"(setup: sealed {result.sealed:,} events in {seal_seconds:.1f} s = {result.sealed / seal_seconds:,.0f}/s)")
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        outcome = verify()
        elapsed = time.perf_counter() - started
        assert outcome.ok, outcome.reasons
        # An intact log sealed in this cluster: every row vouched for by its checkpoint, none rebuilt.
        assert outcome.rebuilt == 0, f"verify rebuilt {outcome.rebuilt:,} rows of an intact log"
        rates.append(outcome.events / elapsed)
    _report(f"2. verify_audit over {result.tree_size:,} events", rates, GOAL_VERIFY_PER_S, "events/s")


# --- 3. concurrent writers, then sealing -----------------------------------------------------------


def _write_events(n: int, each: int) -> None:
    """One writer process: `each` view events through audit_record, as one web worker would write them."""
    from audit.record import audit_record

    for i in range(each):
        audit_record(
            action="view",
            object_type="loanaccount",
            object_id=n * 1_000_000 + i,
            persons=[f"borrower:{i}"],
            fields=["borrower.name", "borrower.phone"],
        )


def bench_write_and_seal(runs: int) -> None:
    """8 writer processes, like the web workers that write events in production, then one seal of what they wrote."""
    from audit.chain.seal import seal
    from bench.support import concurrent_writes_per_second

    per_run = _env_int("BENCH_AUDIT_WRITE_EVENTS", 8_000)
    each = per_run // WRITERS
    write_rates, seal_rates = [], []
    for _ in range(runs):
        _clear_audit_tables()
        write_rates.append(concurrent_writes_per_second(_write_events, writers=WRITERS, each=each))
        started = time.perf_counter()
        result = seal()
        seal_rates.append(result.sealed / (time.perf_counter() - started))
    _report(f"3a. events written by {WRITERS} concurrent writer processes", write_rates, GOAL_WRITE_PER_S, "events/s")
    _report(f"3b. events sealed (batches of {per_run:,})", seal_rates, GOAL_SEAL_PER_S, "events/s")


# --- 1. the account page, audit on vs off --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _serve(app: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback: production's HTTPS redirect would answer every request with 301.
        "SECURE_SSL_REDIRECT": "0",
    }
    env.pop("TEST_DB_NAME", None)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--pythonpath",
        f"{ROOT},{ROOT / 'bench'}",
        "--log-level",
        "warning",
        app,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn ({app}) did not start")


def _load(port: int, path: str, cookie: str, seconds: float) -> float:
    """Requests per second over `seconds` with PAGE_CONNECTIONS keep-alive connections; every answer must be 200."""
    counts = [0] * PAGE_CONNECTIONS
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(str(response.status))
                return
            counts[slot] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(PAGE_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{path} answered {failures[0]}")
    return sum(counts) / (time.monotonic() - started)


def bench_page(runs: int) -> None:
    from django.core.management import call_command
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from tests.factories import make_account, make_contact, make_user

    try:
        reverse("collections:account_detail", args=[1])
    except NoReverseMatch:
        print("1. account page: skipped, /cases/<id>/ does not exist yet")
        return
    officer = make_user("bench-audit-officer", "case_officer")
    account = make_account(officer, dpd=40)
    for _ in range(3):
        make_contact(account.borrower)
    client = Client()
    client.force_login(officer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    path = f"/cases/{account.pk}/"
    seconds = float(os.environ.get("BENCH_AUDIT_PAGE_SECONDS", 5))
    # As deployed: the page names hashed static files, which Whitenoise serves from STATIC_ROOT.
    call_command("collectstatic", interactive=False, verbosity=0)
    servers = {
        "on": _serve("config.wsgi:application", _free_port()),
        "off": _serve("bench_audit:audit_off_application()", _free_port()),
    }
    ports = {
        name: int(process.args[process.args.index("--bind") + 1].rsplit(":", 1)[1]) for name, process in servers.items()
    }
    try:
        for name in servers:  # warm both up: imports, connections, template caches
            _load(ports[name], path, cookie, 1.0)
        results: dict[str, list[float]] = {"on": [], "off": []}
        for run in range(runs):
            order = ("on", "off") if run % 2 == 0 else ("off", "on")
            for name in order:
                results[name].append(_load(ports[name], path, cookie, seconds))
    finally:
        for process in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    ratios = [on / off for on, off in zip(results["on"], results["off"], strict=True)]
    on, off = statistics.median(results["on"]), statistics.median(results["off"])
    print(
        f"1. account page {path}: audit on {on:,.0f} req/s ({_spread(results['on'])}),"
        f" audit off {off:,.0f} req/s ({_spread(results['off'])})"
    )
    print(
        f"1. account page throughput ratio on/off: {statistics.median(ratios):.2f}"
        f" (spread {min(ratios):.2f}-{max(ratios):.2f}); goal >= {GOAL_PAGE_RATIO:.2f};"
        f" ratio to goal {statistics.median(ratios) / GOAL_PAGE_RATIO:.2f}"
    )


def main() -> int:
    """Build the throwaway database, run the selected benchmarks, print each figure, its goal and the ratio."""
    os.environ.setdefault("TEST_DB_NAME", "bench_audit")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        print("bench_audit needs PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    runs = _env_int("BENCH_AUDIT_RUNS", 5)
    only = set(filter(None, os.environ.get("BENCH_AUDIT_ONLY", "1,2,3").split(",")))
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        _keys()
        if "1" in only:
            bench_page(runs)
        if "2" in only:
            bench_verify(runs)
        if "3" in only:
            bench_write_and_seal(runs)
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
