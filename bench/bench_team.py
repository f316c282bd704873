"""The team lead's dashboard and its nightly snapshot over a book of 1,000,000 accounts.

Run from the repository root: `python bench/bench_team.py` with `DATABASE_URL` set (PostgreSQL). It builds its own
throwaway database (`bench_team`, or `TEST_DB_NAME`) and the book of bench/support.py: `BENCH_OFFICERS` x
`BENCH_PER_OFFICER` accounts (default 500 x 2,000 = 1,000,000), with `BENCH_INTERACTIONS` calls each over the last
weeks, a promise on every third, and (unless `BENCH_MESSAGES=0`) one message per account yesterday, as a ladder day
sends, a quarter of them suppressed; a plan awaits its decision on every 200th account. A team of `BENCH_TEAM`
officers (default 10, 20,000 accounts) has one lead.

1. With the team's first `BENCH_SMALL` accounts (default 1,000) in the book, it takes the snapshot and counts the
   queries of /team/ and /team/?officer=... .
2. It grows the book to full size and times the nightly job (`team_snapshot_take`) for last month's end, then for
   yesterday, then yesterday again (the idempotent re-run, which rewrites every row); goal 60 s a run.
3. It copies the month figures back over ten earlier months (the dashboard then reads twelve full months, as
   after a year of nightly runs) and times `BENCH_RUNS` requests of each page (default 30) through Django's test
   client: server time, including authentication and rendering; goal: median 150 ms, the same query count.
Exit 1 if a page's query count grew with the book.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_team")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.support import (  # noqa: E402
    CHUNK,
    Book,
    analyze,
    book_fill,
    book_prepare,
    diagnose,
    env_int,
    figure_line,
    in_test_database,
    measure,
    timed,
)

OFFICERS = env_int("BENCH_OFFICERS", 500)
PER_OFFICER = env_int("BENCH_PER_OFFICER", 2_000)
TEAM = env_int("BENCH_TEAM", 10)
SMALL = env_int("BENCH_SMALL", 1_000)
INTERACTIONS = env_int("BENCH_INTERACTIONS", 3)
MESSAGES = env_int("BENCH_MESSAGES", 1)
RUNS = env_int("BENCH_RUNS", 30)
PAGE_GOAL_MS = 150.0
SNAPSHOT_GOAL_S = 60.0

# Yesterday's messages of accounts lo <= g < hi: three in four sent, one in four suppressed for one of three reasons.
_MESSAGES = """
INSERT INTO collections_app_message (borrower_id, account_id, audience, channel, recipient, recipient_timezone, body,
                                     status, status_reason, idempotency_key, not_before, send_date, attempts,
                                     last_error, sent_at, created_at, updated_at)
SELECT %(b0)s + g + 1, %(a0)s + g + 1, 'borrower', 'sms', '+86137' || lpad(g::text, 8, '0'), 'Asia/Shanghai', 'bench',
       CASE WHEN g %% 4 = 0 THEN 'suppressed' ELSE 'sent' END,
       CASE WHEN g %% 4 = 0 THEN (ARRAY['paused', 'cap', 'outside_hours'])[g %% 3 + 1] ELSE '' END,
       'bench-' || %(day)s::text || '-' || g, %(at)s, CASE WHEN g %% 4 = 0 THEN NULL ELSE %(day)s::date END, 1, '',
       CASE WHEN g %% 4 = 0 THEN NULL ELSE %(at)s END, %(at)s, %(at)s
FROM generate_series(%(lo)s, %(hi)s - 1) AS g
"""


# A plan proposed on every 200th account (5,000 at 1,000,000), awaiting its lead's decision.
_PLANS = """
INSERT INTO collections_app_repaymentplan (account_id, kind, status, agreed_at, created_by_id, outstanding_at_proposal,
                                           difference_reason, decision_reason, status_reason)
SELECT %(a0)s + g + 1, 'instalments', 'proposed', %(now)s::timestamptz - make_interval(hours => g %% 300),
       (%(officers)s::bigint[])[g / %(per)s + 1], 4000.00, '', '', ''
FROM generate_series(%(lo)s, %(hi)s - 1) AS g
WHERE g %% 200 = 0
"""


def plans_fill(book: Book, lo: int, hi: int) -> None:
    """The proposed plans of accounts lo <= g < hi, by INSERT ... SELECT in chunks."""
    params = {"a0": book.account_base, "now": book.now, "officers": list(book.officer_ids), "per": book.per_officer}
    for start in range(lo, hi, CHUNK):
        with connection.cursor() as cursor:
            cursor.execute(_PLANS, {**params, "lo": start, "hi": min(start + CHUNK, hi)})


def messages_fill(book: Book, lo: int, hi: int, day: datetime.date) -> None:
    """Yesterday's message for each account lo <= g < hi (when BENCH_MESSAGES is on), by INSERT ... SELECT."""
    if not MESSAGES:
        return
    params = {
        "b0": book.borrower_base,
        "a0": book.account_base,
        "day": day,
        "at": datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC),
    }
    for start in range(lo, hi, CHUNK):
        with connection.cursor() as cursor:
            cursor.execute(_MESSAGES, {**params, "lo": start, "hi": min(start + CHUNK, hi)})


def team_prepare(book: Book, first: int) -> object:
    """The lead and the team of TEAM officers from officer `first` on."""
    from django.contrib.auth.models import Group, User

    from access.models import Team
    from access.roles import TEAM_LEAD

    lead = User.objects.create_user("bench-lead")
    lead.groups.add(Group.objects.get(name=TEAM_LEAD))
    team = Team.objects.create(name="bench team", lead=lead)
    team.members.add(*book.officer_ids[first : first + TEAM])
    return lead


def signed_in_past_mfa(user: object) -> Client:
    """A client signed in as `user` whose session passed the second factor (team leads need one)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def figures_back_fill(month: datetime.date, months: int) -> None:
    """Copy `month`'s figures to the `months` months before the previous one, as a year of nightly runs leaves."""
    from collections_app.models import OfficerMonthFigure
    from collections_app.team.figures import month_shift

    table = OfficerMonthFigure._meta.db_table
    with connection.cursor() as cursor:
        for back in range(2, months + 2):
            cursor.execute(
                f"INSERT INTO {table} (month, officer_id, kind, key, count, amount) "  # noqa: S608 - the model's table
                f"SELECT %s, officer_id, kind, key, count, amount FROM {table} WHERE month = %s",
                [month_shift(month, -back), month],
            )


def snapshot_timed(label: str, day: datetime.date) -> float:
    """One nightly run for `day`, timed in seconds and printed with what it wrote."""
    from collections_app.team.snapshots import team_snapshot_take

    started = time.perf_counter()
    run = team_snapshot_take(day=day)
    seconds = time.perf_counter() - started
    print(
        f"team_snapshot_{label}: seconds={seconds:.1f} goal_s={SNAPSHOT_GOAL_S:.0f} ratio_to_goal="
        f"{seconds / SNAPSHOT_GOAL_S:.2f} snapshots={run.snapshots:,} activity_rows={run.activity_rows:,} "
        f"figures={run.figures:,}",
        flush=True,
    )
    return seconds


def main() -> int:
    """Build the database, measure, print the figures; exit 1 only if a query count grew with the book."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=OFFICERS)
    parser.add_argument("--per-officer", type=int, default=PER_OFFICER)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    return in_test_database(lambda: run(args.officers, args.per_officer, args.runs))


def run(officer_count: int, per_officer: int, runs: int) -> int:
    """Count the pages' queries at the small book, grow it, time the snapshot runs and then every page."""
    from collections_app.team.figures import month_start
    from collections_app.team.snapshots import team_snapshot_take

    book = book_prepare(officer_count, per_officer)
    first_officer = max(officer_count // 2 - TEAM // 2, 0)
    first, small = first_officer * per_officer, min(SMALL, per_officer * TEAM)
    lead = team_prepare(book, first_officer)
    client = signed_in_past_mfa(lead)
    officer = f"bench-officer-{first_officer}"
    pages = {"team": "/team/", "team_officer": f"/team/?officer={officer}"}
    yesterday = book.today - datetime.timedelta(days=1)
    last_month_end = month_start(book.today) - datetime.timedelta(days=1)

    book_fill(book, first, first + small, interactions=INTERACTIONS)
    messages_fill(book, first, first + small, yesterday)
    plans_fill(book, first, first + small)
    team_snapshot_take(day=last_month_end)
    team_snapshot_take(day=yesterday)
    analyze()
    few = {name: measure(client, url, 1).queries for name, url in pages.items()}

    started = time.perf_counter()
    timed("accounts before the team's", lambda: book_fill(book, 0, first, interactions=INTERACTIONS))
    timed("the rest", lambda: book_fill(book, first + small, book.size, interactions=INTERACTIONS))
    timed("yesterday's messages", lambda: messages_fill(book, 0, first, yesterday))
    timed("the rest of them", lambda: messages_fill(book, first + small, book.size, yesterday))
    timed("proposed plans", lambda: (plans_fill(book, 0, first), plans_fill(book, first + small, book.size)))
    timed("VACUUM ANALYZE", analyze)
    messages = "one per account" if MESSAGES else "none"
    print(
        f"accounts: {book.size:,} ({officer_count} officers x {per_officer:,}; the team: {TEAM} officers), built in "
        f"{time.perf_counter() - started:.0f} s; messages yesterday: {messages}; small book: {small:,} accounts",
        flush=True,
    )
    seconds = [
        snapshot_timed("last_month_end", last_month_end),
        snapshot_timed("yesterday", yesterday),
        snapshot_timed("yesterday_again", yesterday),
    ]
    print(f"team_snapshot: median_s={statistics.median(seconds):.1f} max_s={max(seconds):.1f}", flush=True)
    figures_back_fill(month_start(yesterday), 10)
    analyze()

    grew = []
    for name, url in pages.items():
        measured = measure(client, url, runs)
        print(figure_line(f"team_{name}", measured, few[name], f"{small:,} accounts", PAGE_GOAL_MS), flush=True)
        diagnose(client, url, slow=statistics.median(measured.times) > PAGE_GOAL_MS)
        if measured.queries != few[name]:
            grew.append(name)
    if grew:
        print("query count grew with the book: " + ", ".join(grew), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
