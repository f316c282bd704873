"""import_accounts: all-or-nothing, idempotent, never deletes, audited, and assigns through object permissions."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.importers import accounts as importers
from collections_app.importers import csv_rows
from collections_app.models import Borrower, Contact, LoanAccount, LoanAccountUserObjectPermission
from tests.factories import make_account, make_portfolio, make_user

HEADER = ",".join(importers.ACCOUNT_HEADER)
GOOD_ROWS = [
    # Two contacts of one account: two rows with the same account data.
    "A-1001,B-1,张伟,110101199003074514,+8613800000001,Asia/Shanghai,10000.00,8000.00,2026-10-01,cn-consumer,alice,"
    "李娜,spouse,+8613900000001,,2025-01-02T10:00:00+08:00",
    "A-1001,B-1,张伟,110101199003074514,+8613800000001,Asia/Shanghai,10000.00,8000.00,2026-10-01,cn-consumer,alice,"
    "张强,parent,+8613900000002,Asia/Shanghai,2025-01-02",
    # A second account of the same borrower, naming a contact already listed.
    "A-1002,B-1,张伟,110101199003074514,+8613800000001,Asia/Shanghai,500,500,,cn-consumer,alice,"
    "李娜,spouse,+8613900000001,,2025-01-02T10:00:00+08:00",
    # No contact, no officer.
    "A-2001,B-2,John Doe,,+12025550123,America/New_York,3000.5,2999.99,2026-11-20,cn-consumer,,,,,,",
]


def write_csv(tmp_path: Path, rows: list[str], name: str = "accounts.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run_import(path: Path) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_accounts", str(path), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def import_error(path: Path) -> CommandError:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return caught.value


def snapshot() -> dict[str, object]:
    """Everything an import may write, to compare before and after."""
    return {
        "borrowers": list(Borrower.objects.order_by("pk").values()),
        "accounts": list(LoanAccount.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "permissions": list(LoanAccountUserObjectPermission.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def portfolio(db: None):
    return make_portfolio("cn-consumer")


@pytest.mark.django_db
def test_good_file_creates_borrowers_accounts_and_contacts(tmp_path: Path, portfolio, officer: User) -> None:
    out, _err = run_import(write_csv(tmp_path, GOOD_ROWS))

    assert Borrower.objects.count() == 2
    assert LoanAccount.objects.count() == 3
    account = LoanAccount.objects.get(account_number="A-1001")
    assert account.borrower.external_ref == "B-1"
    assert account.principal == Decimal("10000.00")
    assert account.outstanding == Decimal("8000.00")
    assert account.oldest_unpaid_due_date == datetime.date(2026, 10, 1)
    assert account.portfolio == portfolio
    assert LoanAccount.objects.get(account_number="A-2001").outstanding == Decimal("2999.99")
    assert LoanAccount.objects.get(account_number="A-1002").oldest_unpaid_due_date is None

    contacts = {c.phone: c for c in Contact.objects.filter(borrower__external_ref="B-1")}
    assert set(contacts) == {"+8613900000001", "+8613900000002"}
    spouse = contacts["+8613900000001"]
    assert spouse.relationship == "spouse"
    assert spouse.timezone == "Asia/Shanghai"  # empty contact time zone: the borrower's
    assert spouse.consent_at == datetime.datetime(2025, 1, 2, 2, 0, tzinfo=datetime.UTC)
    assert spouse.consent_basis == importers.IMPORTED_CONSENT_BASIS
    # A date without a time is midnight in the lender's time zone (Asia/Shanghai, UTC+8).
    assert contacts["+8613900000002"].consent_at == datetime.datetime(2025, 1, 1, 16, 0, tzinfo=datetime.UTC)
    assert not Contact.objects.filter(borrower__external_ref="B-2").exists()
    assert "3 accounts" in out and "2 borrowers" in out and "2 contacts" in out


@pytest.mark.django_db
def test_officer_column_assigns_through_object_permission(tmp_path: Path, portfolio, officer: User) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS))

    for number in ("A-1001", "A-1002"):
        account = LoanAccount.objects.get(account_number=number)
        assert account.officer == officer
        assert officer.has_perm("collections_app.work_loanaccount", account)
    unassigned = LoanAccount.objects.get(account_number="A-2001")
    assert unassigned.officer is None
    assert not LoanAccountUserObjectPermission.objects.filter(content_object=unassigned).exists()
    assert AuditEvent.objects.filter(action="assignment_changed").count() == 2


@pytest.mark.django_db
def test_each_created_object_has_one_audit_event_naming_the_file(tmp_path: Path, portfolio, officer: User) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS, name="core-2026-11-28.csv"))

    created = AuditEvent.objects.filter(action="create")
    assert created.filter(object_type="borrower").count() == 2
    assert created.filter(object_type="loanaccount").count() == 3
    assert created.filter(object_type="contact").count() == 2
    assert created.count() == 7
    for event in created:
        assert event.detail == {"source": "import_accounts", "file": "core-2026-11-28.csv"}
        assert event.actor_id is None
    contact = Contact.objects.get(phone="+8613900000002")
    event = created.get(object_type="contact", object_id=str(contact.pk))
    assert event.persons == [f"contact:{contact.pk}"]
    assert "name" in event.fields and "phone" in event.fields


@pytest.mark.django_db
def test_bad_row_writes_nothing_and_the_error_names_the_row(tmp_path: Path, portfolio, officer: User) -> None:
    make_account(account_number="EXISTING")
    before = snapshot()
    rows = [*GOOD_ROWS]
    # CSV line 4 (the header is line 1): a phone that is not E.164.
    rows[2] = rows[2].replace("+8613800000001", "13800000001")

    error = import_error(write_csv(tmp_path, rows))

    assert error.returncode == 2
    assert "row 4" in str(error)
    assert "borrower_phone" in str(error)
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "bad_value", "expected"),
    [
        ("borrower_timezone", "Mars/Olympus", "borrower_timezone"),
        ("principal", "12.345", "principal"),
        ("outstanding", "-1", "outstanding"),
        ("outstanding", "lots", "outstanding"),
        ("oldest_unpaid_due_date", "01/10/2026", "oldest_unpaid_due_date"),
        ("portfolio", "nope", "portfolio"),
        ("officer", "carol", "case officer"),
        ("officer", "nobody", "case officer"),
        ("contact_relationship", "neighbour", "contact_relationship"),
        ("contact_phone", "+86 139 0000 0001", "contact_phone"),
        ("contact_consent_at", "yesterday", "contact_consent_at"),
        ("account_number", "", "account_number"),
        ("borrower_name", "张\x00伟", "borrower_name"),
        ("contact_name", "李\x1b[2J娜", "contact_name"),
    ],
)
def test_each_kind_of_bad_value_is_refused_with_its_column(
    tmp_path: Path, portfolio, officer: User, column: str, bad_value: str, expected: str
) -> None:
    make_user("carol", RISK_APPROVER)
    values = dict(zip(importers.ACCOUNT_HEADER, GOOD_ROWS[1].split(","), strict=True))
    values[column] = bad_value
    rows = [GOOD_ROWS[3], ",".join(values.values())]

    error = import_error(write_csv(tmp_path, rows))

    assert error.returncode == 2
    assert "row 3" in str(error) and expected in str(error)
    assert not LoanAccount.objects.exists() and not Borrower.objects.exists()


@pytest.mark.django_db
def test_rows_of_one_account_that_disagree_are_refused(tmp_path: Path, portfolio, officer: User) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[1].replace("8000.00", "7000.00")]

    error = import_error(write_csv(tmp_path, rows))

    assert "row 3" in str(error) and "A-1001" in str(error) and "row 2" in str(error)
    assert "outstanding" in str(error) and "principal" not in str(error)
    assert not LoanAccount.objects.exists()


@pytest.mark.django_db
def test_borrower_data_that_disagrees_between_accounts_is_refused(tmp_path: Path, portfolio, officer: User) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[2].replace("张伟", "张三")]

    error = import_error(write_csv(tmp_path, rows))

    assert "row 3" in str(error) and "B-1" in str(error) and "borrower_name" in str(error)
    assert not Borrower.objects.exists()


@pytest.mark.django_db
def test_one_contact_listed_twice_with_different_data_is_refused(tmp_path: Path, portfolio, officer: User) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[2].replace("spouse", "sibling")]

    error = import_error(write_csv(tmp_path, rows))

    # The contact is named by its masked phone (issue 16: import errors show no full number).
    assert "row 3" in str(error) and "139****0001" in str(error) and "contact_relationship" in str(error)
    assert "13900000001" not in str(error)
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_an_account_cannot_move_to_another_borrower(tmp_path: Path, portfolio, officer: User) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS))
    before = snapshot()
    moved = GOOD_ROWS[3].replace("A-2001", "A-1001")

    error = import_error(write_csv(tmp_path, [moved], name="moved.csv"))

    assert "row 2" in str(error) and "B-1" in str(error)
    assert snapshot() == before


@pytest.mark.django_db
def test_wrong_header_is_a_usage_error(tmp_path: Path, portfolio) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER.replace("borrower_ref", "borrower") + "\n" + GOOD_ROWS[3] + "\n", encoding="utf-8")

    error = import_error(path)

    assert error.returncode == 2
    assert "row 1" in str(error) and "header" in str(error)


@pytest.mark.django_db
def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    error = import_error(tmp_path / "absent.csv")

    assert error.returncode == 2


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(tmp_path: Path, portfolio, officer: User) -> None:
    path = write_csv(tmp_path, GOOD_ROWS)
    run_import(path)
    before = snapshot()

    out, _err = run_import(path)

    assert snapshot() == before  # no new rows, no changed values, no updated_at bump, no audit events
    assert "created: 0; updated: 0" in out


@pytest.mark.django_db
def test_file_with_a_bom_is_accepted(tmp_path: Path, portfolio, officer: User) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS, bom=True))

    assert LoanAccount.objects.count() == 3


@pytest.mark.django_db
def test_changed_values_update_only_the_changed_objects_with_one_event_each(
    tmp_path: Path, portfolio, officer: User
) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS))
    untouched = LoanAccount.objects.get(account_number="A-1002")
    events_before = AuditEvent.objects.count()
    rows = [row.replace("8000.00,2026-10-01", "7500.00,2026-11-01") for row in GOOD_ROWS]

    run_import(write_csv(tmp_path, rows, name="next-day.csv"))

    account = LoanAccount.objects.get(account_number="A-1001")
    assert account.outstanding == Decimal("7500.00")
    assert account.oldest_unpaid_due_date == datetime.date(2026, 11, 1)
    assert LoanAccount.objects.get(pk=untouched.pk).updated_at == untouched.updated_at
    new_events = AuditEvent.objects.order_by("pk")[events_before:]
    assert [(e.action, e.object_type, e.object_id) for e in new_events] == [("update", "loanaccount", str(account.pk))]
    assert new_events[0].fields == ["oldest_unpaid_due_date", "outstanding"]
    assert new_events[0].detail == {"source": "import_accounts", "file": "next-day.csv"}


@pytest.mark.django_db
def test_import_never_deletes_and_an_empty_officer_keeps_the_assignment(
    tmp_path: Path, portfolio, officer: User
) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS))
    only_one = [GOOD_ROWS[2].replace(",alice,", ",,")]

    run_import(write_csv(tmp_path, only_one, name="partial.csv"))

    assert LoanAccount.objects.count() == 3
    assert Contact.objects.count() == 2
    assert LoanAccount.objects.get(account_number="A-1002").officer == officer


@pytest.mark.django_db
def test_officer_change_reassigns_the_object_permission(
    tmp_path: Path, portfolio, officer: User, other_officer: User
) -> None:
    run_import(write_csv(tmp_path, GOOD_ROWS))
    rows = [row.replace(",alice,", ",bob,") for row in GOOD_ROWS]

    run_import(write_csv(tmp_path, rows, name="reassigned.csv"))

    account = LoanAccount.objects.get(account_number="A-1001")
    assert account.officer == other_officer
    assert other_officer.has_perm("collections_app.work_loanaccount", account)
    assert not User.objects.get(pk=officer.pk).has_perm("collections_app.work_loanaccount", account)


@pytest.mark.django_db
def test_progress_is_reported_on_stderr(tmp_path: Path, portfolio, officer: User, monkeypatch) -> None:
    monkeypatch.setattr(csv_rows, "PROGRESS_EVERY", 2)

    _out, err = run_import(write_csv(tmp_path, GOOD_ROWS))

    assert "read 2 rows" in err and "read 4 rows" in err
    assert "accounts written" in err
