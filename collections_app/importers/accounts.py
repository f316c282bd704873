"""The accounts import: borrowers, their loan accounts and contacts, one CSV row per account and contact.

Rows of one account, borrower or contact must agree; then, in one transaction, each kind is matched by its
natural key (account number, borrower ref, borrower and phone), validated, and written in bulk, borrowers
first so that accounts and contacts can point at them. The officer column assigns through `account_assign`.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import collections_app.importers.csv_rows as csv_rows
from access.roles import CASE_OFFICER
from audit.record import person_key
from collections_app.account_rules import closed_at_after
from collections_app.importers.csv_rows import Problems, Progress
from collections_app.importers.trail import AuditTrail
from collections_app.importers.upsert import (
    ImportSummary,
    bulk_write,
    changed_fields,
    chunks,
    clean_fields,
    differing,
    fetch,
    ladder_changed,
)
from collections_app.masking import mask_phone
from collections_app.messaging.opt_outs import phones_import_blocked
from collections_app.models import Borrower, Contact, LoanAccount, Portfolio
from collections_app.services.accounts import account_assign
from collections_app.services.call_tasks import call_tasks_cancel_not_due

ACCOUNT_HEADER = (
    "account_number",
    "borrower_ref",
    "borrower_name",
    "borrower_id_number",
    "borrower_phone",
    "borrower_timezone",
    "principal",
    "outstanding",
    "oldest_unpaid_due_date",
    "portfolio",
    "officer",
    "contact_name",
    "contact_relationship",
    "contact_phone",
    "contact_timezone",
    "contact_consent_at",
)
CONTACT_COLUMNS = ACCOUNT_HEADER[11:]
BORROWER_FIELDS = ["name", "id_number", "phone", "timezone"]
ACCOUNT_FIELDS = ["portfolio_id", "principal", "outstanding", "oldest_unpaid_due_date", "closed_at"]
CONTACT_FIELDS = ["name", "relationship", "timezone", "consent_at", "consent_basis"]
# Built once: TextChoices.values makes a new list on every call, which shows on a 100k-row file.
RELATIONSHIPS = frozenset(Contact.Relationship.values)

# The consent basis recorded for a contact the core system reports with a consent time.
IMPORTED_CONSENT_BASIS = "registered by the borrower with the lender (core system import)"


@dataclass(frozen=True)
class ContactRow:
    """One contact of the borrower, as a row of the accounts file gives it."""

    name: str
    relationship: str
    phone: str
    timezone: str
    consent_at: datetime.datetime | None


@dataclass(frozen=True)
class AccountRow:
    """One row of the accounts file, parsed; `line` is its CSV line number."""

    line: int
    account_number: str
    borrower_ref: str
    borrower_name: str
    borrower_id_number: str
    borrower_phone: str
    borrower_timezone: str
    principal: Decimal
    outstanding: Decimal
    oldest_unpaid_due_date: datetime.date | None
    portfolio: str
    officer: str
    contact: ContactRow | None

    @property
    def borrower_values(self) -> dict[str, Any]:
        """The Borrower fields this row sets."""
        return {
            "name": self.borrower_name,
            "id_number": self.borrower_id_number,
            "phone": self.borrower_phone,
            "timezone": self.borrower_timezone,
        }

    @property
    def account_columns(self) -> dict[str, Any]:
        """The columns that must agree between all rows of one account."""
        return {
            "borrower_ref": self.borrower_ref,
            "principal": self.principal,
            "outstanding": self.outstanding,
            "oldest_unpaid_due_date": self.oldest_unpaid_due_date,
            "portfolio": self.portfolio,
            "officer": self.officer,
        }

    @property
    def borrower_columns(self) -> dict[str, Any]:
        """The columns that must agree between all rows of one borrower."""
        return {f"borrower_{name}": value for name, value in self.borrower_values.items()}


def _contact(values: dict[str, str], borrower_timezone: str) -> ContactRow | None:
    if not any(values[column] for column in CONTACT_COLUMNS):
        return None
    relationship = csv_rows.text(values, "contact_relationship", 16)
    if relationship not in RELATIONSHIPS:
        raise ValueError(
            _("contact_relationship must be one of %(choices)s: %(v)r")
            % {"choices": ", ".join(Contact.Relationship.values), "v": relationship}
        )
    return ContactRow(
        name=csv_rows.text(values, "contact_name", 100),
        relationship=relationship,
        phone=csv_rows.phone(values, "contact_phone"),
        # An empty contact time zone means the contact lives where the borrower does.
        timezone=csv_rows.zone(values, "contact_timezone") if values["contact_timezone"] else borrower_timezone,
        consent_at=csv_rows.moment(values, "contact_consent_at", required=False),
    )


def parse_account_row(line: int, values: dict[str, str]) -> AccountRow:
    """Parse one row of the accounts file; raise ValueError naming the column and the problem."""
    borrower_timezone = csv_rows.zone(values, "borrower_timezone")
    return AccountRow(
        line=line,
        account_number=csv_rows.text(values, "account_number", 64),
        borrower_ref=csv_rows.text(values, "borrower_ref", 64),
        borrower_name=csv_rows.text(values, "borrower_name", 100),
        borrower_id_number=csv_rows.id_number(values, "borrower_id_number"),
        borrower_phone=csv_rows.phone(values, "borrower_phone"),
        borrower_timezone=borrower_timezone,
        principal=csv_rows.money(values, "principal"),
        outstanding=csv_rows.money(values, "outstanding"),
        oldest_unpaid_due_date=csv_rows.date(values, "oldest_unpaid_due_date"),
        portfolio=csv_rows.text(values, "portfolio", 32),
        officer=csv_rows.text(values, "officer", 150, required=False),
        contact=_contact(values, borrower_timezone),
    )


def _contact_columns(contact: ContactRow) -> dict[str, Any]:
    return {
        "contact_name": contact.name,
        "contact_relationship": contact.relationship,
        "contact_timezone": contact.timezone,
        "contact_consent_at": contact.consent_at,
    }


class _AccountsImport:
    """One run of the accounts import; each method is one phase, in the order `run` calls them."""

    def __init__(self, rows: Sequence[AccountRow], source: str, file_name: str, progress: Progress | None) -> None:
        self.rows = rows
        self.problems = Problems()
        self.summary = ImportSummary(rows=len(rows))
        self.progress = csv_rows.phase_progress(len(rows), progress)
        self.trail = AuditTrail({"source": source, "file": file_name}, self.progress)
        # One account, borrower or contact may span several rows: the first row of each speaks for it.
        self.first_account: dict[str, AccountRow] = {}
        self.first_borrower: dict[str, AccountRow] = {}
        self.first_contact: dict[tuple[str, str], tuple[int, ContactRow]] = {}
        self.portfolios: dict[str, Portfolio] = {}
        self.officers: dict[str, AbstractBaseUser] = {}
        self.borrowers: dict[str, Borrower] = {}
        self.accounts: dict[str, LoanAccount] = {}

    def run(self) -> ImportSummary:
        """Check the rows agree, then look up, validate and write everything in one transaction."""
        self.check_rows_agree()
        with transaction.atomic():
            self.look_up_portfolios_and_officers()
            self.look_up_borrowers_and_accounts()
            self.write_borrowers()
            self.write_accounts()
            self.write_contacts()
        return self.summary

    def _phase_done(self, message: str) -> None:
        if self.progress:
            self.progress(message)

    def check_rows_agree(self) -> None:
        """Rows of one account, borrower or contact must give the same values."""
        for row in self.rows:
            account = self.first_account.setdefault(row.account_number, row)
            if columns := differing(account.account_columns, row.account_columns):
                self.problems.add(
                    row.line,
                    _("account %(a)s: %(columns)s differ from its row %(n)d")
                    % {"a": row.account_number, "columns": columns, "n": account.line},
                )
            borrower = self.first_borrower.setdefault(row.borrower_ref, row)
            if columns := differing(borrower.borrower_columns, row.borrower_columns):
                self.problems.add(
                    row.line,
                    _("borrower %(b)s: %(columns)s differ from its row %(n)d")
                    % {"b": row.borrower_ref, "columns": columns, "n": borrower.line},
                )
            if row.contact is not None:
                key = (row.borrower_ref, row.contact.phone)
                line, contact = self.first_contact.setdefault(key, (row.line, row.contact))
                if columns := differing(_contact_columns(contact), _contact_columns(row.contact)):
                    self.problems.add(
                        row.line,
                        _("contact %(p)s of borrower %(b)s: %(columns)s differ from its row %(n)d")
                        % {"p": mask_phone(row.contact.phone), "b": row.borrower_ref, "columns": columns, "n": line},
                    )
        self.problems.raise_if_any()

    def look_up_portfolios_and_officers(self) -> None:
        """The named portfolios must exist and the named officers be active case officers."""
        self.portfolios = {p.code: p for p in Portfolio.objects.filter(code__in={r.portfolio for r in self.rows})}
        user_model = get_user_model()
        self.officers = {
            u.get_username(): u
            for u in user_model.objects.filter(
                **{f"{user_model.USERNAME_FIELD}__in": {r.officer for r in self.rows if r.officer}},
                groups__name=CASE_OFFICER,
                is_active=True,
            )
        }
        for row in self.first_account.values():
            if row.portfolio not in self.portfolios:
                self.problems.add(row.line, _("no portfolio with code %(c)r") % {"c": row.portfolio})
            if row.officer and row.officer not in self.officers:
                self.problems.add(row.line, _("no active case officer with username %(u)r") % {"u": row.officer})

    def look_up_borrowers_and_accounts(self) -> None:
        """The borrowers and accounts already recorded; an account cannot move to another borrower."""
        self.borrowers = {b.external_ref: b for b in fetch(Borrower.objects.all(), "external_ref", self.first_borrower)}
        accounts = LoanAccount.objects.select_related("borrower").only(
            "account_number",
            "borrower__external_ref",
            "portfolio_id",
            "officer_id",
            "principal",
            "outstanding",
            "oldest_unpaid_due_date",
            "closed_at",
        )
        self.accounts = {a.account_number: a for a in fetch(accounts, "account_number", self.first_account)}
        for number, row in self.first_account.items():
            account = self.accounts.get(number)
            if account is not None and account.borrower.external_ref != row.borrower_ref:
                self.problems.add(
                    row.line,
                    _("account %(a)s belongs to borrower %(b)s, not %(c)s")
                    % {"a": number, "b": account.borrower.external_ref, "c": row.borrower_ref},
                )

    def write_borrowers(self) -> None:
        """Compare, validate, then write the borrowers."""
        new: list[Borrower] = []
        changed: list[tuple[Borrower, list[str]]] = []
        for ref, row in self.first_borrower.items():
            borrower = self.borrowers.get(ref)
            if borrower is None:
                borrower = Borrower(external_ref=ref, **row.borrower_values)
                clean_fields(borrower, row.line, self.problems)
                new.append(borrower)
                self.borrowers[ref] = borrower
            elif borrower.erased_at is not None:
                # Erased under retention: the core system's copy of the values is not taken back in.
                self.summary.left_out.append(
                    _("line %(n)d: borrower %(b)s was erased; their personal data is not imported again")
                    % {"n": row.line, "b": ref}
                )
            elif fields := changed_fields(borrower, row.borrower_values):
                clean_fields(borrower, row.line, self.problems)
                changed.append((borrower, fields))
        self.problems.raise_if_any()

        bulk_write(Borrower, new, changed, BORROWER_FIELDS)
        for borrower in new:
            self.trail.record("create", borrower, [person_key("borrower", borrower.pk)], BORROWER_FIELDS)
        for borrower, fields in changed:
            self.trail.record("update", borrower, [person_key("borrower", borrower.pk)], fields)
        self.trail.flush()
        self.summary.created["borrowers"] = len(new)
        self.summary.updated["borrowers"] = len(changed)
        self._phase_done(_("borrowers written"))

    def write_accounts(self) -> None:
        """Compare, validate, then write the accounts; then assign the officers and cancel stale call tasks."""
        new: list[LoanAccount] = []
        changed: list[tuple[LoanAccount, list[str]]] = []
        to_assign: dict[int, list[LoanAccount]] = defaultdict(list)
        now = timezone.now()
        for number, row in self.first_account.items():
            values = {
                "portfolio_id": self.portfolios[row.portfolio].pk,
                "principal": row.principal,
                "outstanding": row.outstanding,
                "oldest_unpaid_due_date": row.oldest_unpaid_due_date,
            }
            account = self.accounts.get(number)
            values["closed_at"] = closed_at_after(
                outstanding=row.outstanding, closed_at=account.closed_at if account else None, at=now
            )
            if account is None:
                account = LoanAccount(
                    account_number=number, borrower=self.borrowers[row.borrower_ref], updated_at=now, **values
                )
                clean_fields(account, row.line, self.problems, exclude=["borrower", "portfolio", "officer"])
                new.append(account)
            elif fields := changed_fields(account, values):
                account.updated_at = now
                changed.append((account, fields))
            # An empty officer column leaves the assignment alone: assignments are managed in the admin.
            if row.officer and account.officer_id != self.officers[row.officer].pk:
                to_assign[self.officers[row.officer].pk].append(account)
        self.problems.raise_if_any()

        bulk_write(LoanAccount, new, changed, [*ACCOUNT_FIELDS, "updated_at"])
        for account in new:
            fields = ["account_number", "borrower", "portfolio", "principal", "outstanding", "oldest_unpaid_due_date"]
            self.trail.record("create", account, [person_key("borrower", account.borrower_id)], fields)
        for account, fields in changed:
            names = [name.removesuffix("_id") for name in fields]
            self.trail.record("update", account, [person_key("borrower", account.borrower_id)], names)
        self.trail.flush()
        call_tasks_cancel_not_due(reason="account_update", account_ids=ladder_changed(changed))
        self._assign(to_assign)
        self.summary.created["accounts"] = len(new)
        self.summary.updated["accounts"] = len(changed)
        self._phase_done(_("accounts written"))

    def _assign(self, to_assign: dict[int, list[LoanAccount]]) -> None:
        # account_assign also grants the officer the object permission and audits the change.
        officers_by_pk = {officer.pk: officer for officer in self.officers.values()}
        if self.progress and to_assign:
            total = sum(len(accounts) for accounts in to_assign.values())
            self.progress(_("assigning %(n)d accounts to their officers") % {"n": total})
        for officer_pk, accounts in to_assign.items():
            for chunk in chunks(accounts):
                self.summary.reassigned += account_assign(
                    accounts=chunk, officer=officers_by_pk[officer_pk], actor=None
                )

    def write_contacts(self) -> None:
        """Compare, validate, then write the contacts, matched by borrower and phone."""
        borrower_ids = {self.borrowers[ref].pk for ref, _phone_number in self.first_contact}
        existing = {(c.borrower_id, c.phone): c for c in fetch(Contact.objects.all(), "borrower_id", borrower_ids)}
        blocked = phones_import_blocked(phone for _ref, phone in self.first_contact)
        new: list[Contact] = []
        changed: list[tuple[Contact, list[str]]] = []
        for (ref, phone), (line, row_contact) in self.first_contact.items():
            borrower = self.borrowers[ref]
            if phone in blocked or borrower.erased_at is not None:
                self.summary.left_out.append(_left_out_contact_note(line, ref, phone, erased_number=phone in blocked))
                continue
            values = {
                "name": row_contact.name,
                "relationship": row_contact.relationship,
                "timezone": row_contact.timezone,
                "consent_at": row_contact.consent_at,
            }
            contact = existing.get((borrower.pk, phone))
            if contact is None:
                if row_contact.consent_at is not None:
                    values["consent_basis"] = IMPORTED_CONSENT_BASIS
                contact = Contact(borrower=borrower, phone=phone, **values)
                clean_fields(contact, line, self.problems, exclude=["borrower"])
                new.append(contact)
                continue
            if row_contact.consent_at is not None and not contact.consent_basis:
                values["consent_basis"] = IMPORTED_CONSENT_BASIS
            if fields := changed_fields(contact, values):
                changed.append((contact, fields))
        self.problems.raise_if_any()

        bulk_write(Contact, new, changed, CONTACT_FIELDS)
        for contact in new:
            fields = ["name", "relationship", "phone", "timezone", "consent_at", "consent_basis"]
            self.trail.record("create", contact, [person_key("contact", contact.pk)], fields)
        for contact, fields in changed:
            self.trail.record("update", contact, [person_key("contact", contact.pk)], fields)
        self.trail.flush()
        self.summary.created["contacts"] = len(new)
        self.summary.updated["contacts"] = len(changed)
        self._phase_done(_("contacts written"))


def _left_out_contact_note(line: int, ref: str, phone: str, *, erased_number: bool) -> str:
    if erased_number:
        return _(
            "line %(n)d: contact %(p)s of borrower %(b)s not imported: the number was erased at its owner's request"
        ) % {"n": line, "p": mask_phone(phone), "b": ref}
    return _("line %(n)d: contact %(p)s of borrower %(b)s not imported: the borrower was erased") % {
        "n": line,
        "p": mask_phone(phone),
        "b": ref,
    }


def accounts_import(
    *, rows: Sequence[AccountRow], source: str, file_name: str = "", progress: Progress | None = None
) -> ImportSummary:
    """Upsert borrowers, loan accounts and contacts from parsed rows, all or nothing; audited per change."""
    return _AccountsImport(rows, source, file_name, progress).run()


def accounts_import_file(*, path: str, progress: Progress | None = None) -> ImportSummary:
    """Import an accounts CSV file (see ACCOUNT_HEADER); raise ImportFileError naming the bad rows."""
    rows = csv_rows.open_and_parse(path, ACCOUNT_HEADER, parse_account_row, progress)
    return accounts_import(rows=rows, source="import_accounts", file_name=Path(path).name, progress=progress)
