"""What the page benchmarks share: percentiles, a throwaway test database and a large loan book built by SQL."""

from __future__ import annotations

import datetime
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings, setup_databases, teardown_databases

# Rows per INSERT ... SELECT: one statement per chunk keeps each transaction's deferred checks small
# and prints progress on a long build.
CHUNK = 100_000
PORTFOLIO_CODES = ("bench-north", "bench-south", "bench-east", "bench-west")


def env_int(name: str, default: int) -> int:
    """An integer size from the environment (for a quick run), else the default."""
    return int(os.environ.get(name, default))


def concurrent_writes_per_second(write: Callable[[int, int], None], *, writers: int, each: int) -> float:
    """Events per second written by `writers` forked processes, each calling `write(n, each)` (n: its number) from
    one start. Processes, as web workers are: threads would measure the interpreter lock, not the writes."""
    import multiprocessing

    from django.db import connections

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)

    def run(n: int) -> None:
        barrier.wait()
        write(n, each)
        connections.close_all()

    connections.close_all()  # each forked writer opens its own connection
    processes = [context.Process(target=run, args=(n,)) for n in range(writers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer process failed with exit code {process.exitcode}")
    return writers * each / (time.perf_counter() - started)


def p95(values: list[float]) -> float:
    """The 95th percentile (the single value when there is only one)."""
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def in_test_database(run: Callable[[], int]) -> int:
    """Run `run` against a fresh test database over plain HTTP, with one connection so every query is captured."""
    # As in Django's own test runs: keep one connection for the whole run.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(SECURE_SSL_REDIRECT=False, DEBUG=False, ALLOWED_HOSTS=hosts):
            return run()
    finally:
        teardown_databases(old_config, verbosity=0)


@dataclass(frozen=True)
class Measured:
    """One page's figures: its query count and SQL time in one request, wall and CPU time of each timed request."""

    queries: int
    sql_ms: float
    times: list[float]
    cpu_times: list[float]


def measure(client: Client, url: str, runs: int) -> Measured:
    """Queries of one request and server times (ms) of `runs` requests to `url`.

    CPU time is this process's alone (Python: middleware, views, rendering; not PostgreSQL's): on a busy
    machine wall time also counts waiting for a core, CPU time much less so.
    """
    client.get(url)  # warm: the session's first request writes a few rows once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Counted now: every request start resets the connection's query log.
    count = len(queries)
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    assert response.status_code == 200, (url, response.status_code)
    times, cpu_times = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200
    return Measured(count, sql_ms, times, cpu_times)


def figure_line(name: str, measured: Measured, small_queries: int, small_size: str, goal: float) -> str:
    """One page's figure: query count beside the small book's, median and p95 with their ratios to the goal."""
    times = measured.times
    median, high = statistics.median(times), p95(times)
    same = "same" if measured.queries == small_queries else "DIFFERS"
    return (
        f"{name}: queries={measured.queries} (at {small_size}: {small_queries}, {same}) "
        f"median_ms={median:.1f} p95_ms={high:.1f} min_ms={min(times):.1f} max_ms={max(times):.1f} "
        f"goal_ms={goal:.0f} median_ratio_to_goal={median / goal:.2f} p95_ratio_to_goal={high / goal:.2f} "
        f"python_cpu_median_ms={statistics.median(measured.cpu_times):.1f} sql_ms_one_request={measured.sql_ms:.1f}"
    )


@dataclass(frozen=True)
class Book:
    """A loan book of `len(officer_ids) * per_officer` accounts; account `g` (0-based) has fixed ids and facts.

    Borrower `g` has id `borrower_base + g + 1`, account `g` id `account_base + g + 1`, and belongs to officer
    `g // per_officer`, portfolio `g % 4`, DPD `g % 230 - 5`: every officer's caseload spreads over every
    bucket and portfolio. Parts of the book can be filled in any order (`book_fill`), so a benchmark can
    measure a small book first and grow it to the full one.
    """

    officer_ids: tuple[int, ...]
    per_officer: int
    borrower_base: int
    account_base: int
    portfolio_ids: tuple[int, ...]
    permission_id: int
    policy_version_id: int
    today: datetime.date
    now: datetime.datetime

    @property
    def size(self) -> int:
        """How many accounts the full book has."""
        return len(self.officer_ids) * self.per_officer

    def account_id(self, g: int) -> int:
        """The id of account `g`."""
        return self.account_base + g + 1

    def officer_id(self, g: int) -> int:
        """The user id of account `g`'s officer."""
        return self.officer_ids[g // self.per_officer]


def reserve_ids(table: str, count: int) -> int:
    """Move `table`'s id sequence past `count` ids and return the base the book's explicit ids start from."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (a model's own table name)
        base = cursor.fetchone()[0]
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, base + count])
    return base


def book_prepare(officer_count: int, per_officer: int, *, username_prefix: str = "bench-officer") -> Book:
    """Officers (case officers, one INSERT), the four portfolios and id ranges for the whole book."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from access.roles import CASE_OFFICER
    from collections_app.dpd import lender_today
    from collections_app.models import Borrower, LoanAccount, PolicyProfile, Portfolio
    from collections_app.services.accounts import work_permission

    # One hash for all: hashing 500 passwords one by one would take minutes and no page reads them.
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"{username_prefix}-{n}", password=password) for n in range(officer_count)
    )
    group = Group.objects.get(name=CASE_OFFICER)
    User.groups.through.objects.bulk_create(User.groups.through(user_id=u.pk, group_id=group.pk) for u in users)
    profile = PolicyProfile.objects.get(code="cn-default")
    portfolios = [
        Portfolio.objects.get_or_create(code=code, defaults={"name": code, "policy_profile": profile})[0]
        for code in PORTFOLIO_CODES
    ]
    size = officer_count * per_officer
    now = datetime.datetime.now(tz=datetime.UTC)
    return Book(
        officer_ids=tuple(u.pk for u in users),
        per_officer=per_officer,
        borrower_base=reserve_ids(Borrower._meta.db_table, size),
        account_base=reserve_ids(LoanAccount._meta.db_table, size),
        portfolio_ids=tuple(p.pk for p in portfolios),
        permission_id=work_permission().pk,
        policy_version_id=profile.version_in_force(at=now).pk,
        today=lender_today(now),
        now=now,
    )


# Every statement below reads the same parameters: %(lo)s and %(hi)s bound g, the rest come from the Book.
_BOOK_STATEMENTS = (
    # Borrowers.
    """
    INSERT INTO collections_app_borrower (id, external_ref, name, id_number, phone, timezone)
    SELECT %(b0)s + g + 1, 'BENCH' || lpad(g::text, 8, '0'), '测试' || g, '',
           '+86137' || lpad(g::text, 8, '0'), 'Asia/Shanghai'
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    """,
    # Accounts: officer g / per_officer, portfolio g %% 4, DPD g %% 230 - 5.
    """
    INSERT INTO collections_app_loanaccount (id, account_number, borrower_id, portfolio_id, officer_id, principal,
                                             outstanding, oldest_unpaid_due_date, updated_at)
    SELECT %(a0)s + g + 1, 'BENCH-' || lpad(g::text, 8, '0'), %(b0)s + g + 1,
           (%(portfolios)s::bigint[])[g %% 4 + 1], (%(officers)s::bigint[])[g / %(per)s + 1],
           5000.00, 4000.00 + g %% 900, %(today)s::date - (g %% 230 - 5), %(now)s
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    """,
    # The officer's right to work each account (the caseload's scope).
    """
    INSERT INTO collections_app_loanaccountuserobjectpermission (user_id, permission_id, content_object_id)
    SELECT (%(officers)s::bigint[])[g / %(per)s + 1], %(perm)s, %(a0)s + g + 1
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    """,
    # Interactions: %(interactions)s failed attempts per account over the last weeks.
    """
    INSERT INTO collections_app_interaction (account_id, officer_id, channel, outcome, note, override_reason,
                                             occurred_at)
    SELECT %(a0)s + g + 1, (%(officers)s::bigint[])[g / %(per)s + 1], 'phone', 'no_answer', '', '',
           %(now)s::timestamptz - make_interval(hours => (g %% 500 + k * 24)::int)
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g, generate_series(0, %(interactions)s - 1) AS k
    """,
    # A promise on every third account, due from four days ago to four days ahead.
    """
    INSERT INTO collections_app_promisetopay (account_id, promised_date, amount, created_by_id, created_at)
    SELECT %(a0)s + g + 1, %(today)s::date + (g %% 9 - 4), 300, (%(officers)s::bigint[])[g / %(per)s + 1], %(now)s
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    WHERE g %% 3 = 0
    """,
    # An open phone-call task, due today or up to two days ago, on every tenth account.
    """
    INSERT INTO collections_app_calltask (account_id, officer_id, due_date, dpd, status, policy_version_id,
                                          created_at, closed_at)
    SELECT %(a0)s + g + 1, (%(officers)s::bigint[])[g / %(per)s + 1], %(today)s::date - (g / 10 %% 3),
           g %% 230 - 5, 'open', %(pv)s, %(now)s, NULL
    FROM generate_series(%(lo)s, %(hi)s - 1) AS g
    WHERE g %% 10 = 0
    """,
)


def book_fill(book: Book, lo: int, hi: int, *, interactions: int = 3) -> None:
    """Insert accounts `lo` <= g < `hi` with borrowers, permissions, interactions, promises and call tasks.

    Set-based (INSERT ... SELECT generate_series) in chunks, with every constraint and trigger in force.
    """
    params = {
        "b0": book.borrower_base,
        "a0": book.account_base,
        "portfolios": list(book.portfolio_ids),
        "officers": list(book.officer_ids),
        "per": book.per_officer,
        "perm": book.permission_id,
        "pv": book.policy_version_id,
        "today": book.today,
        "now": book.now,
        "interactions": interactions,
    }
    for start in range(lo, hi, CHUNK):
        chunk = {**params, "lo": start, "hi": min(start + CHUNK, hi)}
        with connection.cursor() as cursor:
            for statement in _BOOK_STATEMENTS:
                cursor.execute(statement, chunk)


def analyze() -> None:
    """Planner statistics and visibility maps, as autovacuum would have them on a book that has aged a while.

    Without the VACUUM, freshly loaded tables have no visibility map, and no index-only scan is worth planning.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(label: str, func: Callable[[], object]) -> None:
    """Run `func` and print how long it took (setup steps of a long build)."""
    started = time.perf_counter()
    func()
    print(f"  {label}: {time.perf_counter() - started:.0f} s", flush=True)


def slowest_queries(client: Client, url: str, top: int = 3) -> list[tuple[float, str]]:
    """The `top` slowest queries of one request to `url`, as (ms, SQL with its values), slowest first."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    # Read at once: the next request start empties the connection's query log.
    timed_queries = [(float(q["time"]) * 1000, q["sql"]) for q in queries.captured_queries]
    return sorted(timed_queries, key=lambda item: -item[0])[:top]


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE of a read (never run for a write: the audit log is append-only)."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT: not explained)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def diagnose(client: Client, url: str, slow: bool) -> None:
    """Print a page's slowest queries; for a page over its goal, the plan of the slowest read as well."""
    found = slowest_queries(client, url)
    for ms, sql in found:
        print(f"    {ms:7.1f} ms  {' '.join(sql.split())[:240]}")
    if slow:
        reads = [sql for _, sql in found if sql.lstrip().upper().startswith("SELECT")]
        if reads:
            print("    plan of the slowest read:\n      " + explain(reads[0]).replace("\n", "\n      "), flush=True)
