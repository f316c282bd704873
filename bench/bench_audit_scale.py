"""The audit log at scale: a log of BENCH_AUDIT_SCALE_SMALL events over 24 months, grown once to
BENCH_AUDIT_SCALE_EVENTS, with the figures of issue 18 at both sizes and each figure's ratio to its goal.

Run from the repository root: `python bench/bench_audit_scale.py` with DATABASE_URL (PostgreSQL). Sizes default
to the issue's (5,000,000 then 20,000,000 events: about an hour and tens of GB on the 2-core machines); set
BENCH_AUDIT_SCALE_SMALL and BENCH_AUDIT_SCALE_EVENTS for a quick run, BENCH_AUDIT_SCALE_NEW (1,000,000) for the
events the incremental verify checks, BENCH_AUDIT_SCALE_WRITES (8,000) for the writers' figure. The database is
throwaway (`bench_audit_scale`, or TEST_DB_NAME). Figures: per-partition heap and index bytes (extrapolated
linearly to 1,000,000,000 events),
the access report and filtered log p95, 8 concurrent writers against an empty log, incremental and full
verify, sealing. The account page with auditing on and off is bench_audit's figure 1.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from support import concurrent_writes_per_second, env_int, p95  # noqa: E402

GOAL_PAGE_P95_MS = 200
GOAL_PAGE_GROWTH = 1.2
GOAL_WRITERS_RATIO = 0.9
GOAL_INCREMENTAL_S = 5.0
GOAL_VERIFY_PER_S = 300_000
GOAL_SEAL_PER_S = 50_000
MONTHS = 24
# Runs of the 8 writers whose median is a writers' figure.
WRITER_RUNS = 5
# Requests before a page is timed: the first reads its months from disk and compiles its templates.
WARM_UP_REQUESTS = 5
BILLION = 1_000_000_000


def report(label: str, value: float, goal: float, unit: str, *, at_most: bool = False) -> None:
    """One figure, its goal and its ratio to the goal (above 1 meets it)."""
    ratio = goal / value if at_most else value / goal
    print(f"{label}: {value:,.2f} {unit}; goal {'<=' if at_most else '>='} {goal:,} {unit}; ratio {ratio:.2f}")


def _keys() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: the kept template's checkpoints verify
    settings.AUDIT_SIGNING_KEY = base64.b64encode(key.private_bytes_raw()).decode()
    settings.AUDIT_PUBLIC_KEY = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    settings.AUDIT_CHECKPOINT_DIR = os.environ["BENCH_AUDIT_SCALE_CHECKPOINTS"]


def _fill(first: int, count: int) -> None:
    """`count` realistic events spread over the last MONTHS months, ids after `first`, sealed."""
    from django.db import connection

    from audit.chain.seal import seal
    from audit.partitions import add_months, lender_month, partitions_make

    partitions_make(first=add_months(lender_month(), -MONTHS), last=lender_month(), using="default")
    chunk = 500_000
    for start in range(first, first + count, chunk):
        size = min(chunk, first + count - start)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, role, action, object_type,"
                " object_id, persons, fields, purpose, outcome, request_id, ip, detail)"
                " SELECT now() - interval '1 day' * %s * (1 - (g - %s)::float8 / %s),"
                " 1 + g %% 500, 'officer' || (g %% 500), 'case_officer',"
                " (ARRAY['view','list','reveal','update'])[1 + g %% 4], 'loanaccount', (g %% 1000000)::text,"
                " jsonb_build_array('borrower:' || (g %% 1000000), 'contact:' || (g %% 3000000)),"
                " '[\"borrower.name\", \"borrower.phone\"]'::jsonb, '', 'ok', md5(g::text), '10.1.2.3',"
                " jsonb_build_object('page', g %% 7) FROM generate_series(%s, %s) AS g",
                [MONTHS * 30, first, count, start, start + size - 1],
            )
        seal()
        print(f"  {start + size - first:,} of {count:,} events written and sealed", flush=True)
    settle()


def settle() -> None:
    """Bring the log to the state autovacuum and the checkpointer keep a live one in (this machine's PostgreSQL
    may run without autovacuum): vacuumed and analysed, the fill's dirty pages written, so that a page figure timed
    after a fill does not time the checkpoint flushing it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
        cursor.execute("VACUUM (ANALYZE) audit_chainentry")
        cursor.execute(
            "SELECT rolsuper OR pg_has_role('pg_checkpoint', 'member') FROM pg_roles WHERE rolname = current_user"
        )
        if cursor.fetchone()[0]:
            cursor.execute("CHECKPOINT")


def _sizes() -> list[tuple[str, int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relid::regclass::text, pg_relation_size(relid), pg_indexes_size(relid)"
            " FROM pg_partition_tree('audit_auditevent') WHERE isleaf UNION ALL"
            " SELECT relid::regclass::text, pg_relation_size(relid), pg_indexes_size(relid)"
            " FROM pg_partition_tree('audit_chainentry') WHERE isleaf ORDER BY 1"
        )
        return cursor.fetchall()


def report_sizes(events: int) -> None:
    """Heap and index bytes of each partition, and the whole extrapolated to a billion events."""
    rows = _sizes()
    heap, index = sum(row[1] for row in rows), sum(row[2] for row in rows)
    for name, table, indexes in rows:
        if table or indexes:
            print(f"  {name}: heap {table / 2**20:,.1f} MiB, indexes {indexes / 2**20:,.1f} MiB")
    scale = BILLION / max(events, 1)
    print(
        f"size at {events:,} events: heap {heap / 2**30:,.2f} GiB, indexes {index / 2**30:,.2f} GiB;"
        f" linearly at 1,000,000,000: heap {heap * scale / 2**40:,.2f} TiB, indexes {index * scale / 2**40:,.2f} TiB"
    )


def pages_p95(runs: int) -> dict[str, float]:
    """p95 (ms) of the access report and the filtered log, as an auditor."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import override_settings

    from access.roles import COMPLIANCE_AUDITOR
    from tests.factories import make_user
    from tests.security.fixtures import otp_verify_session

    auditor = User.objects.filter(username="bench-auditor").first() or make_user("bench-auditor", COMPLIANCE_AUDITOR)
    client = Client()
    client.force_login(auditor)
    otp_verify_session(client, auditor)
    figures = {}
    hosts = override_settings(SECURE_SSL_REDIRECT=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"])
    hosts.enable()
    for label, url in (
        ("access report", "/audit/person/borrower/4242/"),
        # An officer's reveals: a full page of the log's own events at every size (the fill gives officer 42 no
        # `view`, so that filter found nothing at 5,000,000 and a page of the seal figure's events later).
        ("filtered log", "/audit/?actor=officer42&action=reveal"),
    ):
        for _ in range(WARM_UP_REQUESTS):
            client.get(url)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        figures[label] = p95(times)
    hosts.disable()
    return figures


def _writer(n: int, each: int) -> None:
    from audit.record import audit_record

    for i in range(each):
        audit_record(action="view", object_type="loanaccount", object_id=n * 1_000_000 + i, persons=[f"borrower:{i}"])


def writers_rate(total: int, runs: int = WRITER_RUNS) -> float:
    """Events per second written by 8 concurrent writer processes: the median of `runs` runs of `total` events.

    Each event is a transaction of its own, so the rate follows how fast the disk flushes the WAL, which varies
    from second to second: one run of 8,000 events measured from 4,400 to 7,100 events/s on the same empty log.
    """
    return statistics.median([concurrent_writes_per_second(_writer, writers=8, each=total // 8) for _ in range(runs)])


def _use_database(name: str) -> None:
    """Point the default connection (and the writer processes forked from here) at database `name`."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def _empty_log_database(kept: str) -> str:
    """A database beside the kept one with the same schema and no events (made once, emptied each run)."""
    from django.core.management import call_command
    from django.db import connection

    name = f"{kept}_empty"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone()[0]:
            cursor.execute(f'CREATE DATABASE "{name}"')
    _use_database(name)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:  # a throwaway database, and a superuser: the triggers may be skipped
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("TRUNCATE audit_auditevent, audit_chainentry, audit_chainhead RESTART IDENTITY")
        cursor.execute("SET session_replication_role = origin")
    _use_database(kept)
    return name


def writers_against_empty(total: int, rounds: int = 3) -> tuple[float, float]:
    """(events/s on an empty log, on the kept log) by 8 writers, the two timed alternately `rounds` times: the
    disk's pace drifts over minutes (the same figure measured 0.82 x to 1.12 x against one taken at the build)."""
    from django.db import connection

    kept = connection.settings_dict["NAME"]
    empty = _empty_log_database(kept)
    rates: dict[str, list[float]] = {empty: [], kept: []}
    try:
        for _ in range(rounds):
            for name in (empty, kept):
                _use_database(name)
                rates[name].append(writers_rate(total))
    finally:
        _use_database(kept)
    return statistics.median(rates[empty]), statistics.median(rates[kept])


def _timed(function: object) -> tuple[object, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def verify_figures(new_events: int) -> None:
    """A full verify, then the incremental one over `new_events` sealed since, and the seal of those."""
    from audit.chain.seal import seal
    from audit.services import audit_chain_verify

    result, seconds = _timed(lambda: audit_chain_verify())
    assert result.ok, result.reasons
    rate = result.events / seconds
    report(f"full verify over {result.events:,} events", rate, GOAL_VERIFY_PER_S, "events/s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (actor_username, role, action, object_type, object_id, persons, fields,"
            " purpose, outcome, request_id, detail) SELECT 'officer' || (g %% 500), 'case_officer', 'view',"
            " 'loanaccount', g::text, jsonb_build_array('borrower:' || g), '[]', '', 'ok', md5(g::text), '{}'"
            " FROM generate_series(1, %s) AS g",
            [new_events],
        )
    sealed, seal_seconds = _timed(seal)
    rate = sealed.sealed / seal_seconds
    report(f"sealing {sealed.sealed:,} events", rate, GOAL_SEAL_PER_S, "events/s")
    incremental, seconds = _timed(lambda: audit_chain_verify(incremental=True))
    assert incremental.ok and incremental.kind == "incremental", incremental.reasons
    print(
        f"incremental verify over {incremental.events:,} new events: {seconds:.2f} s; goal <= {GOAL_INCREMENTAL_S} s"
        f" (scaled to 1,000,000: {seconds * 1_000_000 / max(incremental.events, 1):.2f} s); ratio"
        f" {GOAL_INCREMENTAL_S / max(seconds * 1_000_000 / max(incremental.events, 1), 1e-9):.2f}"
    )


KEPT_FIGURES = "bench-audit-scale-figures.json"


def _kept_events() -> int:
    """Events in the kept database (0 when it was never built): a run that finds the log grown reuses it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_chainentry")
        return cursor.fetchone()[0]


def _figures_file() -> Path:
    from django.conf import settings

    return Path(settings.AUDIT_CHECKPOINT_DIR) / KEPT_FIGURES


def main() -> int:
    """Build the log (or reuse the kept one), grow it, print every figure with its goal and ratio.

    The database grown to the large size is kept (`bench_audit_scale`, with its checkpoints in
    BENCH_AUDIT_SCALE_CHECKPOINTS) as the template later runs measure on instead of building again; the small
    size's page figures are kept beside the checkpoints for the growth ratio. BENCH_AUDIT_SCALE_REBUILD=1 builds
    afresh.
    """
    os.environ.setdefault("TEST_DB_NAME", "bench_audit_scale")
    os.environ.setdefault("BENCH_AUDIT_SCALE_CHECKPOINTS", str(ROOT / ".bench-kept" / "audit-scale-checkpoints"))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases

    if connection.vendor != "postgresql":
        print("bench_audit_scale needs PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    small, large = env_int("BENCH_AUDIT_SCALE_SMALL", 5_000_000), env_int("BENCH_AUDIT_SCALE_EVENTS", 20_000_000)
    writes, new_events = env_int("BENCH_AUDIT_SCALE_WRITES", 8_000), env_int("BENCH_AUDIT_SCALE_NEW", 1_000_000)
    # Requests per page figure. The interpolated p95 of 30 took almost half of the largest: one collection of the
    # interpreter's oldest generation (about 70 ms, in one request of some 40) could double it. 100 keep it a p95.
    runs = env_int("BENCH_AUDIT_SCALE_RUNS", 100)
    rebuild = os.environ.get("BENCH_AUDIT_SCALE_REBUILD") == "1"
    # Not serialized: that would read the whole kept log into memory for test rollbacks no benchmark makes.
    setup_databases(verbosity=0, interactive=False, keepdb=not rebuild, serialized_aliases=set())
    try:
        _keys()
        checkpoints = Path(os.environ["BENCH_AUDIT_SCALE_CHECKPOINTS"])
        kept = _kept_events()
        if not kept:  # a fresh database: checkpoints of an earlier one would not verify against it
            shutil.rmtree(checkpoints, ignore_errors=True)
        checkpoints.mkdir(parents=True, exist_ok=True)
        if kept >= large:
            saved = json.loads(_figures_file().read_text())
            empty_rate, small_pages = saved["empty_rate"], saved["small_pages"]
            small = saved["small"]
            print(f"reusing the kept log of {kept:,} events (built in {saved['build_s']:,.0f} s)")
            print(f"8 writers, empty log (measured when built): {empty_rate:,.0f} events/s")
        else:
            if kept:
                print("the kept log is smaller than asked for: run again with BENCH_AUDIT_SCALE_REBUILD=1")
                return 2
            empty_rate = writers_rate(writes)
            print(f"8 writers, empty log: {empty_rate:,.0f} events/s")
            _, build = _timed(lambda: _fill(_kept_events() + 1, small - _kept_events()))
            print(f"built {small:,} events over {MONTHS} months in {build:,.0f} s")
            report_sizes(small)
            small_pages = pages_p95(runs)
            _, grow = _timed(lambda: _fill(small + 1, large - small))
            print(
                f"grew to {large:,} events in {grow:,.0f} s (build and growth {build + grow:,.0f} s; goal <= 3,600 s)"
            )
            _figures_file().write_text(
                json.dumps(
                    {"empty_rate": empty_rate, "small_pages": small_pages, "small": small, "build_s": build + grow}
                )
            )
            for label, value in small_pages.items():
                print(f"{label} p95 at {small:,}: {value:.0f} ms")
        report_sizes(_kept_events())
        settle()  # the events the last run's seal figure added
        for label, value in pages_p95(runs).items():
            growth = value / small_pages[label]
            print(
                f"{label} p95 at {large:,}: {value:.0f} ms (at {small:,}: {small_pages[label]:.0f} ms, x{growth:.2f});"
                f" goal <= {GOAL_PAGE_P95_MS} ms and x{GOAL_PAGE_GROWTH}; ratios {GOAL_PAGE_P95_MS / value:.2f},"
                f" {GOAL_PAGE_GROWTH / growth:.2f}"
            )
        empty, rate = writers_against_empty(writes)
        print(f"8 writers, an empty log timed alternately with the kept one: {empty:,.0f} events/s")
        ratio = rate / empty
        report(f"8 writers at {large:,} ({rate:,.0f} events/s) against an empty log", ratio, GOAL_WRITERS_RATIO, "x")
        verify_figures(new_events)
    finally:
        connection.close()
    print(
        f"kept: database {connection.settings_dict['NAME']}, checkpoints {os.environ['BENCH_AUDIT_SCALE_CHECKPOINTS']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
