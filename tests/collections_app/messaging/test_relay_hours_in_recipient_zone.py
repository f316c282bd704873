"""The relay re-checks allowed hours in the recipient's zone, not the lender's (Asia/Shanghai), at a pinned clock.

Both instants are chosen so that the two zones disagree: a relay that judged by the lender's zone would send
when it must wait, and wait when it must send, whatever the real hour of the run. The clock is pinned for
Python; the relay compares `not_before` (written by message_enqueue from the same pinned clock) with that
clock, so PostgreSQL's real now() takes no part in the decision.
"""

import datetime
import json

import pytest
import time_machine
from django.conf import settings

from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.relay import relay_run
from collections_app.messaging.rules import allowed_hours
from collections_app.models import Borrower, LoanAccount, Message
from tests.collections_app.messaging.messaging_support import NEW_YORK, SHANGHAI, ladder_version, policy
from tests.factories import make_account

pytestmark = pytest.mark.django_db

# 09:30 in Shanghai is 20:30 the day before in New York (EST): inside allowed hours in both zones.
BOTH_OPEN = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
# 10:30 in Shanghai is 21:30 in New York: open for the lender, closed for the recipient.
ONLY_LENDER_OPEN = datetime.datetime(2026, 3, 2, 10, 30, tzinfo=SHANGHAI)
# 23:30 in Shanghai is 10:30 in New York: closed for the lender, open for the recipient.
ONLY_RECIPIENT_OPEN = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)
# 07:00 in New York is 20:00 in Shanghai: open for the lender, not yet for the recipient.
NY_EARLY = datetime.datetime(2026, 3, 2, 7, 0, tzinfo=NEW_YORK)


@pytest.fixture
def gateway_file(settings, tmp_path):
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


def witnessed(path) -> list[str]:
    return [json.loads(line)["idempotency_key"] for line in path.read_text().splitlines()] if path.exists() else []


def new_york_account() -> LoanAccount:
    account = make_account(today=BOTH_OPEN.date())
    Borrower.objects.filter(pk=account.borrower_id).update(timezone="America/New_York")
    account.borrower.refresh_from_db()
    return account


def enqueue(account: LoanAccount, key: str) -> Message:
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience=Message.Audience.BORROWER,
        channel=Message.Channel.SMS,
        template_version=ladder_version(),
        policy_version=policy(),
        idempotency_key=key,
    )


def open_in(zone: str, moment: datetime.datetime) -> bool:
    version = policy()
    return allowed_hours(
        now=moment, timezone_name=zone, window_start=version.send_window_start, window_end=version.send_window_end
    ).allowed


def test_the_instants_disagree_between_the_zones():
    """The two tests below mean something only while the lender's zone and the recipient's disagree."""
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert open_in("Asia/Shanghai", BOTH_OPEN) and open_in("America/New_York", BOTH_OPEN)
    assert open_in("Asia/Shanghai", ONLY_LENDER_OPEN) and not open_in("America/New_York", ONLY_LENDER_OPEN)
    assert not open_in("Asia/Shanghai", ONLY_RECIPIENT_OPEN) and open_in("America/New_York", ONLY_RECIPIENT_OPEN)
    assert open_in("Asia/Shanghai", NY_EARLY) and not open_in("America/New_York", NY_EARLY)


def test_a_message_waits_for_the_recipients_window_while_the_lenders_is_open(gateway_file):
    account = new_york_account()
    # 07:00 in New York is 20:00 in Shanghai: closed for the recipient, open for the lender.
    with time_machine.travel(NY_EARLY, tick=False):
        message = enqueue(account, "ny-early")
    assert message.status == Message.Status.WAITING
    # Due at once, as the ladder queues its reminders: the relay sees it before the window opens.
    Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED, not_before=NY_EARLY)
    with time_machine.travel(NY_EARLY + datetime.timedelta(minutes=30), tick=False):
        stats = relay_run()
    assert (stats.sent, stats.suppressed) == (0, 0)
    assert witnessed(gateway_file) == []
    message.refresh_from_db()
    assert message.status == Message.Status.WAITING
    # The window opens at 08:00 that morning in New York, not in Shanghai.
    assert message.not_before == datetime.datetime(2026, 3, 2, 8, 0, tzinfo=NEW_YORK)


def test_a_reminder_queued_in_hours_is_stale_when_the_relay_runs_after_the_recipients_window_closed(gateway_file):
    account = new_york_account()
    with time_machine.travel(BOTH_OPEN, tick=False):
        message = enqueue(account, "ny-late")
    assert message.status == Message.Status.QUEUED
    with time_machine.travel(ONLY_LENDER_OPEN, tick=False):
        stats = relay_run()
    # It is 21:30 in New York: the window opens again on the next day there, when this day's reminder is stale.
    assert (stats.sent, stats.waiting, stats.suppressed) == (0, 0, 1)
    assert witnessed(gateway_file) == []
    message.refresh_from_db()
    assert (message.status, message.status_reason) == (Message.Status.SUPPRESSED, "stale")


def test_a_message_due_in_the_recipients_hours_goes_out_while_it_is_night_for_the_lender(gateway_file):
    account = new_york_account()
    with time_machine.travel(ONLY_RECIPIENT_OPEN, tick=False):
        message = enqueue(account, "ny-morning")
        assert message.status == Message.Status.QUEUED
        stats = relay_run()
    assert (stats.sent, stats.waiting) == (1, 0)
    assert witnessed(gateway_file) == ["ny-morning"]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
