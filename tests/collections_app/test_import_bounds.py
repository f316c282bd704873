"""Imports refuse an ID number with a bad check digit, a consent or a payment in the future, and anything before
2000, each as a row error that writes nothing; the README's sample files pass every check."""

import datetime
import io
import re
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from stdnum.cn import ric

from audit.models import AuditEvent
from collections_app.importers.accounts import ACCOUNT_HEADER
from collections_app.importers.payments import PAYMENT_HEADER
from collections_app.models import Borrower, Contact, LoanAccount, Payment, PlanInstalment, RepaymentPlan
from collections_app.models.accounts import resident_id_validator
from tests.collections_app.test_policy_profile_versions import signed_in
from tests.factories import make_account, make_portfolio, make_user

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
VALID_ID = "110101199003074514"


def account_row(**cells: str) -> dict[str, str]:
    row = {
        "account_number": "A-1",
        "borrower_ref": "B-1",
        "borrower_name": "张伟",
        "borrower_id_number": VALID_ID,
        "borrower_phone": "+8613800000001",
        "borrower_timezone": "Asia/Shanghai",
        "principal": "1000.00",
        "outstanding": "800.00",
        "oldest_unpaid_due_date": "2026-02-01",
        "portfolio": "cn-consumer",
        "officer": "",
        "contact_name": "李娜",
        "contact_relationship": "spouse",
        "contact_phone": "+8613900000001",
        "contact_timezone": "",
        "contact_consent_at": "2025-01-02T10:00:00+08:00",
    }
    return row | cells


def write(tmp_path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "file.csv"
    lines = [",".join(header), *(",".join(row[column] for column in header) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refusal(command: str, path: Path) -> str:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command(command, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


def world() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Borrower, LoanAccount, Contact, Payment, AuditEvent))


@pytest.fixture
def portfolio(db: None):
    return make_portfolio("cn-consumer")


def test_the_validator_takes_only_compact_resident_ids_with_the_right_check_digit() -> None:
    resident_id_validator(VALID_ID)
    resident_id_validator("11010519491231002X")
    for bad in ("110101199003074519", "11010519491231002x", " 110101199003074514", "11010119900307451", "123"):
        with pytest.raises(ValidationError):
            resident_id_validator(bad)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("bad_id", ["110101199003074519", "110101199013074514", "123456789012345678", "abc"])
def test_an_id_number_with_a_bad_check_digit_stops_the_accounts_import_and_writes_nothing(
    tmp_path: Path, portfolio, bad_id: str
) -> None:
    before = world()
    message = refusal("import_accounts", write(tmp_path, ACCOUNT_HEADER, [account_row(borrower_id_number=bad_id)]))
    assert "row 2" in message and "borrower_id_number" in message and bad_id in message
    assert world() == before


@time_machine.travel(NOW, tick=False)
def test_a_lower_case_check_letter_is_taken_and_stored_upper_case(tmp_path: Path, portfolio) -> None:
    path = write(tmp_path, ACCOUNT_HEADER, [account_row(borrower_id_number="11010519491231002x")])
    call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Borrower.objects.get().id_number == "11010519491231002X"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "consent_at",
    [
        "2026-03-10T10:05:01+08:00",
        "2026-03-10 10:06",
        "2027-01-01",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59+08:00",
        "0001-01-01T00:00:00+14:00",
    ],
)
def test_a_consent_in_the_future_or_before_2000_stops_the_accounts_import_and_writes_nothing(
    tmp_path: Path, portfolio, consent_at: str
) -> None:
    before = world()
    message = refusal("import_accounts", write(tmp_path, ACCOUNT_HEADER, [account_row(contact_consent_at=consent_at)]))
    assert "row 2" in message and "contact_consent_at" in message and "out of bounds" in message
    assert world() == before


@time_machine.travel(NOW, tick=False)
def test_a_consent_five_minutes_ahead_is_taken(tmp_path: Path, portfolio) -> None:
    path = write(tmp_path, ACCOUNT_HEADER, [account_row(contact_consent_at="2026-03-10T10:05:00+08:00")])
    call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Contact.objects.get().consent_at == NOW + datetime.timedelta(minutes=5)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("paid_at", ["2026-03-10T10:05:01+08:00", "2026-03-11", "9999-12-31", "1999-12-31 12:00"])
def test_a_payment_in_the_future_or_before_2000_stops_the_payments_import_and_writes_nothing(
    tmp_path: Path, paid_at: str
) -> None:
    account = make_account(account_number="P-1", outstanding=Decimal("100.00"))
    rows = [
        {"account_number": "P-1", "paid_at": "2026-03-09T10:00:00+08:00", "amount": "10", "reference": "R-1"},
        {"account_number": "P-1", "paid_at": paid_at, "amount": "10", "reference": "R-2"},
    ]
    before = world()
    message = refusal("import_payments", write(tmp_path, PAYMENT_HEADER, rows))
    assert "row 3" in message and "paid_at" in message and "out of bounds" in message
    assert world() == before
    account.refresh_from_db()
    assert account.outstanding == Decimal("100.00")


def readme_csv(after: str) -> str:
    """The first ```csv block of the README after the heading `after`."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    return re.search(r"```csv\n(.*?)```", readme[readme.index(after) :], re.DOTALL).group(1)


@time_machine.travel(datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_the_readme_sample_files_pass_every_check(tmp_path: Path) -> None:
    make_portfolio("cn-consumer")
    make_portfolio("us-personal", profile="us-regf")
    make_user("officer1", "case_officer")
    for heading, command in (
        ("import_accounts FILE.csv`", "import_accounts"),
        ("import_payments FILE.csv`", "import_payments"),
    ):
        path = tmp_path / f"{command}.csv"
        path.write_text(readme_csv(heading), encoding="utf-8")
        call_command(command, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    borrower = Borrower.objects.get(external_ref="C-5001")
    assert ric.is_valid(borrower.id_number)
    assert Payment.objects.count() == 2


@pytest.mark.parametrize("today", [datetime.date(2026, 3, 10), datetime.date(2031, 12, 31)])
def test_every_demo_borrowers_id_number_passes_the_check(today: datetime.date) -> None:
    from demo.accounts import demo_account_rows

    numbers = {row.borrower_id_number for row in demo_account_rows(today=today)} - {""}
    assert numbers
    assert [number for number in numbers if not ric.is_valid(number)] == []


# --- the same bound on the models, for every other way in (the admin's plan form among them) -------------------


@time_machine.travel(NOW, tick=False)
def test_every_reported_moment_of_the_models_lies_from_2000_to_five_minutes_from_now(officer) -> None:
    account = make_account(officer)
    plan = RepaymentPlan(account=account, agreed_at=NOW, created_by=officer)
    cases = [
        (Payment(account=account, paid_at=NOW, amount=Decimal("1"), reference="R"), "paid_at"),
        (Contact(borrower=account.borrower, name="n", relationship="spouse", phone="+8613900000009"), "consent_at"),
        (plan, "agreed_at"),
        (PlanInstalment(plan=plan, due_date=NOW.date(), amount=Decimal("1")), "paid_at"),
    ]
    for instance, field in cases:
        for moment in (
            NOW + datetime.timedelta(minutes=5, seconds=1),
            datetime.datetime(1999, 12, 31, tzinfo=SHANGHAI),
        ):
            setattr(instance, field, moment)
            with pytest.raises(ValidationError) as refused:
                instance.clean_fields(exclude=["account", "borrower", "plan", "created_by"])
            assert field in refused.value.message_dict, (instance, moment)
        setattr(instance, field, NOW + datetime.timedelta(minutes=5))
        instance.clean_fields(exclude=["account", "borrower", "plan", "created_by"])


def test_the_admin_records_no_plan_at_all_so_none_agreed_in_the_future(admin_user) -> None:
    """Replaces the admin's field error (issue 20): plans are proposed on the account page and decided by a lead."""
    account = make_account()
    client = signed_in(admin_user)
    future = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        "/admin/collections_app/repaymentplan/add/",
        {
            "account": account.pk,
            "status": "active",
            "agreed_at_0": future.date().isoformat(),
            "agreed_at_1": "10:00:00",
            "instalments-TOTAL_FORMS": "0",
            "instalments-INITIAL_FORMS": "0",
            "instalments-MIN_NUM_FORMS": "0",
            "instalments-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 403
    assert not RepaymentPlan.objects.exists()
