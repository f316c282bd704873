"""Allowed hours [08:00, 21:00) in the recipient's own time zone, at the boundaries, in two zones."""

import datetime
import zoneinfo

import pytest
import time_machine

from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.rules import allowed_hours
from collections_app.models import Borrower, Message
from tests.collections_app.messaging.messaging_support import ladder_version, policy
from tests.factories import make_account

START, END = datetime.time(8, 0), datetime.time(21, 0)
ZONES = ["Asia/Shanghai", "America/New_York"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("clock", "allowed"),
    [((7, 59), False), ((8, 0), True), ((20, 59), True), ((21, 0), False), ((0, 0), False), ((12, 0), True)],
)
def test_boundaries_in_the_recipients_zone(zone, clock, allowed):
    local = datetime.datetime(2026, 3, 10, *clock, tzinfo=zoneinfo.ZoneInfo(zone))
    decision = allowed_hours(now=local.astimezone(datetime.UTC), timezone_name=zone, window_start=START, window_end=END)
    assert decision.allowed is allowed
    if not allowed:
        expected_day = local.date() if clock < (8, 0) else local.date() + datetime.timedelta(days=1)
        assert decision.next_open == datetime.datetime.combine(expected_day, START, tzinfo=zoneinfo.ZoneInfo(zone))


def test_same_instant_is_allowed_in_one_zone_and_not_in_the_other():
    # 09:30 in Shanghai is 20:30 the day before in New York (EST, UTC-5); 10:30 in Shanghai is 21:30 there.
    instant = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert allowed_hours(now=instant, timezone_name="Asia/Shanghai", window_start=START, window_end=END).allowed
    assert allowed_hours(now=instant, timezone_name="America/New_York", window_start=START, window_end=END).allowed
    later = instant + datetime.timedelta(hours=1)
    assert allowed_hours(now=later, timezone_name="Asia/Shanghai", window_start=START, window_end=END).allowed
    assert not allowed_hours(now=later, timezone_name="America/New_York", window_start=START, window_end=END).allowed


def test_opening_after_a_dst_change_is_wall_clock_eight():
    # New York springs forward on 2026-03-08: the window opens at 08:00 EDT (12:00 UTC), not 13:00 UTC.
    night = datetime.datetime(2026, 3, 7, 23, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    decision = allowed_hours(now=night, timezone_name="America/New_York", window_start=START, window_end=END)
    assert decision.next_open.astimezone(datetime.UTC) == datetime.datetime(2026, 3, 8, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("clock", "status"), [((7, 59), "waiting"), ((8, 0), "queued"), ((20, 59), "queued"), ((21, 0), "waiting")]
)
def test_enqueue_uses_the_borrowers_zone(zone, clock, status):
    # Ten days past due on the day of the message: the gate's other rules let an overdue reminder through.
    account = make_account(today=datetime.date(2026, 3, 10))
    Borrower.objects.filter(pk=account.borrower_id).update(timezone=zone)
    account.borrower.refresh_from_db()
    moment = datetime.datetime(2026, 3, 10, *clock, tzinfo=zoneinfo.ZoneInfo(zone))
    with time_machine.travel(moment, tick=False):
        message = message_enqueue(
            borrower=account.borrower,
            account=account,
            audience=Message.Audience.BORROWER,
            channel=Message.Channel.SMS,
            template_version=ladder_version(),
            policy_version=policy(),
            idempotency_key=f"q-{zone}-{clock}",
        )
    assert message.status == status
    assert message.recipient_timezone == zone
