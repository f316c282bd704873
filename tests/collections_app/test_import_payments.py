"""import_payments: payments lower the outstanding, are idempotent by reference, and are all-or-nothing."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from audit.models import AuditEvent
from collections_app.models import LoanAccount, Payment
from tests.factories import make_account, make_payment

HEADER = "account_number,paid_at,amount,reference"


def write_csv(tmp_path: Path, rows: list[str], name: str = "payments.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run_import(path: Path) -> str:
    stdout = io.StringIO()
    with translation.override("en"):
        call_command("import_payments", str(path), stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def import_error(path: Path) -> CommandError:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command("import_payments", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return caught.value


@pytest.fixture
def accounts(db: None) -> tuple[LoanAccount, LoanAccount]:
    return (
        make_account(account_number="P-1", dpd=40, outstanding=Decimal("1000.00")),
        make_account(account_number="P-2", dpd=5, outstanding=Decimal("300.00")),
    )


@pytest.mark.django_db
def test_payments_lower_the_outstanding(tmp_path: Path, accounts) -> None:
    rows = [
        "P-1,2026-11-20T09:30:00+08:00,200.00,REF-1",
        "P-1,2026-11-21 10:00:00,50.5,REF-2",
        "P-2,2026-11-21,100,REF-3",
    ]

    out = run_import(write_csv(tmp_path, rows))

    first, second = (LoanAccount.objects.get(pk=a.pk) for a in accounts)
    assert first.outstanding == Decimal("749.50")
    assert second.outstanding == Decimal("200.00")
    assert first.oldest_unpaid_due_date == accounts[0].oldest_unpaid_due_date
    payment = Payment.objects.get(reference="REF-1")
    assert payment.account == accounts[0]
    assert payment.amount == Decimal("200.00")
    assert payment.paid_at == datetime.datetime(2026, 11, 20, 1, 30, tzinfo=datetime.UTC)
    # Without an offset the time is the lender's (Asia/Shanghai).
    assert Payment.objects.get(reference="REF-2").paid_at == datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.UTC)
    assert "3 payments" in out


@pytest.mark.django_db
def test_payments_are_audited_per_payment_and_per_changed_account(tmp_path: Path, accounts) -> None:
    run_import(write_csv(tmp_path, ["P-1,2026-11-20T09:30:00+08:00,200.00,REF-1", "P-1,2026-11-21,1,REF-2"]))

    created = AuditEvent.objects.filter(action="create", object_type="payment")
    assert created.count() == 2
    updated = AuditEvent.objects.get(action="update", object_type="loanaccount")
    assert updated.object_id == str(accounts[0].pk)
    assert updated.fields == ["outstanding"]
    assert updated.persons == [f"borrower:{accounts[0].borrower_id}"]
    assert updated.detail == {"source": "import_payments", "file": "payments.csv"}


@pytest.mark.django_db
def test_outstanding_never_goes_below_zero_and_a_paid_account_has_no_due_date(tmp_path: Path, accounts) -> None:
    run_import(write_csv(tmp_path, ["P-2,2026-11-21,250,REF-1", "P-2,2026-11-22,250,REF-2"]))

    account = LoanAccount.objects.get(pk=accounts[1].pk)
    assert account.outstanding == Decimal("0.00")
    assert account.oldest_unpaid_due_date is None
    assert Payment.objects.filter(account=account).count() == 2


@pytest.mark.django_db
def test_reimporting_payments_is_idempotent_by_reference(tmp_path: Path, accounts) -> None:
    path = write_csv(tmp_path, ["P-1,2026-11-20T09:30:00+08:00,200.00,REF-1"], bom=True)
    run_import(path)
    events = AuditEvent.objects.count()

    out = run_import(path)

    assert Payment.objects.count() == 1
    assert LoanAccount.objects.get(pk=accounts[0].pk).outstanding == Decimal("800.00")
    assert AuditEvent.objects.count() == events
    assert "already recorded: 1" in out


@pytest.mark.django_db
def test_a_reference_repeated_with_the_same_data_in_one_file_is_one_payment(tmp_path: Path, accounts) -> None:
    run_import(write_csv(tmp_path, ["P-1,2026-11-20,200,REF-1", "P-1,2026-11-20T00:00:00+08:00,200.00,REF-1"]))

    assert Payment.objects.count() == 1
    assert LoanAccount.objects.get(pk=accounts[0].pk).outstanding == Decimal("800.00")


@pytest.mark.django_db
def test_a_known_reference_with_different_data_stops_the_import(tmp_path: Path, accounts) -> None:
    make_payment(accounts[0], Decimal("10.00"), reference="OLD-1")
    rows = ["P-2,2026-11-21,100,REF-NEW", "P-1,2026-11-21,99,OLD-1"]

    error = import_error(write_csv(tmp_path, rows))

    assert error.returncode == 2
    assert "row 3" in str(error) and "OLD-1" in str(error)
    assert not Payment.objects.filter(reference="REF-NEW").exists()
    assert LoanAccount.objects.get(pk=accounts[1].pk).outstanding == Decimal("300.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("P-9,2026-11-21,100,REF-X", "P-9"),
        ("P-1,21/11/2026,100,REF-X", "paid_at"),
        ("P-1,2026-11-21,0,REF-X", "amount"),
        ("P-1,2026-11-21,-5,REF-X", "amount"),
        ("P-1,2026-11-21,1.001,REF-X", "amount"),
        ("P-1,2026-11-21,100,", "reference"),
        ("P-1,2026-11-21,100", "columns"),
        ("P-1\x00,2026-11-21,100,REF-X", "account_number"),
    ],
)
def test_a_bad_row_writes_nothing_and_names_the_row(tmp_path: Path, accounts, row: str, expected: str) -> None:
    events = AuditEvent.objects.count()

    error = import_error(write_csv(tmp_path, ["P-2,2026-11-21,100,REF-GOOD", row]))

    assert error.returncode == 2
    assert "row 3" in str(error) and expected in str(error)
    assert not Payment.objects.exists()
    assert LoanAccount.objects.get(pk=accounts[1].pk).outstanding == Decimal("300.00")
    assert AuditEvent.objects.count() == events
