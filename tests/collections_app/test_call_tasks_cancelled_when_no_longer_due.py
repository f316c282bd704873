"""Open phone-call tasks are cancelled, with an audit event, once the ladder would no longer ask for the call."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.importers.accounts import ACCOUNT_HEADER
from collections_app.messaging.consent import cease_request_record, channel_stop_record
from collections_app.messaging.ladder import escalation_run
from collections_app.models import CallTask, LoanAccount, Message
from collections_app.services.accounts import flag_open, promise_create
from collections_app.services.call_tasks import call_tasks_cancel_not_due
from tests.audit.helpers import audit_mark, events_since
from tests.collections_app.support import make_task
from tests.factories import make_account, make_plan, make_portfolio

pytestmark = pytest.mark.django_db


def status_of(task: CallTask) -> str:
    task.refresh_from_db()
    return task.status


def cancellation_events(mark: int) -> list[AuditEvent]:
    return [e for e in events_since(mark) if e.object_type == "calltask" and e.detail.get("status") == "cancelled"]


def test_a_promise_to_pay_cancels_the_accounts_open_call_tasks(officer: User) -> None:
    account = make_account(officer, dpd=12)
    other = make_account(officer, dpd=12)
    today, yesterday, other_task = make_task(account), make_task(account, days_ago=1), make_task(other)
    done = make_task(account, days_ago=2, status=CallTask.Status.DONE)
    mark = audit_mark()
    promise_create(
        account=account, officer=officer, promised_date=lender_today() + datetime.timedelta(days=3), amount=Decimal(1)
    )
    assert (status_of(today), status_of(yesterday)) == ("cancelled", "cancelled")
    assert today.closed_at is not None
    assert (status_of(other_task), status_of(done)) == ("open", "done")
    events = cancellation_events(mark)
    assert sorted(int(e.object_id) for e in events) == sorted([today.pk, yesterday.pk])
    event = events[0]
    assert (event.action, event.actor_id, event.role, event.persons) == (
        "update",
        officer.pk,
        "case_officer",
        [f"borrower:{account.borrower_id}"],
    )
    assert event.detail == {"account_id": account.pk, "status": "cancelled", "reason": "promise"}


def test_a_dispute_flag_cancels_the_open_call_task(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    flag_open(account=account, officer=officer, kind="dispute", reason="Borrower disputes the balance")
    assert status_of(task) == "cancelled"


def test_a_cease_request_cancels_the_call_tasks_of_every_account_of_the_borrower(officer: User) -> None:
    first = make_account(officer, dpd=12)
    second = make_account(officer, dpd=20, borrower=first.borrower)
    tasks = [make_task(first), make_task(second)]
    mark = audit_mark()
    cease_request_record(borrower=first.borrower)
    assert [status_of(task) for task in tasks] == ["cancelled", "cancelled"]
    events = cancellation_events(mark)
    assert {e.detail["reason"] for e in events} == {"cease"} and {e.actor_id for e in events} == {None}


def test_stopping_calls_cancels_call_tasks_but_stopping_sms_does_not(officer: User) -> None:
    texted = make_account(officer, dpd=12)
    called = make_account(officer, dpd=12)
    texted_task, called_task = make_task(texted), make_task(called)
    channel_stop_record(borrower=texted.borrower, channel=Message.Channel.SMS, actor=officer)
    channel_stop_record(borrower=called.borrower, channel=Message.Channel.VOICE, actor=officer)
    assert (status_of(texted_task), status_of(called_task)) == ("open", "cancelled")


def test_a_payment_clearing_the_balance_cancels_the_task_and_a_part_payment_does_not(
    officer: User, tmp_path: Path
) -> None:
    cleared = make_account(officer, dpd=12, account_number="CT-1", outstanding=Decimal("100.00"))
    part_paid = make_account(officer, dpd=12, account_number="CT-2", outstanding=Decimal("100.00"))
    cleared_task, part_paid_task = make_task(cleared), make_task(part_paid)
    path = tmp_path / "payments.csv"
    path.write_text(
        "account_number,paid_at,amount,reference\nCT-1,2026-11-20T09:30:00+08:00,100.00,R1\n"
        "CT-2,2026-11-20T09:30:00+08:00,40.00,R2\n",
        encoding="utf-8",
    )
    mark = audit_mark()
    call_command("import_payments", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert (status_of(cleared_task), status_of(part_paid_task)) == ("cancelled", "open")
    assert [e.detail["reason"] for e in cancellation_events(mark)] == ["payment"]


def test_escalation_cancels_tasks_of_accounts_paused_another_way_and_keeps_the_rest(officer: User) -> None:
    today = lender_today()
    planned = make_account(officer, dpd=12)
    still_due = make_account(officer, dpd=12)
    make_plan(planned, officer, instalments=[(today + datetime.timedelta(days=5), Decimal("50"))])
    planned_task, still_due_task = make_task(planned, days_ago=1), make_task(still_due, days_ago=1)
    stdout = io.StringIO()
    call_command("run_escalation", stdout=stdout)
    assert (status_of(planned_task), status_of(still_due_task)) == ("cancelled", "open")
    # Today's task is written for the account still due, and none for the planned one.
    assert set(CallTask.objects.filter(due_date=today).values_list("account", flat=True)) == {still_due.pk}
    assert "1 cancelled" in stdout.getvalue()
    assert escalation_run().call_tasks_cancelled == 0


def test_cancelling_for_no_accounts_writes_nothing(officer: User) -> None:
    task = make_task(make_account(officer, dpd=12))
    assert call_tasks_cancel_not_due(reason="payment", account_ids=[]) == 0
    assert status_of(task) == "open"


def test_an_account_whose_dpd_fell_below_the_call_threshold_loses_its_task(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    LoanAccount.objects.filter(pk=account.pk).update(oldest_unpaid_due_date=lender_today())
    assert call_tasks_cancel_not_due(reason="account_update", account_ids=[account.pk]) == 1
    assert status_of(task) == "cancelled"


def test_an_account_import_cancels_tasks_only_where_the_due_date_or_portfolio_changed(tmp_path: Path) -> None:
    make_portfolio("cn-consumer")
    overdue = (lender_today() - datetime.timedelta(days=12)).isoformat()
    row = "A-1,B-1,John Doe,,+12025550123,Asia/Shanghai,3000,{outstanding},{due},cn-consumer,,,,,,"
    path = tmp_path / "accounts.csv"

    def import_rows(*rows: str) -> None:
        path.write_text("\n".join([",".join(ACCOUNT_HEADER), *rows]) + "\n", encoding="utf-8")
        call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    import_rows(row.format(outstanding="2000", due=overdue))
    task = make_task(LoanAccount.objects.get(account_number="A-1"))
    import_rows(row.format(outstanding="1500", due=overdue))  # only the balance moved: still 12 days overdue
    assert status_of(task) == "open"
    import_rows(row.format(outstanding="1500", due=lender_today().isoformat()))  # now due today: no call
    assert status_of(task) == "cancelled"
