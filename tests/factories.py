"""Plain factory functions for test data; each returns a saved object."""

import datetime
import functools
import itertools
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone

from access.roles import RISK_APPROVER
from collections_app.dpd import lender_today
from collections_app.models import (
    Borrower,
    Contact,
    LoanAccount,
    Payment,
    PlanInstalment,
    PolicyProfile,
    Portfolio,
    RepaymentPlan,
)
from collections_app.services.accounts import account_assign
from review.models import ApproverAllPortfolios

_sequence = itertools.count(1)


def make_user(
    username: str, *roles: str, password: str = "test-pass-2026!", all_portfolios: bool = True, **extra: object
) -> User:
    """A user holding the given role groups; a risk approver also holds the all-portfolios grant unless told not to.

    Approver scope fails closed (no grant, nothing seen), so test approvers get the grant the upgrade gave every
    approver; a test of a narrower scope grants portfolios through `approver_portfolio_grant`, which replaces it.
    """
    user = User.objects.create(username=User.normalize_username(username), password=hashed_password(password), **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    if RISK_APPROVER in roles and all_portfolios:
        ApproverAllPortfolios.objects.create(user=user)
    return user


def make_superuser(username: str, password: str = "test-pass-2026!") -> User:
    """A superuser (staff, with an e-mail address), who holds no role implicitly."""
    return make_user(username, password=password, email=f"{username}@example.com", is_staff=True, is_superuser=True)


@functools.cache
def hashed_password(password: str) -> str:
    """`password` hashed as the settings hash it (PBKDF2, a third of a second), once per password for the run:
    a user made here signs in with it like any other."""
    return make_password(password)


def make_portfolio(code: str = "default", profile: str = "cn-default") -> Portfolio:
    """A portfolio under the named policy profile."""
    portfolio, _ = Portfolio.objects.get_or_create(
        code=code, defaults={"name": code.title(), "policy_profile": PolicyProfile.objects.get(code=profile)}
    )
    return portfolio


def make_borrower(**fields: object) -> Borrower:
    """A borrower with distinct, valid personal data."""
    n = next(_sequence)
    defaults: dict[str, object] = {
        "external_ref": f"B{n:06d}",
        "name": f"测试人{n}",
        "id_number": "110101199003074514",
        "phone": f"+861380000{n:04d}",
    }
    defaults.update(fields)
    return Borrower.objects.create(**defaults)


def make_contact(borrower: Borrower, **fields: object) -> Contact:
    """A family contact of `borrower` with a recorded consent basis."""
    n = next(_sequence)
    defaults: dict[str, object] = {
        "name": f"亲属{n}",
        "relationship": Contact.Relationship.SPOUSE,
        "phone": f"+861390000{n:04d}",
        "consent_basis": "registered by the borrower at application",
        "consent_at": timezone.now() - datetime.timedelta(days=365),
    }
    defaults.update(fields)
    return Contact.objects.create(borrower=borrower, **defaults)


def make_account(
    officer: User | None = None,
    *,
    dpd: int | None = 10,
    outstanding: Decimal = Decimal("5000.00"),
    portfolio: Portfolio | None = None,
    borrower: Borrower | None = None,
    today: datetime.date | None = None,
    **fields: object,
) -> LoanAccount:
    """A loan account `dpd` days past due (None: paid), assigned to `officer` with its object permission."""
    n = next(_sequence)
    due = None if dpd is None else (today or lender_today()) - datetime.timedelta(days=dpd)
    account = LoanAccount.objects.create(
        account_number=fields.pop("account_number", f"ACC{n:08d}"),
        borrower=borrower or make_borrower(),
        portfolio=portfolio or make_portfolio(),
        principal=outstanding,
        outstanding=outstanding,
        oldest_unpaid_due_date=due,
        **fields,
    )
    if officer is not None:
        account_assign(accounts=[account], officer=officer)
        account.refresh_from_db()
    return account


def make_payment(account: LoanAccount, amount: Decimal, **fields: object) -> Payment:
    """A payment on `account`."""
    n = next(_sequence)
    defaults: dict[str, object] = {"paid_at": timezone.now(), "reference": f"PAY{n:08d}"}
    defaults.update(fields)
    return Payment.objects.create(account=account, amount=amount, **defaults)


def make_plan(
    account: LoanAccount,
    proposed_by: User,
    *,
    instalments: list[tuple[datetime.date, Decimal] | tuple[datetime.date, Decimal, datetime.datetime | None]],
    status: str = RepaymentPlan.Status.APPROVED,
    decided_by: User | None = None,
    agreed_at: datetime.datetime | None = None,
) -> RepaymentPlan:
    """A repayment plan in `status`, decided (unless proposed) by `decided_by` or a new team lead, never the proposer.

    Each instalment is (due date, amount) or (due date, amount, paid at).
    """
    from access.roles import TEAM_LEAD

    agreed_at = agreed_at or timezone.now()
    decided = status != RepaymentPlan.Status.PROPOSED
    if decided and decided_by is None:
        decided_by = make_user(f"lead{next(_sequence)}", TEAM_LEAD)
    closed = status not in RepaymentPlan.OPEN_STATUSES
    plan = RepaymentPlan.objects.create(
        account=account,
        status=status,
        agreed_at=agreed_at,
        created_by=proposed_by,
        outstanding_at_proposal=account.outstanding,
        decided_by=decided_by if decided else None,
        decided_at=agreed_at if decided else None,
        decision_reason="agreed on the phone, affordable" if decided else "",
        closed_at=agreed_at if closed else None,
    )
    for due_date, amount, *paid in instalments:
        PlanInstalment.objects.create(plan=plan, due_date=due_date, amount=amount, paid_at=paid[0] if paid else None)
    return plan
