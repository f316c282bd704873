"""Phone-call tasks: officers see them on the account page and the caseload, close them; a logged call closes them."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.models import CallTask, Interaction, LoanAccount, PolicyVersion
from collections_app.selectors.caseload import CALLS_DUE_LIMIT
from collections_app.services.accounts import interaction_log
from collections_app.services.call_tasks import call_task_close
from tests.audit.helpers import audit_mark, events_since
from tests.collections_app.support import (
    ACCOUNT_MAX_QUERIES,
    CALL_HOURS,
    CASELOAD_MAX_QUERIES,
    bulk_caseload,
    make_task,
    rich_history,
)
from tests.conftest import signed_in
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def close_url(account: LoanAccount, task: CallTask) -> str:
    return f"/cases/{account.pk}/call-tasks/{task.pk}/close/"


def calls_due_section(content: str) -> str:
    """The caseload's "calls due" card, as HTML."""
    match = re.search(r'<section class="card calls-due".*?</section>', content, re.S)
    assert match, "the caseload has no calls-due section"
    return match[0]


# The account page


def test_officer_sees_the_open_call_tasks_of_the_account_with_a_close_form(officer: User) -> None:
    account = make_account(officer, dpd=12)
    yesterday = make_task(account, days_ago=1)
    today = make_task(account)
    done = make_task(account, days_ago=2, status=CallTask.Status.DONE)
    response = signed_in(officer).get(f"/cases/{account.pk}/")
    tasks = response.context["detail"].call_tasks
    assert [(t.pk, t.due_date, t.dpd) for t in tasks] == [
        (yesterday.pk, yesterday.due_date, 11),
        (today.pk, today.due_date, 12),
    ]
    content = response.content.decode()
    assert f'action="{close_url(account, today)}"' in content
    assert f'action="{close_url(account, yesterday)}"' in content
    assert close_url(account, done) not in content
    assert 'name="status" value="done"' in content and 'name="status" value="cancelled"' in content


def test_account_page_shows_call_tasks_without_an_extra_query(officer: User, django_assert_max_num_queries) -> None:
    client = signed_in(officer)
    account = make_account(officer, dpd=40)
    rich_history(account, officer, 5)
    with CaptureQueriesContext(connection) as without_tasks:
        client.get(f"/cases/{account.pk}/")
    for days_ago in range(30):
        make_task(account, days_ago=days_ago)
    with django_assert_max_num_queries(ACCOUNT_MAX_QUERIES):
        response = client.get(f"/cases/{account.pk}/")
    assert len(response.context["detail"].call_tasks) == 30
    with CaptureQueriesContext(connection) as with_tasks:
        client.get(f"/cases/{account.pk}/")
    assert len(with_tasks) == len(without_tasks)


# The caseload


def test_caseload_lists_calls_due_by_account_number_without_names(officer: User, other_officer: User) -> None:
    overdue = make_account(officer, dpd=20, account_number="CALL-OVERDUE")
    make_task(overdue, days_ago=2)
    make_task(overdue, days_ago=1)
    due_today = make_account(officer, dpd=9, account_number="CALL-TODAY")
    make_task(due_today)
    closed = make_account(officer, dpd=15, account_number="CALL-CLOSED")
    make_task(closed, status=CallTask.Status.CANCELLED)
    tomorrow = make_account(officer, dpd=30, account_number="CALL-TOMORROW")
    make_task(tomorrow, days_ago=-1)
    foreign = make_account(other_officer, dpd=25, account_number="CALL-FOREIGN")
    make_task(foreign)

    response = signed_in(officer).get("/cases/")
    calls = response.context["caseload"].calls_due
    # One line an account, the longest-waiting first, with today's DPD and the oldest open due date.
    assert [(c.account_number, c.dpd, c.due_date) for c in calls] == [
        ("CALL-OVERDUE", 20, lender_today() - datetime.timedelta(days=2)),
        ("CALL-TODAY", 9, lender_today()),
    ]
    section = calls_due_section(response.content.decode())
    assert f'href="/cases/{overdue.pk}/"' in section and "CALL-TODAY" in section
    for absent in ("CALL-CLOSED", "CALL-TOMORROW", "CALL-FOREIGN"):
        assert absent not in section
    for account in (overdue, due_today):
        assert account.borrower.name not in section
        assert account.borrower.name[0] + "*" not in section


def test_caseload_list_event_names_the_borrowers_of_the_calls_due(officer: User) -> None:
    called = make_account(officer, dpd=10)
    make_task(called)
    listed = make_account(officer, dpd=45)
    client = signed_in(officer)
    mark = audit_mark()
    # The bucket filter narrows the table to the other account; the calls due stay.
    response = client.get("/cases/", {"bucket": "31-60"})
    assert [row.account.pk for row in response.context["caseload"].rows] == [listed.pk]
    assert [call.account_id for call in response.context["caseload"].calls_due] == [called.pk]
    [event] = events_since(mark)
    assert event.action == "list"
    assert event.persons == sorted(f"borrower:{a.borrower_id}" for a in (called, listed))
    assert event.detail["calls_due"] == 1


def test_caseload_shows_calls_due_within_its_query_budget(officer: User, django_assert_max_num_queries) -> None:
    accounts = bulk_caseload(officer, 500)
    policy_version = PolicyVersion.objects.filter(profile=accounts[0].portfolio.policy_profile).latest("version")
    today = lender_today()
    CallTask.objects.bulk_create(
        CallTask(account=a, officer=officer, due_date=today, dpd=10, policy_version=policy_version)
        for a in accounts[::5]
    )
    client = signed_in(officer)
    with django_assert_max_num_queries(CASELOAD_MAX_QUERIES):
        response = client.get("/cases/")
    caseload = response.context["caseload"]
    assert len(caseload.calls_due) == CALLS_DUE_LIMIT
    assert caseload.calls_due_total == 100
    assert "100" in calls_due_section(response.content.decode())


# Closing a task


@pytest.mark.parametrize("status", [CallTask.Status.DONE, CallTask.Status.CANCELLED])
def test_officer_closes_a_call_task_and_it_is_audited(officer: User, status: str) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    client = signed_in(officer)
    mark = audit_mark()
    response = client.post(close_url(account, task), {"status": status})
    assert response.status_code == 303
    assert response["Location"] == f"/cases/{account.pk}/"
    task.refresh_from_db()
    assert task.status == status
    assert task.closed_at is not None
    [event] = events_since(mark)
    assert (event.action, event.object_type, event.object_id) == ("update", "calltask", str(task.pk))
    assert event.role == "case_officer"
    assert event.persons == [f"borrower:{account.borrower_id}"]
    assert event.detail["status"] == status
    follow = client.get(f"/cases/{account.pk}/")
    assert follow.context["detail"].call_tasks == []


def test_officer_cannot_close_another_officers_call_task(officer: User, other_officer: User) -> None:
    own = make_account(officer, dpd=12)
    foreign = make_account(other_officer, dpd=12)
    task = make_task(foreign)
    client = signed_in(officer)
    for url in (close_url(foreign, task), close_url(own, task)):
        mark = audit_mark()
        response = client.post(url, {"status": "done"})
        assert response.status_code == 404, url
        assert [event.action for event in events_since(mark)] == ["permission_denied"], url
    task.refresh_from_db()
    assert (task.status, task.closed_at) == (CallTask.Status.OPEN, None)


def test_closing_a_closed_call_task_is_refused_and_changes_nothing(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account, status=CallTask.Status.CANCELLED)
    closed_at = task.closed_at
    client = signed_in(officer)
    mark = audit_mark()
    response = client.post(close_url(account, task), {"status": "done"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    task.refresh_from_db()
    assert (task.status, task.closed_at) == (CallTask.Status.CANCELLED, closed_at)
    assert events_since(mark) == []
    with pytest.raises(ValidationError):
        call_task_close(task=task, officer=officer, status=CallTask.Status.DONE)


@pytest.mark.parametrize("status", ["open", "", "deleted"])
def test_closing_with_a_status_other_than_done_or_cancelled_is_refused(officer: User, status: str) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    client = signed_in(officer)
    mark = audit_mark()
    response = client.post(close_url(account, task), {"status": status})
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    task.refresh_from_db()
    assert task.status == CallTask.Status.OPEN
    assert events_since(mark) == []
    with pytest.raises(ValidationError):
        call_task_close(task=task, officer=officer, status=status)


def test_closing_a_call_task_needs_a_post(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    assert signed_in(officer).get(close_url(account, task)).status_code == 405


# A logged phone call closes the day's task


@time_machine.travel(CALL_HOURS, tick=False)
def test_logging_a_phone_call_closes_the_tasks_due_by_today_as_done(officer: User) -> None:
    account = make_account(officer, dpd=12)
    yesterday, today, tomorrow = make_task(account, days_ago=1), make_task(account), make_task(account, days_ago=-1)
    mark = audit_mark()
    response = signed_in(officer).post(
        f"/cases/{account.pk}/interactions/new/", {"outcome": "no_answer", "channel": "phone"}
    )
    assert response.status_code == 303
    interaction = Interaction.objects.get(account=account)
    statuses = dict(CallTask.objects.filter(account=account).values_list("pk", "status"))
    assert statuses == {yesterday.pk: "done", today.pk: "done", tomorrow.pk: "open"}
    closing = events_since(mark, object_type="calltask")
    assert sorted(event.object_id for event in closing) == sorted([str(yesterday.pk), str(today.pk)])
    for event in closing:
        assert event.action == "update"
        assert event.persons == [f"borrower:{account.borrower_id}"]
        assert event.detail == {"account_id": account.pk, "status": "done", "interaction_id": interaction.pk}


@time_machine.travel(CALL_HOURS, tick=False)
def test_an_interaction_by_another_channel_leaves_the_call_task_open(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    interaction_log(account=account, officer=officer, outcome="no_answer", channel=Interaction.Channel.SMS)
    task.refresh_from_db()
    assert task.status == CallTask.Status.OPEN


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_call_logged_for_an_earlier_day_leaves_later_tasks_open(officer: User) -> None:
    account = make_account(officer, dpd=12)
    older, today = make_task(account, days_ago=3), make_task(account)
    interaction_log(
        account=account, officer=officer, outcome="refused", occurred_at=timezone.now() - datetime.timedelta(days=2)
    )
    statuses = dict(CallTask.objects.filter(account=account).values_list("pk", "status"))
    assert statuses == {older.pk: "done", today.pk: "open"}


@time_machine.travel(CALL_HOURS, tick=False)
def test_the_call_and_its_task_closing_are_one_transaction(officer: User, monkeypatch) -> None:
    from audit.record import AuditWriteError
    from audit.record import audit_record as real_audit_record

    account = make_account(officer, dpd=12)
    task = make_task(account)

    def refuse_task_events(**kwargs: object) -> object:
        if kwargs.get("object_type") == "calltask":
            raise AuditWriteError("database refused the insert")
        return real_audit_record(**kwargs)

    monkeypatch.setattr("collections_app.services.call_tasks.audit_record", refuse_task_events)
    before = AuditEvent.objects.count()
    with pytest.raises(AuditWriteError):
        interaction_log(account=account, officer=officer, outcome="no_answer")
    assert not Interaction.objects.filter(account=account).exists()
    task.refresh_from_db()
    assert task.status == CallTask.Status.OPEN
    assert AuditEvent.objects.count() == before
