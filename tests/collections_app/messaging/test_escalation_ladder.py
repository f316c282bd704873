"""run_escalation: the ladder's schedule, idempotency per day, pauses and caps."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.masking import MaskedName, mask_name
from collections_app.messaging.consent import cease_request_record, channel_stop_record
from collections_app.messaging.ladder import escalation_run
from collections_app.models import (
    Borrower,
    CallTask,
    Flag,
    Interaction,
    Message,
    MessageTemplate,
    PromiseToPay,
)
from tests.factories import make_account, make_borrower, make_contact, make_payment, make_plan, make_portfolio

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


def account_at(dpd, **extra):
    return make_account(dpd=dpd, today=TODAY, **extra)


def sent_channels(account) -> set[str]:
    return set(Message.objects.filter(account=account).values_list("channel", flat=True))


def test_schedule_follows_the_default_ladder():
    expected = {
        -4: set(),
        -3: {"sms", "in_app"},
        -2: set(),
        -1: {"sms", "in_app"},
        0: {"sms", "in_app"},
        1: {"sms", "in_app"},
        2: {"in_app"},
        3: {"sms", "in_app"},
        7: {"sms", "in_app"},
        8: {"in_app"},
        10: {"sms", "in_app"},
        29: {"in_app"},
        30: {"sms", "in_app"},
        31: {"in_app"},
        37: {"sms", "in_app"},
        44: {"sms", "in_app"},
        45: {"in_app"},
    }
    accounts = {dpd: account_at(dpd) for dpd in expected}
    paid = account_at(None)
    stats = escalation_run(today=TODAY)
    for dpd, channels in expected.items():
        assert sent_channels(accounts[dpd]) == channels, dpd
    assert sent_channels(paid) == set()
    tasks = set(CallTask.objects.values_list("account__oldest_unpaid_due_date", flat=True))
    assert {(TODAY - due).days for due in tasks} == {d for d in expected if d >= 8}
    assert stats.messages == Message.objects.count() == sum(len(c) for c in expected.values())
    assert not Message.objects.filter(audience="family").exists()


def test_running_twice_on_one_day_queues_nothing_twice():
    for dpd in (-3, 0, 1, 10, 30):
        account_at(dpd)
    first = escalation_run(today=TODAY)
    second = escalation_run(today=TODAY)
    assert first.messages > 0 and first.call_tasks > 0
    assert (second.messages, second.call_tasks) == (0, 0)
    assert Message.objects.count() == first.messages
    assert AuditEvent.objects.filter(action="message_queued").count() == first.messages


def test_each_message_is_queued_rendered_keyed_and_audited():
    account = account_at(1)
    Borrower.objects.filter(pk=account.borrower_id).update(name="王小明")
    escalation_run(today=TODAY)
    sms = Message.objects.get(account=account, channel="sms")
    assert sms.status == "queued" and sms.audience == "borrower"
    assert sms.idempotency_key == f"esc:{account.pk}:{TODAY}:sms"
    assert sms.body.startswith("王**您好") and "95188" in sms.body and "{" not in sms.body
    assert sms.recipient == account.borrower.phone
    assert Message.objects.get(account=account, channel="in_app").recipient == f"app:{account.borrower.external_ref}"
    assert (
        sms.policy_version.profile.code == "cn-default" and sms.template_version.template.code == "ladder-overdue-sms"
    )
    event = AuditEvent.objects.get(action="message_queued", object_id=str(sms.pk))
    assert event.persons == [f"borrower:{account.borrower_id}"] and event.detail["source"] == "escalation"


def test_one_message_per_channel_per_borrower_per_day():
    first = account_at(1)
    second = account_at(3, borrower=first.borrower)
    escalation_run(today=TODAY)
    assert Message.objects.filter(borrower=first.borrower, channel="sms").count() == 1
    assert Message.objects.filter(borrower=first.borrower, channel="in_app").count() == 1
    assert Message.objects.get(borrower=first.borrower, channel="sms").account == second


@time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_pauses_stop_messages_and_call_tasks(officer):
    promised = account_at(10)
    PromiseToPay.objects.create(
        account=promised, promised_date=TODAY - datetime.timedelta(days=1), amount=Decimal("100"), created_by=officer
    )
    promise_broken = account_at(10)
    PromiseToPay.objects.create(
        account=promise_broken,
        promised_date=TODAY - datetime.timedelta(days=2),
        amount=Decimal("100"),
        created_by=officer,
    )
    promise_kept_before = account_at(10)
    promise = PromiseToPay.objects.create(
        account=promise_kept_before,
        promised_date=TODAY + datetime.timedelta(days=3),
        amount=Decimal("100"),
        created_by=officer,
    )
    make_payment(promise_kept_before, Decimal("100"), paid_at=promise.created_at)
    planned = account_at(10)
    make_plan(planned, officer, instalments=[(TODAY + datetime.timedelta(days=5), Decimal("50"))])
    plan_missed = account_at(10)
    make_plan(plan_missed, officer, instalments=[(TODAY - datetime.timedelta(days=1), Decimal("50"))])
    disputed = account_at(10)
    Flag.objects.create(
        account=disputed, kind="dispute", opened_reason="x", opened_by=officer, opened_at=timezone.now()
    )
    hardship_closed = account_at(10)
    Flag.objects.create(
        account=hardship_closed,
        kind="hardship",
        opened_reason="x",
        opened_by=officer,
        opened_at=timezone.now(),
        closed_reason="resolved",
        closed_by=officer,
        closed_at=timezone.now(),
    )
    ceased = account_at(10)
    cease_request_record(borrower=ceased.borrower, actor=officer)
    sms_stopped = account_at(10)
    channel_stop_record(borrower=sms_stopped.borrower, channel="sms", actor=officer)

    escalation_run(today=TODAY)
    for paused in (promised, planned, disputed, ceased):
        assert sent_channels(paused) == set()
        assert not CallTask.objects.filter(account=paused).exists()
    for active in (promise_broken, promise_kept_before, plan_missed, hardship_closed):
        assert sent_channels(active) == {"sms", "in_app"}
        assert CallTask.objects.filter(account=active).exists()
    assert sent_channels(sms_stopped) == {"in_app"}


def test_us_regf_call_caps(officer):
    portfolio = make_portfolio("us", "us-regf")
    attempted = account_at(10, portfolio=portfolio)
    for day in range(7):
        Interaction.objects.create(
            account=attempted,
            officer=officer,
            outcome="no_answer",
            occurred_at=timezone.now().replace(year=2026, month=3, day=9 - day % 6, hour=4),
        )
    talked = account_at(10, portfolio=portfolio)
    Interaction.objects.create(
        account=talked,
        officer=officer,
        outcome="refused",
        occurred_at=timezone.now().replace(year=2026, month=3, day=5),
    )
    fresh = account_at(10, portfolio=portfolio)
    escalation_run(today=TODAY)
    assert set(CallTask.objects.values_list("account", flat=True)) == {fresh.pk}


def test_cn_default_connected_call_cap(officer):
    busy = account_at(10)
    for hour in (2, 3, 4):
        Interaction.objects.create(
            account=busy,
            officer=officer,
            outcome="refused",
            occurred_at=datetime.datetime(2026, 3, 10, hour, tzinfo=datetime.UTC),
        )
    quiet = account_at(10)
    escalation_run(today=TODAY)
    assert set(CallTask.objects.values_list("account", flat=True)) == {quiet.pk}


def test_never_family_messages_even_with_contacts():
    account = account_at(45)
    make_contact(account.borrower)
    escalation_run(today=TODAY)
    assert set(Message.objects.values_list("audience", flat=True)) == {"borrower"}


def test_sql_masked_name_matches_the_masking_helper():
    names = ["张三丰", "李", "Alice", "O'Brien", "欧阳娜娜"]
    borrowers = []
    for name in names:
        account = account_at(1)
        Borrower.objects.filter(pk=account.borrower_id).update(name=name)
        borrowers.append(account.borrower_id)
    masked = dict(Borrower.objects.filter(pk__in=borrowers).annotate(m=MaskedName("name")).values_list("name", "m"))
    assert masked == {name: mask_name(name) for name in names}


def test_command_prints_progress_and_summary():
    account_at(1)
    out = StringIO()
    call_command("run_escalation", "--date", TODAY.isoformat(), stdout=out)
    text = out.getvalue()
    assert "cn-default overdue sms: 1 messages" in text and "2 messages queued" in text


def test_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_escalation", "--date", "10/03/2026")


def test_a_call_already_made_today_means_no_call_task_today(officer):
    called_today = account_at(30)
    called_yesterday = account_at(30)
    texted_today = account_at(30)
    for account, day, channel in (
        (called_today, 10, "phone"),
        (called_yesterday, 9, "phone"),
        (texted_today, 10, "sms"),
    ):
        Interaction.objects.create(
            account=account,
            officer=officer,
            outcome="no_answer",
            channel=channel,
            occurred_at=datetime.datetime(2026, 3, day, 1, tzinfo=datetime.UTC),  # 09:00 in Shanghai
        )
    escalation_run(today=TODAY)
    assert set(CallTask.objects.values_list("account", flat=True)) == {called_yesterday.pk, texted_today.pk}


def test_each_profile_sends_the_ladder_in_its_own_language():
    chinese = account_at(10)
    english = account_at(10, portfolio=make_portfolio("us", "us-regf"), borrower=make_borrower(name="Alice Smith"))
    british = account_at(10, portfolio=make_portfolio("uk", "uk-conc"), borrower=make_borrower(name="Bob Jones"))
    escalation_run(today=TODAY)
    body = {a.pk: Message.objects.get(account=a, channel="sms").body for a in (chinese, english, british)}
    assert "逾期" in body[chinese.pk]
    for account in (english, british):
        message = Message.objects.get(account=account, channel="sms")
        assert message.template_version.template.language == "en"
        assert message.policy_version.message_language == "en"
        assert body[account.pk].startswith(f"Hello {mask_name(account.borrower.name)}, your repayment to ")
        assert "overdue" in body[account.pk] and not any("\u4e00" <= ch <= "\u9fff" for ch in body[account.pk])


def test_a_profile_whose_language_has_no_ladder_template_sends_nothing_rather_than_another_language():
    english = account_at(10, portfolio=make_portfolio("us", "us-regf"))
    chinese = account_at(10)
    MessageTemplate.objects.filter(code="ladder-overdue-sms-en").update(code="retired-overdue-sms-en")
    stats = escalation_run(today=TODAY)
    assert sent_channels(english) == {"in_app"}
    assert sent_channels(chinese) == {"sms", "in_app"}
    assert "us-regf overdue sms: no usable template in en" in stats.skipped
