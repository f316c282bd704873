"""The demo data that `seed_demo` builds: users, portfolios, caseloads and their history.

Plain functions, deterministic (a random generator seeded per object) with dates relative to `today`.
Each creates only what is missing, so running them again creates nothing. Accounts go in through the
accounts importer, so they are validated, audited and assigned (object permission) like real imports;
their history (payments, promises, interactions, plans, flags) is written directly, as the record of
what happened before the demo starts. Other parts of the demo (family-contact accounts, TOTP devices)
add their own step to `seed_demo` and may call `demo_account_rows`/`seed_accounts` for their accounts.
"""

import datetime
import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db.models import Exists, OuterRef
from django.utils import timezone
from stdnum.cn import ric

from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER, TEAM_LEAD
from collections_app.dpd import days_past_due
from collections_app.importers.accounts import AccountRow, ContactRow, accounts_import
from collections_app.importers.upsert import ImportSummary
from collections_app.models import (
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    Payment,
    PlanInstalment,
    PolicyProfile,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
)

DEMO_SEED = "family-contact-review-demo"
BORROWER_COUNT = 240
DPD_RANGE = (-3, 200)
# Every bucket edge appears at least once, whatever the generator draws for the rest.
FIXED_DPDS = (-3, -2, -1, 0, 1, 3, 7, 8, 10, 29, 30, 31, 37, 45, 60, 61, 90, 91, 120, 180, 181, 200)

# username -> role group (None: a superuser, who holds no role).
DEMO_USERS: dict[str, str | None] = {
    "officer1": CASE_OFFICER,
    "officer2": CASE_OFFICER,
    "approver1": RISK_APPROVER,
    "approver2": RISK_APPROVER,
    "auditor1": COMPLIANCE_AUDITOR,
    "lead1": TEAM_LEAD,
    "admin": None,
    # The second superuser: every access change admin requests needs another administrator's approval.
    "admin2": None,
}
DEMO_OFFICERS = ("officer1", "officer2")
# The team lead of both officers (demo/access_demo.py), who approved the plans in their history.
DEMO_TEAM_LEAD = "lead1"
DEMO_BORROWER_PREFIX = "DEMO-B"


@dataclass(frozen=True)
class PortfolioSpec:
    """A demo portfolio and the policy profile it runs under."""

    code: str
    name: str
    profile: str
    timezones: tuple[str, ...]


PORTFOLIOS = (
    PortfolioSpec("cn-consumer", "China consumer loans", "cn-default", ("Asia/Shanghai",)),
    PortfolioSpec("cn-smallbiz", "China small-business loans", "cn-default", ("Asia/Shanghai", "Asia/Urumqi")),
    PortfolioSpec("us-personal", "US personal loans", "us-regf", ("America/New_York", "America/Chicago")),
)

_CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
_CN_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞鹏辉玲建国志红玉兰婷晨宇浩然子涵欣怡梓萱思远"
_US_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth")
_US_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez")
# Administrative division codes in force for every birth year the demo draws (1960 on), so generated ID numbers
# pass `stdnum.cn.ric`, which checks the region against the birth year.
_CN_REGIONS = ("110101", "110105", "110108", "310101", "310104", "120101")
_RELATIONSHIPS = (
    (Contact.Relationship.SPOUSE, 5),
    (Contact.Relationship.PARENT, 5),
    (Contact.Relationship.SIBLING, 3),
    (Contact.Relationship.CHILD, 1),
    (Contact.Relationship.RELATIVE, 1),
    (Contact.Relationship.FRIEND, 3),
    (Contact.Relationship.COLLEAGUE, 2),
)


def _rng(*key: object) -> random.Random:
    """A generator seeded by `key`: the same object gets the same data whatever else exists."""
    return random.Random(":".join([DEMO_SEED, *map(str, key)]))  # noqa: S311 - demo data, not security


def seed_users(*, password: str) -> dict[str, User]:
    """Create the missing demo users with their roles; returns only those it created.

    An existing user of the same name is never changed: no password, role, flag or device is added to it
    (a real `admin` keeps its own credentials), and nothing else in the demo joins it to anything.
    """
    created: dict[str, User] = {}
    existing = set(User.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    # Hashed once: the demo users share a published password, and each hash costs a noticeable fraction of a second.
    encoded = make_password(password)
    for username, role in DEMO_USERS.items():
        if username in existing:
            continue
        user = User(username=username, email=f"{username}@demo.invalid", password=encoded)
        user.is_staff = user.is_superuser = role is None
        user.save()
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        created[username] = user
    return created


def demo_users() -> dict[str, User]:
    """The demo users that exist, by username (created now or by an earlier seed, or someone else's)."""
    return {user.username: user for user in User.objects.filter(username__in=DEMO_USERS)}


def seed_portfolios() -> dict[str, Portfolio]:
    """Create the missing demo portfolios under their policy profiles."""
    portfolios: dict[str, Portfolio] = {}
    for spec in PORTFOLIOS:
        portfolio, _created = Portfolio.objects.get_or_create(
            code=spec.code,
            defaults={"name": spec.name, "policy_profile": PolicyProfile.objects.get(code=spec.profile)},
        )
        portfolios[spec.code] = portfolio
    return portfolios


def _cn_id_number(rng: random.Random, today: datetime.date) -> str:
    birth = today - datetime.timedelta(days=rng.randint(22 * 365, 60 * 365))
    body = f"{rng.choice(_CN_REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    # calc_check_digit reads the first 17 characters of an 18-character number: give it a placeholder last one.
    return body + ric.calc_check_digit(body + "0")


def _phone(rng: random.Random, us: bool) -> str:
    if us:
        # 555-01xx numbers are reserved for fiction.
        return f"+1{rng.choice(('202', '312', '646', '415'))}55501{rng.randint(0, 99):02d}"
    return f"+86{rng.choice(('138', '139', '186', '137', '150', '158'))}{rng.randint(0, 99_999_999):08d}"


def _name(rng: random.Random, us: bool) -> str:
    if us:
        return f"{rng.choice(_US_FIRST)} {rng.choice(_US_LAST)}"
    return rng.choice(_CN_SURNAMES) + "".join(rng.choice(_CN_GIVEN) for _ in range(rng.randint(1, 2)))


def _portfolio_for(index: int) -> PortfolioSpec:
    # Most of the demo is the Chinese book; one borrower in six is in the US portfolio.
    if index % 6 == 5:
        return PORTFOLIOS[2]
    return PORTFOLIOS[1] if index % 6 == 4 else PORTFOLIOS[0]


def _officer_for(index: int) -> str:
    # One borrower in ten is unassigned, so the admin's assignment action has something to do.
    if index % 10 == 9:
        return ""
    return DEMO_OFFICERS[index % 2]


def _contact_rows(rng: random.Random, *, us: bool, borrower: dict[str, str], today: datetime.date) -> list[ContactRow]:
    """One to three contacts of a demo borrower, each with its own phone; one in twelve without consent."""
    contacts: list[ContactRow] = []
    phones = {borrower["borrower_phone"]}
    for _n in range(rng.choice((1, 1, 2, 2, 2, 3))):
        phone = _phone(rng, us)
        if phone in phones:
            continue
        phones.add(phone)
        relationship = rng.choices([r for r, _w in _RELATIONSHIPS], [w for _r, w in _RELATIONSHIPS])[0]
        # One contact in twelve has no recorded consent: family contact is never possible for it.
        consented = rng.random() > 1 / 12
        consent_day = today - datetime.timedelta(days=rng.randint(200, 1500))
        zone = borrower["borrower_timezone"]
        contacts.append(
            ContactRow(
                name=_name(rng, us),
                relationship=relationship,
                phone=phone,
                timezone=zone,
                consent_at=_local_moment(consent_day, rng.randint(9, 20), zone) if consented else None,
            )
        )
    return contacts


def demo_account_rows(*, today: datetime.date, count: int = BORROWER_COUNT) -> list[AccountRow]:
    """The demo borrowers' accounts and contacts as import rows, spread over DPD -3..200."""
    rows: list[AccountRow] = []
    line = 1
    for index in range(count):
        rng = _rng("borrower", index)
        spec = _portfolio_for(index)
        us = spec.profile == "us-regf"
        borrower_ref = f"{DEMO_BORROWER_PREFIX}{index + 1:04d}"
        borrower_timezone = rng.choice(spec.timezones)
        borrower = {
            "borrower_ref": borrower_ref,
            "borrower_name": _name(rng, us),
            "borrower_id_number": "" if us else _cn_id_number(rng, today),
            "borrower_phone": _phone(rng, us),
            "borrower_timezone": borrower_timezone,
        }
        contacts = _contact_rows(rng, us=us, borrower=borrower, today=today)
        dpd = FIXED_DPDS[index] if index < len(FIXED_DPDS) else rng.randint(*DPD_RANGE)
        prefix = "US" if us else "CN"
        accounts = [(f"{prefix}-{index + 1:05d}-1", dpd)]
        # Some borrowers hold a second loan, some of them paid off (no DPD).
        if rng.random() < 0.15:
            second_dpd = None if rng.random() < 0.5 else rng.randint(*DPD_RANGE)
            accounts.append((f"{prefix}-{index + 1:05d}-2", second_dpd))
        for account_number, account_dpd in accounts:
            account_rng = _rng("account", account_number)
            principal = Decimal(account_rng.randint(5, 80) * (100 if us else 500))
            if account_dpd is None:
                outstanding = Decimal("0.00")
            else:
                outstanding = (principal * Decimal(account_rng.randint(20, 100)) / 100).quantize(Decimal("0.01"))
            for contact in contacts or [None]:
                line += 1
                rows.append(
                    AccountRow(
                        line=line,
                        account_number=account_number,
                        principal=principal,
                        outstanding=outstanding,
                        oldest_unpaid_due_date=None
                        if account_dpd is None
                        else today - datetime.timedelta(days=account_dpd),
                        portfolio=spec.code,
                        officer=_officer_for(index),
                        contact=contact,
                        **borrower,
                    )
                )
    return rows


def seed_accounts(*, rows: Sequence[AccountRow]) -> ImportSummary:
    """Import the rows whose accounts do not exist yet (audited, assigned through account_assign)."""
    existing = set(
        LoanAccount.objects.filter(account_number__in={row.account_number for row in rows}).values_list(
            "account_number", flat=True
        )
    )
    missing = [row for row in rows if row.account_number not in existing]
    return accounts_import(rows=missing, source="seed_demo", file_name="")


def _local_moment(day: datetime.date, hour: int, zone: str, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(zone))


@dataclass
class _History:
    """What the demo writes for one account before the demo starts."""

    payments: list[Payment] = field(default_factory=list)
    promises: list[PromiseToPay] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    plans: list[RepaymentPlan] = field(default_factory=list)
    instalments: list[PlanInstalment] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def extend(self, other: "_History") -> None:
        for name in ("payments", "promises", "interactions", "plans", "instalments", "flags"):
            getattr(self, name).extend(getattr(other, name))


_OUTCOME_WEIGHTS = (
    (Interaction.Outcome.NO_ANSWER, 10),
    (Interaction.Outcome.WRONG_NUMBER, 1),
    (Interaction.Outcome.REFUSED, 2),
    (Interaction.Outcome.PROMISED, 3),
    (Interaction.Outcome.HARDSHIP, 1),
)


def _account_history(
    account: LoanAccount, officer: User, today: datetime.date, now: datetime.datetime, *, lead: User
) -> _History:
    """One account's history, drawn from a generator seeded by its account number; `lead` approved its plans."""
    rng = _rng("history", account.account_number)
    zone = account.borrower.timezone
    dpd = days_past_due(account.oldest_unpaid_due_date, today)
    history = _History()

    def at(days_ago: int) -> datetime.datetime:
        day = today - datetime.timedelta(days=days_ago)
        return min(_local_moment(day, rng.randint(9, 19), zone, rng.randint(0, 59)), now)

    def payment(days_ago: int, amount: Decimal, suffix: str) -> None:
        reference = f"DEMO-PAY-{account.account_number}-{suffix}"
        history.payments.append(Payment(account=account, paid_at=at(days_ago), amount=amount, reference=reference))

    def promise(days_from_today: int, amount: Decimal) -> None:
        promised_date = today + datetime.timedelta(days=days_from_today)
        history.promises.append(
            PromiseToPay(account=account, promised_date=promised_date, amount=amount, created_by=officer)
        )

    # Earlier monthly instalments the borrower paid: the imported outstanding already reflects them.
    paid_total = account.principal - account.outstanding
    count = min(3, int(paid_total // max(account.principal / 6, Decimal(1))))
    for n in range(count):
        payment(max(dpd or 0, 0) + 30 * (n + 1), (paid_total / count).quantize(Decimal("0.01")), str(n + 1))
    if dpd is None or dpd < 1:
        return history

    # Call attempts over the last two weeks, most of them unanswered.
    outcomes, weights = zip(*_OUTCOME_WEIGHTS, strict=True)
    for _n in range(rng.randint(1, 8) if dpd >= 8 else rng.randint(0, 2)):
        history.interactions.append(
            Interaction(
                account=account,
                officer=officer,
                channel=Interaction.Channel.PHONE,
                outcome=rng.choices(outcomes, weights)[0],
                occurred_at=at(rng.randint(0, min(dpd, 14))),
            )
        )

    amount = max(Decimal("100.00"), (account.outstanding / 4).quantize(Decimal("0.01")))
    roll = rng.random()
    if roll < 0.15:
        promise(rng.randint(0, 5), amount)  # pending
    elif roll < 0.30 and dpd >= 10:
        promise(-rng.randint(5, 20), amount)  # two broken promises: past dates, nothing paid
        promise(-rng.randint(25, 50), amount)
    elif roll < 0.38 and dpd >= 10:
        days_ago = rng.randint(3, min(dpd, 30))
        promise(-days_ago, amount)  # kept: paid the day before its date
        payment(days_ago + 1, amount, "P")
    elif roll < 0.42 and dpd >= 45:
        plan, instalments = _active_plan(account, officer, lead, agreed=at(40), first_paid=at(31), today=today)
        history.plans.append(plan)
        history.instalments.extend(instalments)

    if rng.random() < 0.04:
        kind = rng.choice((Flag.Kind.DISPUTE, Flag.Kind.HARDSHIP))
        reason = {
            Flag.Kind.DISPUTE: "Borrower disputes the late fee charged.",
            Flag.Kind.HARDSHIP: "Borrower reports losing their job last month.",
        }[kind]
        history.flags.append(Flag(account=account, kind=kind, opened_reason=reason, opened_by=officer, opened_at=at(3)))
    return history


def _active_plan(
    account: LoanAccount,
    officer: User,
    lead: User,
    *,
    agreed: datetime.datetime,
    first_paid: datetime.datetime,
    today: datetime.date,
) -> tuple[RepaymentPlan, list[PlanInstalment]]:
    """An active plan of six monthly instalments, agreed 40 days ago and approved by the team lead; the instalment
    due 30 days ago was paid."""
    plan = RepaymentPlan(
        account=account,
        status=RepaymentPlan.Status.ACTIVE,
        agreed_at=agreed,
        created_by=officer,
        outstanding_at_proposal=account.outstanding,
        decided_by=lead,
        decided_at=agreed + datetime.timedelta(hours=2),
        decision_reason="Affordable: six equal monthly instalments.",
    )
    amount = max(Decimal("100.00"), (account.outstanding / 6).quantize(Decimal("0.01")))
    instalments = [
        PlanInstalment(
            plan=plan,
            due_date=today + datetime.timedelta(days=30 * (k - 1)),
            amount=amount,
            paid_at=first_paid if k == 0 else None,
        )
        for k in range(6)
    ]
    return plan, instalments


def seed_history(*, users: dict[str, User], today: datetime.date) -> dict[str, int]:
    """Give demo accounts that have no history yet their payments, promises, interactions, plans and flags."""
    has_history = (
        Exists(Payment.objects.filter(account=OuterRef("pk")))
        | Exists(Interaction.objects.filter(account=OuterRef("pk")))
        | Exists(PromiseToPay.objects.filter(account=OuterRef("pk")))
    )
    accounts = (
        LoanAccount.objects.filter(borrower__external_ref__startswith=DEMO_BORROWER_PREFIX)
        .exclude(has_history)
        .select_related("borrower", "officer")
        .order_by("account_number")
    )
    history = _History()
    now = timezone.now()
    for account in accounts:
        officer = users[DEMO_OFFICERS[0]] if account.officer_id is None else account.officer
        history.extend(_account_history(account, officer, today, now, lead=users[DEMO_TEAM_LEAD]))
    for model, objects in (
        (Payment, history.payments),
        (PromiseToPay, history.promises),
        (Interaction, history.interactions),
        (RepaymentPlan, history.plans),
        (PlanInstalment, history.instalments),
        (Flag, history.flags),
    ):
        model.objects.bulk_create(objects, batch_size=500)
    return {
        "payments": len(history.payments),
        "promises": len(history.promises),
        "interactions": len(history.interactions),
        "repayment plans": len(history.plans),
        "flags": len(history.flags),
    }
