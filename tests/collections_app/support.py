"""Shared set-up of the collections tests: account history, a bulk caseload, call tasks, and the query budgets."""

import datetime
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from collections_app.dpd import lender_today
from collections_app.models import (
    Borrower,
    CallTask,
    Flag,
    InboundReply,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    Message,
    PolicyVersion,
    PromiseToPay,
)
from collections_app.services.accounts import work_permission
from tests.factories import make_contact, make_payment, make_plan, make_portfolio

# 10:00 in Shanghai (the borrowers' default zone): inside allowed hours, so the contact gate lets a call logged
# then through on its hours. Tests that log calls run at this clock, whatever the real hour.
CALL_HOURS = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def rich_history(account: LoanAccount, officer: User, size: int) -> None:
    """`size` of each kind of history row on `account`."""
    now = timezone.now()
    today = lender_today()
    for i in range(size):
        contact = make_contact(account.borrower)
        # Replies from the contact, every other one read: the inbox shows them with a fixed number of queries.
        InboundReply.objects.create(
            phone=contact.phone,
            text="收到",
            received_at=now - datetime.timedelta(minutes=i),
            borrower=account.borrower,
            contact=contact,
            matched_borrowers=1,
            compliance=False,
            read_at=now if i % 2 else None,
            read_by=officer if i % 2 else None,
        )
        make_payment(account, Decimal("10"), paid_at=now - datetime.timedelta(days=i))
        Interaction.objects.create(
            account=account, officer=officer, outcome="no_answer", occurred_at=now - datetime.timedelta(hours=i)
        )
        PromiseToPay.objects.create(
            account=account, promised_date=today - datetime.timedelta(days=i), amount=Decimal("50"), created_by=officer
        )
        Message.objects.create(
            borrower=account.borrower,
            account=account,
            audience="borrower",
            channel="sms",
            recipient=account.borrower.phone,
            body="您的账单已到期，请及时还款。",
            idempotency_key=f"k-{account.pk}-{i}",
        )
        Flag.objects.create(
            account=account,
            kind="dispute",
            opened_reason="amount wrong",
            opened_by=officer,
            opened_at=now - datetime.timedelta(days=i + 1),
            closed_reason="corrected",
            closed_by=officer,
            closed_at=now - datetime.timedelta(days=i),
        )
    make_plan(
        account,
        officer,
        instalments=[(today + datetime.timedelta(days=30 * i), Decimal("100")) for i in range(size)],
        agreed_at=now,
    )


# Session, user, language preference, roles, account, contacts, payments, promises, plans, instalments,
# flags, interactions, messages, family-contact requests, inbound replies, audit insert; the borrower's flags;
# the account's complaints (one query with their owners: +1 for the complaint register); the contacts' opt-outs
# (+1 since erasure: an erased number's opt-out is its HMAC, looked up with the plain ones); its pending data-subject
# requests (one query with their contacts: +1); and the contact gate's batch for a call now to the borrower and
# every contact (policy versions, open borrower flags, account states, stopped channels, opted-out phones,
# officers' calls, automated voice calls).
ACCOUNT_MAX_QUERIES = 27


def bulk_caseload(officer: User, count: int, *, prefix: str = "BULK") -> list[LoanAccount]:
    """`count` accounts for `officer`, spread over every bucket, with history; a few queries, not thousands."""
    today = lender_today()
    portfolio = make_portfolio()
    borrowers = Borrower.objects.bulk_create(
        Borrower(external_ref=f"{prefix}-B{i:05d}", name=f"批量{i}", phone=f"+86137{i:08d}", id_number="")
        for i in range(count)
    )
    accounts = LoanAccount.objects.bulk_create(
        LoanAccount(
            account_number=f"{prefix}-{i:05d}",
            borrower=borrower,
            portfolio=portfolio,
            officer=officer,
            principal=Decimal("1000.00"),
            outstanding=Decimal("1000.00") + i,
            oldest_unpaid_due_date=today - datetime.timedelta(days=(i % 230) - 5),
        )
        for i, borrower in enumerate(borrowers)
    )
    permission = work_permission()
    LoanAccountUserObjectPermission.objects.bulk_create(
        LoanAccountUserObjectPermission(user=officer, permission=permission, content_object=a) for a in accounts
    )
    now = timezone.now()
    Interaction.objects.bulk_create(
        Interaction(account=a, officer=officer, outcome="no_answer", occurred_at=now - datetime.timedelta(hours=i))
        for i, a in enumerate(accounts)
        if i % 2
    )
    PromiseToPay.objects.bulk_create(
        PromiseToPay(
            account=a, promised_date=today + datetime.timedelta(days=i % 5 - 2), amount=100, created_by=officer
        )
        for i, a in enumerate(accounts)
        if i % 3 == 0
    )
    Flag.objects.bulk_create(
        Flag(account=a, kind="hardship", opened_reason="lost job", opened_by=officer, opened_at=now)
        for i, a in enumerate(accounts)
        if i % 7 == 0
    )
    return accounts


# Session, user, roles, language preference, portfolios, bucket summary, page rows, payments,
# the latest family-contact requests, audit insert; with calls due, the contact gate's batch for them all
# (policy versions, open borrower flags, account states, stopped channels, officers' calls, automated calls).
CASELOAD_MAX_QUERIES = 16


def make_task(account: LoanAccount, *, days_ago: int = 0, status: str = CallTask.Status.OPEN) -> CallTask:
    """A phone-call task on `account` due `days_ago` days before today, as the ladder would create it."""
    due = lender_today() - datetime.timedelta(days=days_ago)
    dpd = (due - account.oldest_unpaid_due_date).days if account.oldest_unpaid_due_date else 0
    return CallTask.objects.create(
        account=account,
        officer=account.officer,
        due_date=due,
        dpd=dpd,
        status=status,
        closed_at=None if status == CallTask.Status.OPEN else timezone.now(),
        policy_version=PolicyVersion.objects.filter(profile=account.portfolio.policy_profile).latest("version"),
    )
