"""The relay asks the contact gate again for every message just before the hand-off, borrower messages included.

What changed between queueing and sending (paid off, a dispute, a representative, a vulnerable customer, a gap
in relaying) suppresses the message with CONTRACT.md's reason code and its event; it never reaches the gateway.
The clock is pinned: the relay decides at the pinned instant, whatever the real hour of the run.
"""

import datetime
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from collections_app.messaging.ladder import escalation_run
from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_batch, relay_run
from collections_app.models import Borrower, BorrowerFlag, Flag, LoanAccount, Message
from collections_app.services.borrower_flags import borrower_flag_set
from tests.collections_app.messaging.messaging_support import (
    DAYTIME,
    NEW_YORK,
    SHANGHAI,
    family_version,
    ladder_version,
    policy,
)
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_file(settings, tmp_path):
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


def witnessed(path) -> list[str]:
    return [json.loads(line)["idempotency_key"] for line in path.read_text().splitlines()] if path.exists() else []


def enqueue(account: LoanAccount, key: str, channel: str = "sms", stage: str = "overdue") -> Message:
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel=channel,
        template_version=ladder_version(stage=stage, channel=channel),
        policy_version=policy(),
        idempotency_key=key,
    )


def suppressed_with(message: Message) -> tuple[str, str]:
    message.refresh_from_db()
    event = AuditEvent.objects.get(action="message_suppressed", object_id=str(message.pk))
    assert event.detail["reason"] == message.status_reason
    return message.status, message.status_reason


@time_machine.travel(DAYTIME, tick=False)
def test_an_account_paid_off_between_queueing_and_sending_is_suppressed_and_never_sent(gateway_file):
    paid, owing = make_account(), make_account()
    paid_message, owing_message = enqueue(paid, "paid-off"), enqueue(owing, "still-owing")
    assert paid_message.status == owing_message.status == "queued"
    # The core system reports the payment in full behind the outbox's back: only the hand-off check can stop it.
    LoanAccount.objects.filter(pk=paid.pk).update(oldest_unpaid_due_date=None, outstanding=0)
    stats = relay_run()
    assert (stats.sent, stats.suppressed) == (1, 1)
    assert suppressed_with(paid_message) == ("suppressed", "paid")
    assert witnessed(gateway_file) == ["still-owing"]


@time_machine.travel(DAYTIME, tick=False)
def test_a_dispute_opened_between_queueing_and_sending_suppresses_the_reminder(gateway_file, officer):
    account = make_account()
    message = enqueue(account, "disputed")
    Flag.objects.create(
        account=account, kind="dispute", opened_reason="not my loan", opened_by=officer, opened_at=DAYTIME
    )
    relay_run()
    assert suppressed_with(message) == ("suppressed", "paused")
    assert witnessed(gateway_file) == []


@time_machine.travel(DAYTIME, tick=False)
def test_a_night_time_reminder_waits_and_still_is_checked_when_the_window_opens(gateway_file):
    """The issue's case: queued at night for 08:00, paid in full before then."""
    account = make_account()
    with time_machine.travel(DAYTIME.replace(hour=23), tick=False):
        message = enqueue(account, "night")
    assert message.status == "waiting"
    LoanAccount.objects.filter(pk=account.pk).update(oldest_unpaid_due_date=None, outstanding=0)
    with time_machine.travel(DAYTIME.replace(day=11, hour=8), tick=False):
        relay_run()
    assert suppressed_with(message) == ("suppressed", "paid")
    assert witnessed(gateway_file) == []


def test_a_due_soon_reminder_is_not_sent_after_a_gap_in_relaying(gateway_file):
    """The ladder queues a due-soon notice the day before the due date; the relay next runs three days later."""
    due_day = datetime.date(2026, 3, 11)
    account = make_account(dpd=-1, today=due_day - datetime.timedelta(days=1))
    run_at = datetime.datetime(2026, 3, 10, 7, 30, tzinfo=SHANGHAI)
    with time_machine.travel(run_at, tick=False):
        escalation_run(today=due_day - datetime.timedelta(days=1))
    sms = Message.objects.get(account=account, channel="sms")
    assert (sms.template_version.template.code, sms.send_date) == ("ladder-pre-due-sms", run_at.date())
    # The ladder's statement takes `not_before` from the database's clock: pin it to the run as well.
    Message.objects.filter(account=account).update(not_before=run_at)
    with time_machine.travel(datetime.datetime(2026, 3, 14, 10, 0, tzinfo=SHANGHAI), tick=False):
        stats = relay_run()
    assert (stats.sent, stats.suppressed) == (0, 2)  # the SMS and the in-app notice
    assert suppressed_with(sms) == ("suppressed", "stale")
    assert witnessed(gateway_file) == []


def test_a_due_soon_notice_queued_by_hand_is_stale_on_its_due_date(gateway_file):
    """Within its send day still, a "due soon" notice is stale once the due date has come."""
    account = make_account(dpd=-1, today=datetime.date(2026, 3, 10))
    with time_machine.travel(datetime.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI), tick=False):
        message = enqueue(account, "due-soon", stage="pre-due")
    assert message.status == "waiting"  # for 08:00 on the due date itself
    with time_machine.travel(datetime.datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI), tick=False):
        relay_run()
    assert suppressed_with(message) == ("suppressed", "stale")
    assert witnessed(gateway_file) == []


@pytest.mark.parametrize("kind", ["represented", "vulnerable"])
@time_machine.travel(DAYTIME, tick=False)
def test_a_flagged_borrowers_reminder_is_suppressed_at_hand_off(gateway_file, officer, kind):
    account = make_account()
    message = enqueue(account, f"flagged-{kind}")
    # Written behind the service's back, as by a concurrent transaction: only the relay's re-check stops it.
    BorrowerFlag.objects.create(
        borrower=account.borrower,
        kind=kind,
        representative="Li & Partners, +861012345678" if kind == "represented" else "",
        opened_reason="told us on the phone",
        opened_by=officer,
        opened_at=DAYTIME,
    )
    relay_run()
    assert suppressed_with(message) == ("suppressed", kind)
    assert witnessed(gateway_file) == []


@time_machine.travel(DAYTIME, tick=False)
def test_setting_a_flag_suppresses_what_is_queued_at_once(gateway_file, officer):
    account = make_account()
    message = enqueue(account, "queued-before-the-flag")
    borrower_flag_set(
        borrower=account.borrower, account=account, officer=officer, kind="vulnerable", reason="bereavement"
    )
    assert suppressed_with(message) == ("suppressed", "vulnerable")
    assert relay_run().sent == 0
    assert witnessed(gateway_file) == []


def test_the_daily_cap_counts_the_recipients_day_not_the_lenders(gateway_file):
    """Two SMS on one New York day, on two Shanghai days: the second is over the cap of one a day."""
    account = make_account(today=datetime.date(2026, 3, 9))
    Borrower.objects.filter(pk=account.borrower_id).update(timezone="America/New_York")
    account.borrower.refresh_from_db()
    morning = datetime.datetime(2026, 3, 9, 9, 0, tzinfo=NEW_YORK)  # 21:00 on 9 March in Shanghai
    evening = datetime.datetime(2026, 3, 9, 20, 0, tzinfo=NEW_YORK)  # 08:00 on 10 March in Shanghai
    with time_machine.travel(morning, tick=False):
        first = enqueue(account, "ny-morning")
        relay_run()
    with time_machine.travel(evening, tick=False):
        second = enqueue(account, "ny-evening")
        relay_run()
    first.refresh_from_db()
    assert (first.status, first.send_date) == ("sent", datetime.date(2026, 3, 9))
    assert suppressed_with(second) == ("suppressed", "cap")
    assert witnessed(gateway_file) == ["ny-morning"]


@pytest.mark.postgresql_only  # the SQLite demo's relay records each status move row by row
@time_machine.travel(DAYTIME, tick=False)
def test_the_hand_off_check_is_a_fixed_number_of_queries_per_batch(gateway_file):
    """Set-based: the gate's facts for a batch are read at once, not once per message."""

    def queries_for(count: int, prefix: str) -> int:
        for n in range(count):
            enqueue(make_account(), f"{prefix}-{n}")
        with CaptureQueriesContext(connection) as captured:
            assert relay_batch(batch_size=100).sent == count
        return len(captured)

    assert queries_for(3, "few") == queries_for(30, "many")


@time_machine.travel(DAYTIME, tick=False)
def test_a_family_message_meets_the_contact_gate_before_reviews_send_gate(gateway_file, officer, approver):
    """No approved request stands behind this message (review's gate would say `request_cancelled`): the contact
    gate's `paid` comes first."""
    account = make_account()
    contact = make_contact(account.borrower)
    message = message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience="family",
        channel="sms",
        template_version=family_version(officer, approver),
        policy_version=policy(),
        idempotency_key="family-paid",
    )
    LoanAccount.objects.filter(pk=account.pk).update(oldest_unpaid_due_date=None)
    relay_run()
    assert suppressed_with(message) == ("suppressed", "paid")
    assert witnessed(gateway_file) == []


@time_machine.travel(DAYTIME, tick=False)
def test_a_family_message_in_the_same_batch_does_not_count_against_the_borrowers_cap(
    gateway_file, officer, approver, settings
):
    settings.MESSAGE_SEND_GATES = []  # no request stands behind the family message: review's gate stays out
    account = make_account()
    family = message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=make_contact(account.borrower),
        audience="family",
        channel="sms",
        template_version=family_version(officer, approver),
        policy_version=policy(),
        idempotency_key="family-first",
    )
    reminder = enqueue(account, "borrower-second")
    assert family.pk < reminder.pk
    assert relay_batch(batch_size=10).sent == 2
    assert witnessed(gateway_file) == ["family-first", "borrower-second"]
