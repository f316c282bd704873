"""The payments import: new payments, each lowering its account's outstanding (never below 0).

`reference` makes it idempotent: a reference already recorded with the same account, time and amount is
skipped, with different data it is an error. Accounts are locked while their outstanding is lowered.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import collections_app.importers.csv_rows as csv_rows
from audit.record import person_key
from collections_app.account_rules import closed_at_after
from collections_app.importers.csv_rows import Problems, Progress
from collections_app.importers.trail import AuditTrail
from collections_app.importers.upsert import (
    ImportSummary,
    bulk_write,
    changed_fields,
    clean_fields,
    fetch,
    ladder_changed,
)
from collections_app.models import LoanAccount, Payment
from collections_app.services.call_tasks import call_tasks_cancel_not_due

PAYMENT_HEADER = ("account_number", "paid_at", "amount", "reference")


@dataclass(frozen=True)
class PaymentRow:
    """One row of the payments file, parsed; `line` is its CSV line number."""

    line: int
    account_number: str
    paid_at: datetime.datetime
    amount: Decimal
    reference: str


def parse_payment_row(line: int, values: dict[str, str]) -> PaymentRow:
    """Parse one row of the payments file; raise ValueError naming the column and the problem."""
    paid_at = csv_rows.moment(values, "paid_at", required=True)
    assert paid_at is not None  # noqa: S101 - required=True never returns None
    return PaymentRow(
        line=line,
        account_number=csv_rows.text(values, "account_number", 64),
        paid_at=paid_at,
        amount=csv_rows.money(values, "amount", positive=True),
        reference=csv_rows.text(values, "reference", 64),
    )


def _unique_by_reference(
    rows: Sequence[PaymentRow], problems: Problems, summary: ImportSummary
) -> dict[str, PaymentRow]:
    """The first row of each reference: a reference repeated within the file with the same data is one payment."""
    by_reference: dict[str, PaymentRow] = {}
    for row in rows:
        first = by_reference.setdefault(row.reference, row)
        if first is not row:
            if (first.account_number, first.paid_at, first.amount) != (row.account_number, row.paid_at, row.amount):
                problems.add(
                    row.line,
                    _("reference %(r)s differs from its row %(n)d") % {"r": row.reference, "n": first.line},
                )
            summary.skipped += 1
    problems.raise_if_any()
    return by_reference


def _locked_accounts(by_reference: dict[str, PaymentRow]) -> dict[str, LoanAccount]:
    # Locked so that a concurrent import cannot lower the same outstanding from a stale value.
    accounts = LoanAccount.objects.select_for_update().only(
        "account_number", "borrower_id", "outstanding", "oldest_unpaid_due_date", "closed_at"
    )
    numbers = {row.account_number for row in by_reference.values()}
    return {a.account_number: a for a in fetch(accounts, "account_number", numbers)}


def _new_payments(
    by_reference: dict[str, PaymentRow], accounts: dict[str, LoanAccount], problems: Problems, summary: ImportSummary
) -> list[Payment]:
    """The payments not recorded yet, validated; a reference recorded with other data is a problem."""
    recorded_payments = Payment.objects.select_related("account").only(
        "reference", "paid_at", "amount", "account__account_number"
    )
    recorded = {p.reference: p for p in fetch(recorded_payments, "reference", by_reference)}
    new: list[Payment] = []
    for reference, row in by_reference.items():
        account = accounts.get(row.account_number)
        if account is None:
            problems.add(row.line, _("no account with number %(a)r") % {"a": row.account_number})
            continue
        payment = recorded.get(reference)
        if payment is not None:
            if (payment.account.account_number, payment.paid_at, payment.amount) != (
                row.account_number,
                row.paid_at,
                row.amount,
            ):
                problems.add(
                    row.line,
                    _("reference %(r)s is already recorded with a different account, time or amount")
                    % {"r": reference},
                )
            summary.skipped += 1
            continue
        payment = Payment(account=account, paid_at=row.paid_at, amount=row.amount, reference=reference)
        clean_fields(payment, row.line, problems, exclude=["account"])
        new.append(payment)
    problems.raise_if_any()
    return new


def _lowered_accounts(
    paid: dict[str, Decimal], last_paid_at: dict[str, datetime.datetime], accounts: dict[str, LoanAccount]
) -> list[tuple[LoanAccount, list[str]]]:
    """Lower each paid account's outstanding (never below 0), closing it when nothing is left (at its last payment);
    return the accounts that changed and how."""
    changed: list[tuple[LoanAccount, list[str]]] = []
    now = timezone.now()
    for number, amount in paid.items():
        account = accounts[number]
        outstanding = max(Decimal("0.00"), account.outstanding - amount)
        # Nothing unpaid means no DPD: what the core system's next account file will say anyway.
        values = {
            "outstanding": outstanding,
            "oldest_unpaid_due_date": account.oldest_unpaid_due_date if outstanding else None,
            "closed_at": closed_at_after(outstanding=outstanding, closed_at=account.closed_at, at=last_paid_at[number]),
        }
        if fields := changed_fields(account, values):
            account.updated_at = now
            changed.append((account, fields))
    return changed


def payments_import(
    *, rows: Sequence[PaymentRow], source: str, file_name: str = "", progress: Progress | None = None
) -> ImportSummary:
    """Record new payments and lower their accounts' outstanding (never below 0), all or nothing; audited."""
    problems = Problems()
    summary = ImportSummary(rows=len(rows))
    progress = csv_rows.phase_progress(len(rows), progress)
    trail = AuditTrail({"source": source, "file": file_name}, progress)
    by_reference = _unique_by_reference(rows, problems, summary)

    with transaction.atomic():
        accounts = _locked_accounts(by_reference)
        new_payments = _new_payments(by_reference, accounts, problems, summary)
        bulk_write(Payment, new_payments, [], [])
        paid: dict[str, Decimal] = defaultdict(Decimal)
        last_paid_at: dict[str, datetime.datetime] = {}
        for payment in new_payments:
            number = payment.account.account_number
            paid[number] += payment.amount
            last_paid_at[number] = max(payment.paid_at, last_paid_at.get(number, payment.paid_at))
            trail.record(
                "create", payment, [person_key("borrower", payment.account.borrower_id)], ["amount", "paid_at"]
            )

        changed_accounts = _lowered_accounts(paid, last_paid_at, accounts)
        bulk_write(
            LoanAccount, [], changed_accounts, ["outstanding", "oldest_unpaid_due_date", "closed_at", "updated_at"]
        )
        for account, changed in changed_accounts:
            trail.record("update", account, [person_key("borrower", account.borrower_id)], changed)
        trail.flush()
        call_tasks_cancel_not_due(reason="payment", account_ids=ladder_changed(changed_accounts))
        summary.created["payments"] = len(new_payments)
        summary.updated["accounts"] = len(changed_accounts)
        if progress:
            progress(_("payments written"))
    return summary


def payments_import_file(*, path: str, progress: Progress | None = None) -> ImportSummary:
    """Import a payments CSV file (see PAYMENT_HEADER); raise ImportFileError naming the bad rows."""
    rows = csv_rows.open_and_parse(path, PAYMENT_HEADER, parse_payment_row, progress)
    return payments_import(rows=rows, source="import_payments", file_name=Path(path).name, progress=progress)
