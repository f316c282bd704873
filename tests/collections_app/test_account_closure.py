"""An account is closed when it is paid off: the payments import closes it at its last payment, the accounts import
closes it when the core system says nothing is owed and opens it again when something is; the database holds that a
closed account owes nothing."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from audit.models import AuditEvent
from collections_app.account_rules import closed_at_after
from collections_app.importers import accounts as importers
from collections_app.models import LoanAccount
from tests.factories import make_account, make_portfolio

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _import(command: str, path: Path) -> None:
    with translation.override("en"):
        call_command(command, str(path), stdout=io.StringIO(), stderr=io.StringIO())


def _csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "file.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_payment_that_pays_off_the_account_closes_it_at_that_payment(tmp_path: Path) -> None:
    account = make_account(outstanding=Decimal("300.00"), account_number="C-1")
    other = make_account(outstanding=Decimal("300.00"), account_number="C-2")
    rows = [
        "C-1,2026-11-20T09:30:00+08:00,100.00,P-1",
        "C-1,2026-11-21T10:00:00+08:00,200.00,P-2",
        "C-2,2026-11-21T10:00:00+08:00,100.00,P-3",
    ]

    _import("import_payments", _csv(tmp_path, "account_number,paid_at,amount,reference", rows))

    account.refresh_from_db()
    other.refresh_from_db()
    assert account.outstanding == 0
    assert account.closed_at == datetime.datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)
    assert other.closed_at is None
    event = AuditEvent.objects.get(action="update", object_type="loanaccount", object_id=str(account.pk))
    assert "closed_at" in event.fields


def test_the_accounts_import_closes_a_paid_off_account_and_opens_it_again_when_it_owes(tmp_path: Path) -> None:
    make_portfolio("cn-consumer")
    header = ",".join(importers.ACCOUNT_HEADER)
    borrower = "B-9,张伟,,+8613800000009,Asia/Shanghai"

    _import("import_accounts", _csv(tmp_path, header, [f"C-9,{borrower},1000,0,,cn-consumer,,,,,,"]))
    closed_at = LoanAccount.objects.get().closed_at
    assert closed_at is not None and timezone.now() - closed_at < datetime.timedelta(minutes=1)
    # The same file again keeps the moment it was closed.
    _import("import_accounts", _csv(tmp_path, header, [f"C-9,{borrower},1000,0,,cn-consumer,,,,,,"]))
    assert LoanAccount.objects.get().closed_at == closed_at

    _import("import_accounts", _csv(tmp_path, header, [f"C-9,{borrower},1000,50,2026-11-01,cn-consumer,,,,,,"]))
    assert LoanAccount.objects.get().closed_at is None


def test_the_database_refuses_a_closed_account_that_owes() -> None:
    account = make_account(dpd=None, outstanding=Decimal("0.00"), closed_at=timezone.now())

    with transaction.atomic(), pytest.raises(IntegrityError):
        LoanAccount.objects.filter(pk=account.pk).update(outstanding=Decimal("1.00"))


def test_closed_from_the_payoff_until_something_is_owed_again() -> None:
    earlier, now = timezone.now() - datetime.timedelta(days=3), timezone.now()
    assert closed_at_after(outstanding=Decimal("0"), closed_at=None, at=now) == now
    assert closed_at_after(outstanding=Decimal("0"), closed_at=earlier, at=now) == earlier
    assert closed_at_after(outstanding=Decimal("0.01"), closed_at=earlier, at=now) is None
