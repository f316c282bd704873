"""The contact gate as a pure function: each rule refuses on its own, every reason is listed, in a fixed order.

No database: `contact_gate` decides from plain facts and a policy version's numbers, at an explicit instant.
"""

import dataclasses
import datetime
import zoneinfo

from django.utils.translation import gettext

from collections_app.messaging.contact_gate import (
    SEND,
    SUPPRESS,
    WAIT,
    ContactFacts,
    contact_gate,
    hand_off,
    ladder_stage,
)
from collections_app.messaging.rules import CallFact
from collections_app.models import PolicyVersion

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 10:00 in Shanghai on 2026-03-10: inside allowed hours; the lender's day is 2026-03-10 as well.
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
OVERDUE = TODAY - datetime.timedelta(days=10)
CN = PolicyVersion()  # the cn-default numbers: 08:00-21:00, one message a channel a day, 3 connected calls a day
SMS = ContactFacts(channel="sms", zone="Asia/Shanghai", unpaid_due_date=OVERDUE, stage="overdue", messages_by_day={})
CALL = ContactFacts(channel="voice", zone="Asia/Shanghai", unpaid_due_date=OVERDUE)


def codes(facts: ContactFacts, now: datetime.datetime = NOW, policy: PolicyVersion = CN) -> tuple[str, ...]:
    return contact_gate(facts, policy=policy, now=now).codes


def test_an_overdue_unflagged_borrower_may_be_messaged_and_called_in_hours():
    assert codes(SMS) == ()
    decision = contact_gate(CALL, policy=CN, now=NOW)
    assert decision.allowed
    assert (decision.connected_today, decision.connected_cap, decision.attempts) == (0, 3, 0)
    assert decision.local_clock == "10:00 (Asia/Shanghai)"


def test_each_standing_rule_refuses_with_its_own_code():
    cases = {
        "paid": {"unpaid_due_date": None},
        "ceased": {"ceased": True},
        "represented": {"represented": True},
        "vulnerable": {"vulnerable": True},
        "paused": {"paused": True},
        "channel_stopped": {"channel_stopped": True},
    }
    for code, change in cases.items():
        assert codes(dataclasses.replace(SMS, **change)) == (code,), code


def test_an_opt_out_belongs_to_a_contacts_phone_and_a_stop_to_the_borrower():
    assert codes(dataclasses.replace(CALL, to_contact=True, opted_out=True)) == ("opted_out",)
    assert codes(dataclasses.replace(CALL, opted_out=True)) == ()
    assert codes(dataclasses.replace(CALL, to_contact=True, channel_stopped=True)) == ()


def test_every_reason_is_listed_most_decisive_first():
    everything = dataclasses.replace(
        SMS, unpaid_due_date=None, ceased=True, represented=True, vulnerable=True, paused=True, channel_stopped=True
    )
    night = NOW.replace(hour=23)
    assert codes(everything, now=night) == (
        "paid",
        "ceased",
        "represented",
        "vulnerable",
        "paused",
        "channel_stopped",
        "outside_hours",
    )
    assert hand_off(contact_gate(everything, policy=CN, now=night)) == (SUPPRESS, "paid")


def test_an_overdue_reminder_needs_a_day_past_due_and_a_due_day_notice_its_due_date():
    due_tomorrow = TODAY + datetime.timedelta(days=1)
    assert codes(dataclasses.replace(SMS, unpaid_due_date=TODAY)) == ("paid",)
    assert codes(dataclasses.replace(SMS, stage="due", unpaid_due_date=TODAY)) == ()
    assert codes(dataclasses.replace(SMS, stage="due", unpaid_due_date=due_tomorrow)) == ("paid",)
    assert codes(dataclasses.replace(SMS, stage="pre-due", unpaid_due_date=due_tomorrow)) == ()


def test_a_due_soon_notice_is_stale_once_the_due_date_has_come():
    due_soon = dataclasses.replace(SMS, stage="pre-due", unpaid_due_date=TODAY)
    decision = contact_gate(due_soon, policy=CN, now=NOW)
    assert decision.codes == ("stale",)
    assert gettext("the due date has come") in decision.reasons[0].text


def test_a_reminder_is_stale_once_its_send_day_is_over_in_the_recipients_zone():
    reminder = dataclasses.replace(SMS, send_day=TODAY)
    assert codes(reminder) == ()
    assert codes(reminder, now=NOW + datetime.timedelta(days=1)) == ("stale",)
    # At 22:00 its day is not over, but the window opens again only tomorrow: stale, not waiting.
    assert hand_off(contact_gate(reminder, policy=CN, now=NOW.replace(hour=22))) == (SUPPRESS, "stale")
    # At 07:00 on its day it waits for 08:00.
    early = contact_gate(reminder, policy=CN, now=NOW.replace(hour=7))
    assert hand_off(early) == (WAIT, "outside_hours")
    # 22:00 in Shanghai is 10:00 in New York (EDT) on the same day: still the reminder's day there, in hours.
    new_york = dataclasses.replace(reminder, zone="America/New_York")
    assert hand_off(contact_gate(new_york, policy=CN, now=NOW.replace(hour=22))) == (SEND, "")


def test_the_daily_message_cap_counts_the_recipients_day_and_waits_at_night():
    capped = dataclasses.replace(SMS, messages_by_day={TODAY: 1})
    assert codes(capped) == ("cap",)
    assert hand_off(contact_gate(capped, policy=CN, now=NOW)) == (SUPPRESS, "cap")
    # Yesterday's message does not count today; at night the cap is asked again when the window opens.
    assert codes(dataclasses.replace(SMS, messages_by_day={TODAY - datetime.timedelta(days=1): 1})) == ()
    assert hand_off(contact_gate(capped, policy=CN, now=NOW.replace(hour=23))) == (WAIT, "outside_hours")


def test_the_fourth_connected_call_of_a_day_is_refused_an_automated_voice_call_counted():
    calls = (
        CallFact(TODAY, connected=True),
        CallFact(TODAY, connected=True),
        CallFact(TODAY, connected=True, automated=True),
    )
    decision = contact_gate(dataclasses.replace(CALL, calls=calls), policy=CN, now=NOW)
    assert decision.codes == ("cap",)
    assert gettext("%(n)d of %(cap)d connected calls today") % {"n": 3, "cap": 3} in decision.reasons[0].text
    assert (decision.connected_today, decision.attempts) == (3, 3)
    assert contact_gate(dataclasses.replace(CALL, calls=calls[:2]), policy=CN, now=NOW).allowed


def test_call_attempts_and_the_pause_after_a_conversation_under_reg_f():
    reg_f = PolicyVersion(max_connected_calls_per_day=None, max_call_attempts=7, no_calls_after_conversation_days=7)
    week = tuple(CallFact(TODAY - datetime.timedelta(days=n), connected=False) for n in range(7))
    decision = contact_gate(dataclasses.replace(CALL, calls=week), policy=reg_f, now=NOW)
    assert decision.codes == ("cap",)
    attempts = gettext("%(n)d of %(cap)d call attempts in %(days)d days") % {"n": 7, "cap": 7, "days": 7}
    assert attempts in decision.reasons[0].text
    talked = (CallFact(TODAY - datetime.timedelta(days=6), connected=True),)
    assert codes(dataclasses.replace(CALL, calls=talked), policy=reg_f) == ("cap",)
    # An automated voice call is no conversation.
    robot = (CallFact(TODAY - datetime.timedelta(days=1), connected=True, automated=True),)
    assert codes(dataclasses.replace(CALL, calls=robot), policy=reg_f) == ()


def test_a_call_task_is_stale_once_its_day_is_over_or_the_call_was_made():
    task = dataclasses.replace(CALL, task_day=TODAY)
    assert codes(task) == ()
    assert codes(dataclasses.replace(task, task_day=TODAY - datetime.timedelta(days=1))) == ("stale",)
    assert codes(dataclasses.replace(task, calls=(CallFact(TODAY, connected=False),))) == ("stale",)


def test_a_call_outside_hours_names_the_recipients_clock():
    decision = contact_gate(dataclasses.replace(CALL, zone="America/New_York"), policy=CN, now=NOW)
    assert decision.codes == ("outside_hours",)
    # 10:00 in Shanghai is 22:00 the day before in New York (EDT since 8 March).
    assert "22:00" in decision.reasons[0].text and "08:00" in decision.reasons[0].text
    assert decision.local_clock == "22:00 (America/New_York)"


def test_the_ladder_stage_comes_from_the_template_code():
    assert [ladder_stage(code) for code in ("ladder-pre-due-sms", "ladder-due-in_app", "ladder-overdue-sms-en")] == [
        "pre-due",
        "due",
        "overdue",
    ]
    assert ladder_stage("family-callback") is None and ladder_stage(None) is None
