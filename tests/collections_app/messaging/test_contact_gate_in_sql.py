"""The ladder asks the contact gate in SQL: what it writes is exactly what the gate's Python form allows.

One book of borrowers, each in one state the gate knows (paid, paused four ways, ceased, stopped, flagged,
capped, called, in two zones, under two profiles). The ladder runs for the day; then, for every account, the
gate is asked in Python (its facts read the relay's way, `contact_book_load`) about a reminder on each channel
and a call task that day, at an instant inside allowed hours in every zone of the book: the two answers agree
account by account.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from collections_app.messaging.contact_facts import ContactTarget, contact_book_load
from collections_app.messaging.contact_gate import contact_gate
from collections_app.messaging.ladder import escalation_run
from collections_app.models import (
    BorrowerFlag,
    CallTask,
    ChannelStop,
    Flag,
    Interaction,
    LoanAccount,
    Message,
    PlanInstalment,
    PromiseToPay,
    RepaymentPlan,
)
from collections_app.selectors.profiles import current_policy_versions
from tests.factories import make_account, make_borrower, make_contact, make_portfolio

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# 08:30 in New York is 20:30 in Shanghai (EDT): inside allowed hours in both zones and the same date in both, so
# the lender's day (pauses, DPD) and each recipient's day (caps, staleness) are all TODAY at this instant.
NOW = datetime.datetime.combine(TODAY, datetime.time(8, 30), tzinfo=NEW_YORK)
ZONES = ("Asia/Shanghai", "America/New_York")


def at(zone: str, hour: int, days: int = 0) -> datetime.datetime:
    """`hour` o'clock `days` from TODAY in `zone`."""
    return datetime.datetime.combine(
        TODAY + datetime.timedelta(days=days), datetime.time(hour), zoneinfo.ZoneInfo(zone)
    )


def _state(account: LoanAccount, state: str, zone: str, officer: User) -> None:
    """Put the account (or its borrower) in one state of the grid."""
    now = at(zone, 5)

    def call(outcome: str, when: datetime.datetime, contact=None) -> None:
        Interaction.objects.create(account=account, officer=officer, outcome=outcome, occurred_at=when, contact=contact)

    if state == "paid":
        LoanAccount.objects.filter(pk=account.pk).update(oldest_unpaid_due_date=None)
    elif state == "promise pending":
        PromiseToPay.objects.create(account=account, promised_date=TODAY, amount=Decimal("100"), created_by=officer)
    elif state == "plan kept":
        plan = RepaymentPlan.objects.create(account=account, agreed_at=now, created_by=officer)
        PlanInstalment.objects.create(plan=plan, due_date=TODAY + datetime.timedelta(days=5), amount=Decimal("50"))
    elif state in ("dispute", "hardship", "dispute closed"):
        flag = Flag(account=account, kind=state.split()[0], opened_reason="r", opened_by=officer, opened_at=now)
        if state == "dispute closed":
            flag.closed_at, flag.closed_by, flag.closed_reason = now, officer, "resolved"
        flag.save()
    elif state == "ceased":
        type(account.borrower).objects.filter(pk=account.borrower_id).update(cease_requested_at=now)
    elif state.startswith("stopped "):
        ChannelStop.objects.create(
            borrower=account.borrower, channel=state.split()[1], source="officer", received_at=now
        )
    elif state.startswith(("represented", "vulnerable")):
        kind = state.split()[0]
        BorrowerFlag.objects.create(
            borrower=account.borrower,
            kind=kind,
            representative="Li & Partners" if kind == "represented" else "",
            opened_reason="r",
            opened_by=officer,
            opened_at=now,
            **({"closed_at": now, "closed_by": officer, "closed_reason": "ended"} if "cleared" in state else {}),
        )
    elif state == "sms sent today":
        Message.objects.create(
            borrower=account.borrower,
            account=account,
            audience="borrower",
            channel="sms",
            recipient=account.borrower.phone,
            body="x",
            status="sent",
            idempotency_key=f"sent-{account.pk}",
            send_date=TODAY,
            sent_at=now,
        )
    elif state == "3 connected today":
        for hour in (5, 6, 7):
            call("refused", at(zone, hour))
    elif state == "2 connected and a voice call today":
        call("refused", at(zone, 6))
        call("promised", at(zone, 7))
        Message.objects.create(
            borrower=account.borrower,
            account=account,
            audience="borrower",
            channel="voice",
            recipient=account.borrower.phone,
            body="x",
            status="delivered",
            idempotency_key=f"voice-{account.pk}",
            send_date=TODAY,
            sent_at=now,
        )
    elif state == "3 connected yesterday late":
        for minute in (1, 2, 3):
            call("refused", at(zone, 23, days=-1) + datetime.timedelta(minutes=minute))
    elif state == "3 connected to a contact today":
        contact = make_contact(account.borrower)
        for hour in (5, 6, 7):
            call("refused", at(zone, hour), contact)
    elif state == "called today":
        call("no_answer", at(zone, 7))
    elif state == "7 attempts this week":
        for days in range(7):
            call("no_answer", at(zone, 7, days=-days))
    elif state == "talked 3 days ago":
        call("refused", at(zone, 10, days=-3))


CN_STATES = [
    "",
    "paid",
    "promise pending",
    "plan kept",
    "dispute",
    "hardship",
    "dispute closed",
    "ceased",
    "stopped sms",
    "stopped voice",
    "represented",
    "vulnerable",
    "vulnerable cleared",
    "sms sent today",
    "3 connected today",
    "2 connected and a voice call today",
    "3 connected yesterday late",
    "3 connected to a contact today",
    "called today",
]
US_STATES = ["", "7 attempts this week", "talked 3 days ago", "called today", "represented"]


@pytest.fixture
def book(officer: User) -> dict[int, tuple[str, str, int]]:
    """Accounts by id: (profile code, state, DPD)."""
    accounts: dict[int, tuple[str, str, int]] = {}
    portfolios = {"cn-default": make_portfolio(), "us-regf": make_portfolio("us", "us-regf")}
    grid = [("cn-default", state, dpd) for state in CN_STATES for dpd in (10, -1)]
    grid += [("us-regf", state, 10) for state in US_STATES]
    for n, (profile, state, dpd) in enumerate(grid):
        for zone in ZONES:
            borrower = make_borrower(timezone=zone)
            account = make_account(dpd=dpd, today=TODAY, borrower=borrower, portfolio=portfolios[profile])
            _state(account, state, zone, officer)
            accounts[account.pk] = (profile, state, dpd)
        assert n < 100
    return accounts


def python_gate(accounts: list[LoanAccount], channel: str, *, message: bool) -> set[int]:
    """The accounts whose borrower the gate lets the ladder contact on `channel` today."""
    policies = {version.profile_id: version for version in current_policy_versions().values()}
    targets = [
        ContactTarget(
            borrower_id=account.borrower_id,
            account_id=account.pk,
            channel=channel,
            zone=account.borrower.timezone,
            policy=policies[account.portfolio.policy_profile_id],
            message=message,
            stage=(
                "pre-due" if account.oldest_unpaid_due_date and account.oldest_unpaid_due_date > TODAY else "overdue"
            )
            if message
            else None,
            send_day=TODAY if message else None,
            task_day=None if message else TODAY,
        )
        for account in accounts
    ]
    facts = contact_book_load(targets, now=NOW)
    return {
        target.account_id
        for target in targets
        if contact_gate(facts.facts(target), policy=target.policy, now=NOW).allowed
    }


def test_the_ladders_messages_and_call_tasks_are_what_the_gate_allows(book: dict[int, tuple[str, str, int]]):
    escalation_run(today=TODAY)
    accounts = list(LoanAccount.objects.filter(pk__in=book).select_related("borrower", "portfolio"))
    cn = [a for a in accounts if book[a.pk][0] == "cn-default"]
    for channel in ("sms", "in_app"):
        written = set(
            Message.objects.filter(channel=channel, account__in=cn, idempotency_key__startswith="esc:").values_list(
                "account_id", flat=True
            )
        )
        allowed = python_gate(cn, channel, message=True)
        assert written == allowed, channel
        assert 0 < len(allowed) < len(cn)
    # Call tasks: accounts past the profile's call-task DPD (8 days) only.
    callable_accounts = [a for a in accounts if book[a.pk][2] >= 8]
    tasks = set(CallTask.objects.filter(due_date=TODAY).values_list("account_id", flat=True))
    assert tasks == python_gate(callable_accounts, "voice", message=False)
    refused = {book[pk][1] for pk in book if book[pk][2] >= 8} - {book[pk][1] for pk in tasks}
    assert {"3 connected today", "2 connected and a voice call today", "7 attempts this week"} <= refused
    assert {"3 connected yesterday late", "3 connected to a contact today", "vulnerable cleared"} & refused == set()
