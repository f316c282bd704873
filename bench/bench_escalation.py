"""`run_escalation` over a large book, against a naive per-account ORM loop.

Run from the repository root: `python bench/bench_escalation.py` with `DATABASE_URL` set (PostgreSQL).
Sizes: `BENCH_ACCOUNTS` (default 1,000,000) for the set-based run, `BENCH_NAIVE_ACCOUNTS` (default 10,000)
for the naive loop; `BENCH_RUNS` (default 3) alternating runs, each on a freshly emptied outbox. It builds its
own throwaway database (`bench_escalation`, or `TEST_DB_NAME`). Prints the median and spread, the goal
(<= 60 s for 1,000,000 accounts) and the ratio of the naive loop's time (per account, scaled to the same book)
to the set-based run's.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DB_NAME", "bench_escalation")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "1000000"))
NAIVE_ACCOUNTS = int(os.environ.get("BENCH_NAIVE_ACCOUNTS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GOAL_SECONDS = 60.0
TODAY = datetime.date(2026, 3, 10)


def populate(accounts: int, portfolio_code: str) -> None:
    """Borrowers and accounts spread over DPD -5..200 by SQL; every 50th has a pending promise, every 70th a flag."""
    from collections_app.models import PolicyProfile, Portfolio

    portfolio = Portfolio.objects.create(
        code=portfolio_code, name=portfolio_code, policy_profile=PolicyProfile.objects.get(code="cn-default")
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM collections_app_borrower")
        base = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO collections_app_borrower (id, external_ref, name, id_number, phone, timezone)
            SELECT %s + g, %s || g, '测试' || g, '', '+86139' || lpad(g::text, 8, '0'), 'Asia/Shanghai'
            FROM generate_series(1, %s) AS g
            """,
            [base, f"{portfolio_code}-", accounts],
        )
        cursor.execute(
            """
            INSERT INTO collections_app_loanaccount (account_number, borrower_id, portfolio_id, principal, outstanding,
                                                     oldest_unpaid_due_date, updated_at)
            SELECT %s || g, %s + g, %s, 5000, 5000, %s::date - ((g %% 206) - 5), now()
            FROM generate_series(1, %s) AS g
            """,
            [f"{portfolio_code}-", base, portfolio.pk, TODAY, accounts],
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('collections_app_borrower', 'id'), %s)", [base + accounts])
        cursor.execute(
            """
            INSERT INTO collections_app_promisetopay (account_id, promised_date, amount, created_by_id, created_at)
            SELECT a.id, %s::date + 2, 100, (SELECT MIN(id) FROM auth_user), now()
            FROM collections_app_loanaccount a WHERE a.portfolio_id = %s AND a.id %% 50 = 0
            """,
            [TODAY, portfolio.pk],
        )
        cursor.execute(
            """
            INSERT INTO collections_app_flag (account_id, kind, opened_reason, opened_by_id, opened_at, closed_reason)
            SELECT a.id, 'dispute', 'bench', (SELECT MIN(id) FROM auth_user), now(), ''
            FROM collections_app_loanaccount a WHERE a.portfolio_id = %s AND a.id %% 70 = 0
            """,
            [portfolio.pk],
        )
        cursor.execute("ANALYZE")


def empty_outbox() -> None:
    """Remove the outbox and call tasks between runs (audit events stay: the log is append-only).

    Then vacuum them, as autovacuum would: otherwise each run inserts the same keys over the dead rows of the
    last and pays for checking them, which no real day does.
    """
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM collections_app_message")
        cursor.execute("DELETE FROM collections_app_calltask")
        cursor.execute("VACUUM ANALYZE collections_app_message")
        cursor.execute("VACUUM ANALYZE collections_app_calltask")


def naive_run(portfolio_code: str, today: datetime.date) -> tuple[float, int]:
    """The ladder as a per-account ORM loop: load each account's facts, decide in Python, enqueue one by one."""
    from collections_app import account_rules as rules
    from collections_app.dpd import days_past_due
    from collections_app.messaging.ladder import STAGES
    from collections_app.messaging.outbox import message_enqueue
    from collections_app.models import ChannelStop, LoanAccount, Message, TemplateVersion
    from collections_app.selectors.profiles import policy_version_for_account

    templates = {
        (stage, channel): TemplateVersion.objects.filter(template__code=f"ladder-{stage}-{channel}").latest("version")
        for stage in STAGES
        for channel in ("sms", "in_app")
    }
    written = 0
    started = time.perf_counter()
    with transaction.atomic():
        for account in LoanAccount.objects.filter(portfolio__code=portfolio_code).select_related("borrower"):
            dpd = days_past_due(account.oldest_unpaid_due_date, today)
            if dpd is None or dpd < -3:
                continue
            pv = policy_version_for_account(account)
            promise = account.promises.order_by("-promised_date").first()
            promise_result = None
            if promise is not None:
                payments = [rules.PaymentFact(p.paid_at.date(), p.amount) for p in account.payments.all()]
                promise_result = rules.promise_status(
                    promised_date=promise.promised_date,
                    amount=promise.amount,
                    made_on=promise.created_at.date(),
                    payments=payments,
                    today=today,
                    grace_days=pv.promise_grace_days,
                    horizon_days=pv.promise_horizon_days,
                )
            flags = set(account.flags.filter(closed_at__isnull=True).values_list("kind", flat=True))
            if rules.escalation_pause(promise=promise_result, plan=None, open_flags=flags).paused:
                continue
            if account.borrower.cease_requested_at is not None:
                continue
            stage = "pre-due" if dpd < 0 else "due" if dpd == 0 else "overdue"
            channels = []
            if dpd in pv.reminder_days:
                channels = ["sms", "in_app"]
            elif dpd > 0:
                channels = ["in_app"]
                if dpd in pv.sms_days or (
                    dpd >= pv.sms_repeat_from_dpd and (dpd - pv.sms_repeat_from_dpd) % pv.sms_repeat_every_days == 0
                ):
                    channels.append("sms")
            for channel in channels:
                if ChannelStop.objects.filter(borrower=account.borrower, channel=channel).exists():
                    continue
                message_enqueue(
                    borrower=account.borrower,
                    account=account,
                    audience=Message.Audience.BORROWER,
                    channel=channel,
                    template_version=templates[(stage, channel)],
                    policy_version=pv,
                    idempotency_key=f"naive:{account.pk}:{today}:{channel}",
                )
                written += 1
    return time.perf_counter() - started, written


def main() -> None:
    """Populate, run alternately, print figures."""
    from django.contrib.auth.models import User

    from collections_app.messaging.ladder import escalation_run

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        User.objects.create_user("bench-officer")
        t0 = time.perf_counter()
        populate(NAIVE_ACCOUNTS, "naive")
        print(f"populated {NAIVE_ACCOUNTS} naive accounts in {time.perf_counter() - t0:.1f} s", flush=True)
        naive_times = []
        for _ in range(RUNS):
            empty_outbox()
            seconds, written = naive_run("naive", TODAY)
            naive_times.append(seconds / NAIVE_ACCOUNTS)
            print(f"naive loop: {NAIVE_ACCOUNTS} accounts, {written} messages in {seconds:.1f} s", flush=True)
        # The set-based run sees the whole book: move the naive portfolio's accounts out of reach first.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE collections_app_loanaccount SET oldest_unpaid_due_date = NULL")
        t0 = time.perf_counter()
        populate(ACCOUNTS, "book")
        print(f"populated {ACCOUNTS} accounts in {time.perf_counter() - t0:.1f} s", flush=True)
        times = []
        for _ in range(RUNS):
            empty_outbox()
            started = time.perf_counter()
            stats = escalation_run(today=TODAY)
            times.append(time.perf_counter() - started)
            print(
                f"run_escalation: {stats.messages} messages, {stats.call_tasks} call tasks in {times[-1]:.1f} s",
                flush=True,
            )
            again = escalation_run(today=TODAY)
            assert again.messages == 0 and again.call_tasks == 0, "a second run on the same day wrote rows"
    finally:
        teardown_databases(old_config, verbosity=0)
    median = statistics.median(times)
    spread = max(times) - min(times)
    scaled_goal = GOAL_SECONDS * ACCOUNTS / 1_000_000
    naive_scaled = statistics.median(naive_times) * ACCOUNTS
    print(f"run_escalation over {ACCOUNTS:,} accounts: median {median:.1f} s (spread {spread:.1f} s, {RUNS} runs)")
    print(f"goal: <= {scaled_goal:.1f} s; figure/goal = {median / scaled_goal:.2f} (<= 1 meets it)")
    if ACCOUNTS != 1_000_000:
        projected = median * 1_000_000 / ACCOUNTS
        print(f"projected to 1,000,000 accounts (linear, not measured): {projected:.0f} s against the goal of 60 s")
    print(
        f"naive per-account ORM loop on {NAIVE_ACCOUNTS:,} accounts: {statistics.median(naive_times) * 1000:.2f} ms"
        f"/account, {naive_scaled:.0f} s scaled to {ACCOUNTS:,}; set-based is {naive_scaled / median:.0f}x faster"
    )


if __name__ == "__main__":
    main()
