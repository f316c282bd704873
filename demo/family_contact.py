"""Demo data for family contact: officer1's DEMO-E1..E3 (eligible) and DEMO-N1..N4 (each ineligible for one
reason), approved family templates in Chinese and English, and work waiting for the approvers on first sign-in:
officer2's request on FAM-Q1 in the review queue and a family template version awaiting approval. The approvers
hold the all-portfolios grant. Idempotent; dates relative to today."""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from collections_app.dpd import lender_today
from collections_app.messaging.message_templates import template_version_create, template_version_decide
from collections_app.models import (
    Borrower,
    Contact,
    Interaction,
    LoanAccount,
    Message,
    MessageTemplate,
    PhoneOptOut,
    PlanInstalment,
    PolicyProfile,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
)
from collections_app.services.accounts import account_assign
from review.models import ApproverAllPortfolios
from review.services import approver_all_portfolios_grant, family_contact_request_submit

# The demo's main Chinese portfolio (demo.accounts creates it too; whichever runs first makes it).
DEMO_PORTFOLIO = ("cn-consumer", "China consumer loans")
DEMO_APPROVERS = ("approver1", "approver2")
DEMO_ACCOUNTS = ("DEMO-E1", "DEMO-E2", "DEMO-E3", "DEMO-N1", "DEMO-N2", "DEMO-N3", "DEMO-N4")
# Texts that pass the family firewall under every profile; the renderer adds the opt-out line.
FAMILY_TEMPLATES = {
    "family-callback-zh": (
        "zh-hans",
        "亲友回电请求（中文）",
        "您好，这里是客服中心。有一位将您登记为联系人的人士，我们近期未能与其取得联系，烦请转告其尽快致电95188，谢谢。",
    ),
    "family-callback-en": (
        "en",
        "Family call-back request (English)",
        "Hello, this is the customer service centre. We have not been able to reach someone who gave your number "
        "as a contact; please ask them to call us on 95188. Thank you.",
    ),
}
# A template whose second version waits for a risk approver: (code, language, name, body of v1, body of v2).
AWAITING_TEMPLATE = (
    "family-callback-zh-short",
    "zh-hans",
    "亲友回电请求（简短）",
    "您好，这里是客服中心。烦请转告您的亲友尽快致电95188与我们联系，谢谢。",
    "您好，这里是客服中心。您的一位亲友请我们转告：请其方便时致电95188与我们联系，谢谢。",
)
# officer2's account whose family-contact request waits in the approvers' queue (not a DEMO- account: those are
# officer1's, CONTRACT.md).
QUEUED_ACCOUNT = ("FAM-Q1", 60, "马文涛", ("+8613911110009", "spouse", "杨雪梅"))
QUEUED_JUSTIFICATION = "一周内五次致电均未接通，本人无法联系，申请请其配偶转告回电。"


def _at(today: datetime.date, days_ago: int, hour: int = 10) -> datetime.datetime:
    """A moment `days_ago` days before today at `hour`, in the lender's time zone."""
    day = today - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _failed_attempts(account: LoanAccount, officer: object, today: datetime.date) -> None:
    """Five unanswered calls on three different days within the last week: rule 2 holds."""
    for days_ago, hour in ((1, 10), (1, 15), (3, 11), (5, 9), (5, 16)):
        Interaction.objects.create(
            account=account,
            officer=officer,
            channel=Interaction.Channel.PHONE,
            outcome=Interaction.Outcome.NO_ANSWER,
            occurred_at=_at(today, days_ago, hour),
        )


def _contact(borrower: Borrower, phone: str, relationship: str, name: str, today: datetime.date) -> Contact:
    return Contact.objects.create(
        borrower=borrower,
        name=name,
        relationship=relationship,
        phone=phone,
        consent_basis="registered by the borrower at application (emergency contact consent)",
        consent_at=_at(today, 400),
    )


# number, dpd, borrower name, contacts (phone, relationship, name)
_SPECS = (
    ("DEMO-E1", 45, "王建国", [("+8613911110001", "spouse", "李秀英"), ("+8613911110002", "parent", "王德明")]),
    ("DEMO-E2", 75, "陈思远", [("+8613911110003", "sibling", "陈思敏")]),
    ("DEMO-E3", 120, "刘海洋", [("+8613911110004", "parent", "刘长青")]),
    ("DEMO-N1", 12, "赵晓明", [("+8613911110005", "spouse", "孙丽")]),
    ("DEMO-N2", 50, "周文博", [("+8613911110006", "parent", "周永安")]),
    ("DEMO-N3", 40, "吴佳怡", [("+8613911110007", "spouse", "郑浩")]),
    ("DEMO-N4", 35, "黄子涵", [("+8613911110008", "sibling", "黄子轩")]),
)


def seed_family_contact_demo(*, now: datetime.datetime | None = None) -> list[LoanAccount]:
    """Create the family-contact demo accounts and templates once; later runs change nothing."""
    now = now or timezone.now()
    today = lender_today(now)
    users = get_user_model().objects
    officer = users.get(username="officer1")
    author = users.get(username="admin")
    approver = users.get(username="approver2")
    with transaction.atomic():
        _grant_approvers_every_portfolio(users.filter(username__in=DEMO_APPROVERS))
        _seed_templates(author=author, approver=approver)
        _seed_template_awaiting_approval(author=author, approver=approver)
        if not LoanAccount.objects.filter(account_number="DEMO-E1").exists():
            accounts = _create_accounts(today)
            account_assign(accounts=accounts, officer=officer)
            _give_each_its_state({account.account_number: account for account in accounts}, officer, today)
        _seed_queued_request(officer=users.get(username="officer2"), now=now)
    return list(LoanAccount.objects.filter(account_number__in=DEMO_ACCOUNTS).order_by("account_number"))


def _demo_portfolio() -> Portfolio:
    portfolio, _ = Portfolio.objects.get_or_create(
        code=DEMO_PORTFOLIO[0],
        defaults={"name": DEMO_PORTFOLIO[1], "policy_profile": PolicyProfile.objects.get(code="cn-default")},
    )
    return portfolio


def _create_accounts(today: datetime.date) -> list[LoanAccount]:
    """The seven demo accounts with their borrowers and consenting family contacts."""
    portfolio = _demo_portfolio()
    accounts = []
    for index, (number, dpd, name, contacts) in enumerate(_SPECS, start=1):
        borrower = Borrower.objects.create(
            external_ref=f"DEMO-FC-{index:02d}",
            name=name,
            id_number="110101199003074514",
            phone=f"+861380000{9000 + index}",
        )
        account = LoanAccount.objects.create(
            account_number=number,
            borrower=borrower,
            portfolio=portfolio,
            principal=Decimal("8000.00"),
            outstanding=Decimal("6200.00"),
            oldest_unpaid_due_date=today - datetime.timedelta(days=dpd),
        )
        for phone, relationship, contact_name in contacts:
            _contact(borrower, phone, relationship, contact_name, today)
        accounts.append(account)
    return accounts


def _give_each_its_state(by_number: dict[str, LoanAccount], officer: object, today: datetime.date) -> None:
    """The history that makes each account eligible (E1-E3) or ineligible for one reason (N1-N4)."""
    # Each DEMO-E account is eligible because its borrower cannot be reached: cn-default keeps only that half of
    # rule 2 (`family_only_when_unreachable`). E2's refusal and E3's broken promises are history an officer
    # sees, and what would make them eligible under a profile that counts them.
    for number in ("DEMO-E1", "DEMO-E2", "DEMO-E3", "DEMO-N1", "DEMO-N2", "DEMO-N3", "DEMO-N4"):
        _failed_attempts(by_number[number], officer, today)
    # DEMO-E2: an explicit refusal two days ago.
    Interaction.objects.create(
        account=by_number["DEMO-E2"],
        officer=officer,
        outcome=Interaction.Outcome.REFUSED,
        note="拒绝沟通还款安排",
        occurred_at=_at(today, 2),
    )
    # DEMO-E3: two promises broken within the last 60 days.
    for promised_ago in (40, 20):
        promise = PromiseToPay.objects.create(
            account=by_number["DEMO-E3"],
            promised_date=today - datetime.timedelta(days=promised_ago),
            amount=Decimal("1000.00"),
            created_by=officer,
        )
        PromiseToPay.objects.filter(pk=promise.pk).update(created_at=_at(today, promised_ago + 5))
    # DEMO-N2: a repayment plan, approved by the team lead, whose instalments are paid so far.
    plan = RepaymentPlan.objects.create(
        account=by_number["DEMO-N2"],
        status=RepaymentPlan.Status.ACTIVE,
        agreed_at=_at(today, 20),
        created_by=officer,
        outstanding_at_proposal=Decimal("6200.00"),
        difference_reason="Two instalments now; the rest is agreed again once they are paid.",
        decided_by=get_user_model().objects.get(username="lead1"),
        decided_at=_at(today, 19),
        decision_reason="Two instalments the borrower can afford; review the rest after them.",
    )
    PlanInstalment.objects.create(
        plan=plan, due_date=today - datetime.timedelta(days=5), amount=Decimal("500.00"), paid_at=_at(today, 6)
    )
    PlanInstalment.objects.create(plan=plan, due_date=today + datetime.timedelta(days=25), amount=Decimal("500.00"))
    # DEMO-N3: its only family contact opted out by SMS reply.
    PhoneOptOut.objects.get_or_create(
        phone="+8613911110007",
        defaults={"source": PhoneOptOut.Source.SMS_REPLY, "received_at": _at(today, 8)},
    )
    # DEMO-N4: a promise to pay, due in three days, is pending.
    PromiseToPay.objects.create(
        account=by_number["DEMO-N4"],
        promised_date=today + datetime.timedelta(days=3),
        amount=Decimal("1500.00"),
        created_by=officer,
    )


def _grant_approvers_every_portfolio(approvers: Iterable[AbstractBaseUser]) -> None:
    """Scope fails closed: give each demo approver without any grant the explicit all-portfolios grant."""
    for user in approvers:
        if not (ApproverAllPortfolios.objects.filter(user=user).exists() or user.review_portfolios.exists()):
            approver_all_portfolios_grant(user=user)


def _seed_templates(*, author: AbstractBaseUser, approver: AbstractBaseUser) -> None:
    """The approved family templates: written by `author`, approved by another user (`approver`), as in the app."""
    for code, (language, name, body) in FAMILY_TEMPLATES.items():
        template, _created = MessageTemplate.objects.get_or_create(
            code=code,
            defaults={
                "audience": Message.Audience.FAMILY,
                "channel": Message.Channel.SMS,
                "language": language,
                "name": name,
            },
        )
        version = template.current_version or template_version_create(template=template, body=body, actor=author)
        if not version.is_approved:
            template_version_decide(version_id=version.pk, decision="approve", reason="", actor=approver)


def _seed_template_awaiting_approval(*, author: AbstractBaseUser, approver: AbstractBaseUser) -> None:
    """A family template with an approved first version and a second one, by `author`, awaiting approval."""
    code, language, name, first, second = AWAITING_TEMPLATE
    template, _created = MessageTemplate.objects.get_or_create(
        code=code,
        defaults={
            "audience": Message.Audience.FAMILY,
            "channel": Message.Channel.SMS,
            "language": language,
            "name": name,
        },
    )
    if not template.versions.exists():
        version = template_version_create(template=template, body=first, actor=author)
        template_version_decide(version_id=version.pk, decision="approve", reason="", actor=approver)
    if template.versions.count() == 1:
        template_version_create(template=template, body=second, actor=author)


def _seed_queued_request(*, officer: AbstractBaseUser, now: datetime.datetime) -> None:
    """officer2's eligible account FAM-Q1 (unreachable borrower) and its request, waiting for an approver."""
    number, dpd, name, (phone, relationship, contact_name) = QUEUED_ACCOUNT
    if LoanAccount.objects.filter(account_number=number).exists():
        return
    today = lender_today(now)
    borrower = Borrower.objects.create(
        external_ref="DEMO-FC-Q1", name=name, id_number="110101199003074514", phone="+8613800009101"
    )
    account = LoanAccount.objects.create(
        account_number=number,
        borrower=borrower,
        portfolio=_demo_portfolio(),
        principal=Decimal("12000.00"),
        outstanding=Decimal("9400.00"),
        oldest_unpaid_due_date=today - datetime.timedelta(days=dpd),
    )
    contact = _contact(borrower, phone, relationship, contact_name, today)
    account_assign(accounts=[account], officer=officer)
    _failed_attempts(account, officer, today)
    family_contact_request_submit(
        account=account,
        contact=contact,
        template=MessageTemplate.objects.get(code="family-callback-zh"),
        justification=QUEUED_JUSTIFICATION,
        requested_by=officer,
        now=now,
    )
