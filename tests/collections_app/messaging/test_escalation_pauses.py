"""The ladder's SQL pauses agree with the pure rules in collections_app.account_rules, case by case: a pending
promise, and a repayment plan kept (in force, no instalment unpaid past its due date) in every plan status."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from collections_app import account_rules as rules
from collections_app.models import LoanAccount, PromiseToPay, RepaymentPlan
from collections_app.selectors.profiles import kept_plan_q, ladder_accounts, pending_promise_q
from tests.factories import make_account, make_payment, make_plan

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)
FAR = datetime.date(9999, 12, 31)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI), tick=False)
@pytest.mark.parametrize("promised_offset", [-3, -2, -1, 0, 2])
@pytest.mark.parametrize("paid", [None, Decimal("50"), Decimal("100")])
@pytest.mark.parametrize("paid_offset", [-1, 1])
def test_pending_promise_in_sql_matches_the_pure_rule(officer, promised_offset, paid, paid_offset):
    account = make_account(today=TODAY)
    promised = TODAY + datetime.timedelta(days=promised_offset)
    promise = PromiseToPay.objects.create(
        account=account, promised_date=promised, amount=Decimal("100"), created_by=officer
    )
    payments = []
    if paid is not None:
        paid_on = promised + datetime.timedelta(days=paid_offset)
        paid_at = datetime.datetime.combine(paid_on, datetime.time(12), tzinfo=SHANGHAI)
        make_payment(account, paid, paid_at=paid_at)
        payments.append(rules.PaymentFact(paid_on, paid))
    expected = rules.promise_status(
        promised_date=promised,
        amount=promise.amount,
        made_on=timezone.localtime(promise.created_at, SHANGHAI).date(),
        payments=payments,
        today=TODAY,
        grace_days=1,
    ).is_pending
    in_sql = LoanAccount.objects.filter(pk=account.pk).filter(pending_promise_q(today=TODAY, grace_days=1)).exists()
    assert in_sql == expected


@pytest.mark.parametrize("status", RepaymentPlan.Status.values)
@pytest.mark.parametrize(
    "instalments",
    [
        (),
        ((-1, None),),
        ((-1, -2),),
        ((0, None),),
        ((-5, -6), (3, None)),
        ((-5, -6), (-1, None)),
    ],
    ids=["none", "missed", "paid", "due-today", "paid-then-future", "paid-then-missed"],
)
def test_kept_plan_in_sql_matches_the_pure_rule(officer, status, instalments):
    account = make_account(today=TODAY)
    rows = [
        (
            TODAY + datetime.timedelta(days=due),
            Decimal("50"),
            None
            if paid is None
            else datetime.datetime.combine(TODAY + datetime.timedelta(days=paid), datetime.time(12), tzinfo=SHANGHAI),
        )
        for due, paid in instalments
    ]
    make_plan(account, officer, status=status, instalments=rows)
    expected = rules.plan_kept(
        active=status in RepaymentPlan.IN_FORCE_STATUSES,
        instalments=[
            rules.InstalmentFact(due, None if paid is None else paid.astimezone(SHANGHAI).date())
            for due, _, paid in rows
        ],
        today=TODAY,
    ).kept
    in_sql = LoanAccount.objects.filter(pk=account.pk).filter(kept_plan_q(today=TODAY)).exists()
    assert in_sql == expected


@pytest.mark.parametrize("made_days_ago", [0, 29, 30, 31, 32, 400])
@pytest.mark.parametrize("promised", [TODAY + datetime.timedelta(days=730), FAR])
def test_a_promise_beyond_the_horizon_pauses_escalation_until_the_horizon_only(
    officer, made_days_ago: int, promised: datetime.date
) -> None:
    made_on = TODAY - datetime.timedelta(days=made_days_ago)
    account = make_account(today=TODAY, dpd=45)
    with time_machine.travel(datetime.datetime.combine(made_on, datetime.time(10), tzinfo=SHANGHAI), tick=False):
        PromiseToPay.objects.create(account=account, promised_date=promised, amount=Decimal("1"), created_by=officer)
    policy = account.portfolio.policy_profile.current_version
    in_python = rules.promise_status(
        promised_date=promised,
        amount=Decimal("1"),
        made_on=made_on,
        payments=[],
        today=TODAY,
        grace_days=policy.promise_grace_days,
        horizon_days=policy.promise_horizon_days,
    ).is_pending
    # Paused from the day it was made through the horizon and the day of grace after it; never for years.
    assert in_python == (made_days_ago <= 31)
    in_sql = not ladder_accounts(policy, TODAY).filter(pk=account.pk).exists()
    assert in_sql == in_python
