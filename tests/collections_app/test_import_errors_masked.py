"""Import errors show phone numbers masked: they reach the console and logs, where a full number must not."""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from collections_app.importers import accounts as importers
from collections_app.masking import mask_phone
from tests.factories import make_portfolio

pytestmark = pytest.mark.django_db

BORROWER_PHONE = "+8613812345678"
CONTACT_PHONE = "+8613987654321"
ROW = (
    "A-1,B-1,张伟,110101199003074514,{borrower_phone},Asia/Shanghai,100.00,100.00,2026-10-01,cn-consumer,alice,"
    "{contact_name},spouse,{contact_phone},,2025-01-02"
)


def import_error(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join([",".join(importers.ACCOUNT_HEADER), *rows]) + "\n", encoding="utf-8")
    stderr = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=stderr)
    assert caught.value.returncode == 2
    return str(caught.value) + stderr.getvalue()


def row(**values: str) -> str:
    return ROW.format(
        **{"borrower_phone": BORROWER_PHONE, "contact_name": "李娜", "contact_phone": CONTACT_PHONE, **values}
    )


@pytest.mark.parametrize("typed", ["13812345678", "138 1234 5678", "008613812345678"])
def test_a_phone_not_in_e164_form_is_named_masked(tmp_path: Path, officer: User, typed: str) -> None:
    make_portfolio("cn-consumer")
    error = import_error(tmp_path, row(borrower_phone=typed))
    assert "borrower_phone" in error and "row 2" in error
    assert mask_phone(typed) in error
    digits = "".join(char for char in typed if char.isdigit())
    assert digits not in error.replace(" ", "") and "12345678" not in error


def test_a_contact_whose_rows_disagree_is_named_by_its_masked_phone(tmp_path: Path, officer: User) -> None:
    make_portfolio("cn-consumer")
    error = import_error(tmp_path, row(), row(contact_name="李丽"))
    assert "contact_name" in error and mask_phone(CONTACT_PHONE) in error
    assert CONTACT_PHONE not in error and CONTACT_PHONE.removeprefix("+86") not in error
