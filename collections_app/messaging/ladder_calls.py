"""The call-task half of the daily ladder: the day's phone-call tasks for officers, within the call caps.

One `INSERT ... SELECT ... ON CONFLICT DO NOTHING` a policy profile writes a task per account that needs a
call today (`call_task_accounts`) and is under the profile's call caps (`collections_app.messaging.rules`),
counted in days of the borrower's zone;
(account, date) is unique, so a second run on a day writes nothing twice. Before writing, the run cancels the
open tasks the ladder no longer asks for. The SQLite demo writes the same rows through the ORM.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, QuerySet

from collections_app.messaging.rules import (
    call_attempts_cap_q,
    called_on_q,
    connected_calls_cap_q,
    no_calls_after_conversation_q,
    zones_in_use,
)
from collections_app.models import CallTask, PolicyVersion
from collections_app.selectors.profiles import call_task_accounts
from collections_app.services.call_tasks import call_tasks_cancel_not_due


def call_task_select(policy: PolicyVersion, today: datetime.date, zones: list[str] | None = None) -> QuerySet:
    """Accounts that get a phone-call task today: the contact gate's SQL form for a call to the borrower.

    Paid, paused, ceased, represented and vulnerable borrowers are left out by `call_task_accounts`, stopped
    calls too; here the call caps, counted in days of the borrower's zone (`zones`: `zones_in_use()`, read
    when not given). Allowed hours do not apply: the task is for the day. `tests/collections_app/messaging/
    test_contact_gate_in_sql.py` holds it equal to `contact_gate` for a call task of `today`.
    """
    zones = zones_in_use() if zones is None else zones
    accounts = (
        call_task_accounts(policy, today)
        .filter(connected_calls_cap_q(today=today, limit=policy.max_connected_calls_per_day, zones=zones))
        .filter(
            call_attempts_cap_q(
                today=today, limit=policy.max_call_attempts, window_days=policy.call_attempts_window_days, zones=zones
            )
        )
        .filter(no_calls_after_conversation_q(today=today, days=policy.no_calls_after_conversation_days, zones=zones))
        # A call already made to the borrower today, answered or not, is the call the ladder would ask for.
        .exclude(called_on_q(day=today, zones=zones))
    )
    return accounts.annotate(e_account=F("pk"), e_officer=F("officer_id"), e_dpd=F("ladder_dpd")).values(
        "e_account", "e_officer", "e_dpd"
    )


def insert_call_tasks(policy: PolicyVersion, today: datetime.date, zones: list[str]) -> int:
    """INSERT the day's call tasks; an account that already has one today keeps it."""
    if connection.vendor != "postgresql":
        # The SQLite demo: its single writer makes the existence check safe.
        rows = list(call_task_select(policy, today, zones))
        existing = set(
            CallTask.objects.filter(due_date=today, account_id__in=[r["e_account"] for r in rows]).values_list(
                "account_id", flat=True
            )
        )
        return len(
            CallTask.objects.bulk_create(
                CallTask(
                    account_id=row["e_account"],
                    officer_id=row["e_officer"],
                    due_date=today,
                    dpd=row["e_dpd"],
                    status="open",
                    policy_version=policy,
                )
                for row in rows
                if row["e_account"] not in existing
            )
        )
    select_sql, select_params = call_task_select(policy, today, zones).query.sql_with_params()
    sql = f"""
        INSERT INTO {CallTask._meta.db_table} (account_id, officer_id, due_date, dpd, status, policy_version_id,
                                              created_at, closed_at)
        SELECT e_account, e_officer, %s, e_dpd, 'open', %s, now(), NULL FROM ({select_sql}) AS picked
        ON CONFLICT (account_id, due_date) DO NOTHING
    """  # noqa: S608 - the table name comes from model metadata, values are parameters
    with connection.cursor() as cursor:
        # The caps probe each account's calls and today's voice messages through their indexes. The escalation
        # writes these tasks while its other half fills the outbox: planned when the outbox had looked empty
        # to its last ANALYZE, the probe became a sequential scan per account over rows this transaction
        # cannot even see (bench_escalation, 100,000 accounts: 77 s instead of about 1 s).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(sql, [today, policy.pk, *select_params])
        written = cursor.rowcount
        cursor.execute("RESET enable_seqscan")
        return written


@dataclass
class CallTaskCounts:
    """What the call-task half wrote: tasks cancelled, and tasks written under each policy version."""

    cancelled: int
    written: list[tuple[PolicyVersion, int]]


def write_call_tasks(policies: list[PolicyVersion], today: datetime.date) -> CallTaskCounts:
    """Cancel the open tasks the ladder no longer asks for, then write today's; in the caller's transaction."""
    cancelled = call_tasks_cancel_not_due(reason="escalation", today=today)
    zones = zones_in_use()
    return CallTaskCounts(cancelled, [(policy, insert_call_tasks(policy, today, zones)) for policy in policies])
