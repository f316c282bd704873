"""run_escalation outside a transaction: call tasks on a second connection, messages on the first.

The rest of the escalation tests run inside the test's transaction, where a second connection could not see
their rows, so escalation takes the one-connection path there; these commit for real.
"""

import datetime

import pytest

import collections_app.messaging.ladder_calls as call_half
from audit.models import AuditEvent
from collections_app.messaging.ladder import escalation_run
from collections_app.models import CallTask, Message
from tests.factories import make_account

# The second connection is PostgreSQL's alone: on SQLite escalation writes both halves on one connection.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql_only]
TODAY = datetime.date(2026, 3, 10)


def test_both_halves_are_written_counted_and_idempotent() -> None:
    overdue = [make_account(dpd=dpd, today=TODAY) for dpd in (3, 30, 45)]
    make_account(dpd=-10, today=TODAY)  # not due: nothing for it
    lines: list[str] = []
    stats = escalation_run(today=TODAY, progress=lines.append)
    assert stats.call_tasks == CallTask.objects.count() == 2  # DPD 30 and 45 get calls under cn-default
    assert stats.messages == Message.objects.count() > 0
    assert set(Message.objects.values_list("account", flat=True)) == {account.pk for account in overdue}
    assert AuditEvent.objects.filter(object_type="message").count() == stats.messages
    assert any(line.endswith("call tasks: 2") for line in lines)
    again = escalation_run(today=TODAY)
    assert (again.messages, again.call_tasks) == (0, 0)


def test_a_failing_call_task_half_is_reported_and_the_messages_stand(monkeypatch) -> None:
    make_account(dpd=30, today=TODAY)

    def fail(policy, today, zones) -> int:
        raise RuntimeError("call tasks failed")

    monkeypatch.setattr(call_half, "insert_call_tasks", fail)
    with pytest.raises(RuntimeError, match="call tasks failed"):
        escalation_run(today=TODAY)
    assert Message.objects.exists() and not CallTask.objects.exists()
    monkeypatch.undo()
    assert escalation_run(today=TODAY).call_tasks == 1  # the next run completes the day
