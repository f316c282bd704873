"""Two complaints on officer1's accounts, filed through the register's service: one still within its deadline,
one past it, so that the register's overdue marking shows on first sign-in."""

import datetime

from django.contrib.auth.models import User

from collections_app.models import Complaint, LoanAccount
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.complaints import complaint_advance, complaint_file

COMPLAINT_OFFICER = "officer1"


def seed_complaints_demo(*, users: dict[str, User], now: datetime.datetime) -> int:
    """File the two demo complaints when officer1 has none; the number filed (0 on a later seed)."""
    officer = users[COMPLAINT_OFFICER]
    if Complaint.objects.filter(filed_by=officer).exists():
        return 0
    # Not the family-contact demo's own accounts (DEMO-...): their story stays as that demo tells it.
    accounts = list(
        LoanAccount.objects.filter(officer=officer)
        .exclude(account_number__startswith="DEMO-")
        .prefetch_related("borrower__contacts")
        .order_by("account_number")[:2]
    )
    if len(accounts) < 2:
        return 0
    late, recent = accounts
    days = policy_version_for_account(late).complaint_deadline_days
    overdue = complaint_file(
        account=late,
        officer=officer,
        complainant="borrower",
        channel="phone",
        category="amount",
        text="借款人来电称已还的一期款项仍被计为逾期，要求核对还款记录。",
        now=now - datetime.timedelta(days=days + 3),
    )
    # Started on the day it came in, and never answered: past its deadline now.
    complaint_advance(complaint=overdue, officer=officer, now=overdue.filed_at)
    contact = next(iter(recent.borrower.contacts.all()), None)
    complaint_file(
        account=recent,
        officer=officer,
        complainant=f"contact:{contact.pk}" if contact else "borrower",
        channel="letter",
        category="conduct",
        text="来信称催收员在电话中语气生硬，要求今后礼貌沟通。",
        now=now - datetime.timedelta(days=2),
    )
    return 2
