"""Imports from the core lending system: accounts (with borrowers and contacts) and payments.

Each import reads every row, validates all of it, and only then writes, in one transaction: a bad row
stops the import naming its CSV line, and nothing from the file is written. Re-running a file changes
nothing (rows are matched by their natural keys and only differing values are written), and nothing is
ever deleted. Every created or changed object gets one audit event through `audit_record_many`.
"""

import csv
import datetime
import re
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER
from audit.services import audit_record_many
from collections_app.models import Borrower, Contact, LoanAccount, Payment, Portfolio
from collections_app.models.accounts import e164_validator
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
PAYMENT_HEADER = ("account_number", "paid_at", "amount", "reference")
BORROWER_FIELDS = ["name", "id_number", "phone", "timezone"]
ACCOUNT_FIELDS = ["portfolio_id", "principal", "outstanding", "oldest_unpaid_due_date"]
CONTACT_FIELDS = ["name", "relationship", "timezone", "consent_at", "consent_basis"]
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Built once: TextChoices.values makes a new list on every call, which shows on a 100k-row file.
RELATIONSHIPS = frozenset(Contact.Relationship.values)

# The consent basis recorded for a contact the core system reports with a consent time.
IMPORTED_CONSENT_BASIS = "registered by the borrower with the lender (core system import)"
PROGRESS_EVERY = 10_000
# Problems listed before giving up: enough to fix a file in one pass, short enough to read.
MAX_PROBLEMS = 20
# Keys per `IN (...)` query and rows per bulk statement: under SQLite's 999 bound parameters.
CHUNK = 900
BATCH = 500

Progress = Callable[[str], None]
T = TypeVar("T")


class ImportFileError(Exception):
    """The file cannot be imported; `problems` are (CSV line number, message), line 0 for the whole file."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = sorted(problems)[:MAX_PROBLEMS]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            _("row %(line)d: %(problem)s") % {"line": line, "problem": problem} if line else problem
            for line, problem in self.problems
        )


class _Problems:
    """Collects row problems; raises them together at the end of a validation phase."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))
        if len(self.items) >= MAX_PROBLEMS:
            raise ImportFileError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFileError(self.items)


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


@dataclass(frozen=True)
class PaymentRow:
    """One row of the payments file, parsed; `line` is its CSV line number."""

    line: int
    account_number: str
    paid_at: datetime.datetime
    amount: Decimal
    reference: str


@dataclass
class ImportSummary:
    """What an import did, per object type."""

    rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    reassigned: int = 0

    def __str__(self) -> str:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{n} {name}" for name, n in sorted(counter.items()) if n) or "0"

        text = _("%(rows)d rows; created: %(created)s; updated: %(updated)s") % {
            "rows": self.rows,
            "created": counts(self.created),
            "updated": counts(self.updated),
        }
        if self.reassigned:
            text += _("; reassigned: %(n)d accounts") % {"n": self.reassigned}
        if self.skipped:
            text += _("; already recorded: %(n)d") % {"n": self.skipped}
        return text


# Reading and parsing -------------------------------------------------------------------------------------


def read_rows(stream: TextIO, header: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (CSV line number, values by column) after checking the header; blank lines are skipped.

    Open the file with encoding="utf-8-sig" and newline="" so a BOM is dropped and quoted newlines survive.
    """
    reader = csv.reader(stream, strict=True)
    last_line = 0
    try:
        first = next(reader, None)
        if first is None:
            raise ImportFileError([(0, _("The file is empty; expected the header %(h)s.") % {"h": ",".join(header)})])
        if [value.strip() for value in first] != list(header):
            raise ImportFileError([(1, _("the header must be exactly %(h)s") % {"h": ",".join(header)})])
        last_line = reader.line_num
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if len(record) != len(header):
                raise ImportFileError(
                    [(line, _("expected %(n)d columns, found %(m)d") % {"n": len(header), "m": len(record)})]
                )
            yield line, {name: value.strip() for name, value in zip(header, record, strict=True)}
    except UnicodeDecodeError as exc:
        raise ImportFileError([(last_line + 1, _("the file is not valid UTF-8"))]) from exc
    except csv.Error as exc:
        raise ImportFileError([(last_line + 1, _("malformed CSV: %(e)s") % {"e": exc})]) from exc


def _text(values: dict[str, str], column: str, max_length: int, *, required: bool = True) -> str:
    value = values[column]
    if required and not value:
        raise ValueError(_("%(c)s is required") % {"c": column})
    if len(value) > max_length:
        raise ValueError(_("%(c)s is longer than %(n)d characters") % {"c": column, "n": max_length})
    return value


def _money(values: dict[str, str], column: str, *, positive: bool = False) -> Decimal:
    raw = values[column]
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_("%(c)s is not a decimal number: %(v)r") % {"c": column, "v": raw}) from None
    if not amount.is_finite():
        raise ValueError(_("%(c)s is not a decimal number: %(v)r") % {"c": column, "v": raw})
    if amount < 0 or (positive and amount == 0):
        rule = _("greater than 0") if positive else _("0 or more")
        raise ValueError(_("%(c)s must be %(rule)s: %(v)r") % {"c": column, "rule": rule, "v": raw})
    if amount >= Decimal("1e12"):
        raise ValueError(_("%(c)s is too large: %(v)r") % {"c": column, "v": raw})
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise ValueError(_("%(c)s must have at most 2 decimal places: %(v)r") % {"c": column, "v": raw})
    return cents


def _date(values: dict[str, str], column: str) -> datetime.date | None:
    raw = values[column]
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("%(c)s is not an ISO date (YYYY-MM-DD): %(v)r") % {"c": column, "v": raw}) from None


def _datetime(values: dict[str, str], column: str, *, required: bool) -> datetime.datetime | None:
    """An ISO 8601 date-time; without an offset it is read in the lender's time zone (`TIME_ZONE`)."""
    raw = values[column]
    if not raw:
        if required:
            raise ValueError(_("%(c)s is required") % {"c": column})
        return None
    try:
        moment = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("%(c)s is not an ISO 8601 date-time: %(v)r") % {"c": column, "v": raw}) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return moment


def _phone(values: dict[str, str], column: str) -> str:
    value = _text(values, column, 16)
    try:
        e164_validator(value)
    except ValidationError:
        raise ValueError(
            _("%(c)s must be in E.164 form such as +8613800000000: %(v)r") % {"c": column, "v": value}
        ) from None
    return value


def _zone(values: dict[str, str], column: str) -> str:
    value = _text(values, column, 64)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            _("%(c)s is not an IANA time zone such as Asia/Shanghai: %(v)r") % {"c": column, "v": value}
        ) from None
    return value


def _contact(values: dict[str, str], borrower_timezone: str) -> ContactRow | None:
    if not any(values[column] for column in CONTACT_COLUMNS):
        return None
    relationship = _text(values, "contact_relationship", 16)
    if relationship not in RELATIONSHIPS:
        raise ValueError(
            _("contact_relationship must be one of %(choices)s: %(v)r")
            % {"choices": ", ".join(Contact.Relationship.values), "v": relationship}
        )
    return ContactRow(
        name=_text(values, "contact_name", 100),
        relationship=relationship,
        phone=_phone(values, "contact_phone"),
        # An empty contact time zone means the contact lives where the borrower does.
        timezone=_zone(values, "contact_timezone") if values["contact_timezone"] else borrower_timezone,
        consent_at=_datetime(values, "contact_consent_at", required=False),
    )


def parse_account_row(line: int, values: dict[str, str]) -> AccountRow:
    """Parse one row of the accounts file; raise ValueError naming the column and the problem."""
    borrower_timezone = _zone(values, "borrower_timezone")
    return AccountRow(
        line=line,
        account_number=_text(values, "account_number", 64),
        borrower_ref=_text(values, "borrower_ref", 64),
        borrower_name=_text(values, "borrower_name", 100),
        borrower_id_number=_text(values, "borrower_id_number", 32, required=False),
        borrower_phone=_phone(values, "borrower_phone"),
        borrower_timezone=borrower_timezone,
        principal=_money(values, "principal"),
        outstanding=_money(values, "outstanding"),
        oldest_unpaid_due_date=_date(values, "oldest_unpaid_due_date"),
        portfolio=_text(values, "portfolio", 32),
        officer=_text(values, "officer", 150, required=False),
        contact=_contact(values, borrower_timezone),
    )


def parse_payment_row(line: int, values: dict[str, str]) -> PaymentRow:
    """Parse one row of the payments file; raise ValueError naming the column and the problem."""
    paid_at = _datetime(values, "paid_at", required=True)
    assert paid_at is not None  # noqa: S101 - required=True never returns None
    return PaymentRow(
        line=line,
        account_number=_text(values, "account_number", 64),
        paid_at=paid_at,
        amount=_money(values, "amount", positive=True),
        reference=_text(values, "reference", 64),
    )


def _refuse_control_characters(values: dict[str, str]) -> None:
    # No cell of either file has a use for them: NUL cannot even be stored in PostgreSQL text, and line
    # breaks or escape sequences in a name would reach pages, logs and messages.
    for column, value in values.items():
        if match := CONTROL_CHARACTER.search(value):
            raise ValueError(
                _("%(c)s contains a control character (U+%(code)04X)") % {"c": column, "code": ord(match.group())}
            )


def parse_file(
    stream: TextIO,
    header: Sequence[str],
    parse: Callable[[int, dict[str, str]], T],
    progress: Progress | None = None,
) -> list[T]:
    """Read and parse every row of a file, collecting row problems; raise ImportFileError if there are any."""
    problems = _Problems()
    rows: list[T] = []
    count = 0
    for line, values in read_rows(stream, header):
        count += 1
        try:
            _refuse_control_characters(values)
            rows.append(parse(line, values))
        except ValueError as exc:
            problems.add(line, str(exc))
        if progress and count % PROGRESS_EVERY == 0:
            progress(_("read %(n)d rows") % {"n": count})
    problems.raise_if_any()
    return rows


# Writing -------------------------------------------------------------------------------------------------


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fetch(queryset: models.QuerySet, lookup: str, keys: Iterable[Any]) -> Iterator[Any]:
    """Rows of `queryset` whose `lookup` is one of `keys`, a chunk of keys per query."""
    for chunk in _chunks(list(keys)):
        yield from queryset.filter(**{f"{lookup}__in": chunk})


def _changed(obj: models.Model, values: dict[str, Any]) -> list[str]:
    """Set the differing `values` on `obj`; return the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


class _AuditTrail:
    """One audit event per created or changed object, through the single entry point; progress on big files.

    Events are collected per phase and written by `flush` through the entry point's bulk form.
    """

    def __init__(self, detail: dict[str, str], progress: Progress | None) -> None:
        self.detail = detail
        self.progress = progress
        self.pending: list[dict[str, Any]] = []
        self.count = 0

    def record(self, action: str, obj: models.Model, persons: list[str], fields: Iterable[str]) -> None:
        self.pending.append(
            {
                "action": action,
                "object_type": obj._meta.model_name,
                "object_id": obj.pk,
                "persons": persons,
                "fields": fields,
                "detail": self.detail,
            }
        )

    def flush(self) -> None:
        for start in range(0, len(self.pending), PROGRESS_EVERY):
            before = self.count
            self.count += audit_record_many(self.pending[start : start + PROGRESS_EVERY])
            if self.progress and self.count // PROGRESS_EVERY > before // PROGRESS_EVERY:
                self.progress(_("wrote %(n)d audit events") % {"n": self.count})
        self.pending.clear()


def _clean_fields(obj: models.Model, line: int, problems: _Problems, exclude: Sequence[str] = ()) -> None:
    """Model-level field validation before anything is written, reported against the row."""
    try:
        obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            problems.add(line, f"{name}: {' '.join(messages)}")


def _differing(first: dict[str, Any], other: dict[str, Any]) -> str:
    """The names of the columns whose values differ, comma-separated ("" when none do)."""
    return ", ".join(name for name, value in first.items() if other[name] != value)


# The account columns that decide whether the ladder still asks for a call (DPD and the policy profile).
LADDER_COLUMNS = frozenset({"oldest_unpaid_due_date", "portfolio_id"})


def _ladder_changed(changed_accounts: Sequence[tuple[LoanAccount, list[str]]]) -> list[int]:
    """Ids of the changed accounts whose ladder columns changed: only their call tasks may have to go."""
    return [account.pk for account, changed in changed_accounts if LADDER_COLUMNS.intersection(changed)]


def _contact_columns(contact: ContactRow) -> dict[str, Any]:
    return {
        "contact_name": contact.name,
        "contact_relationship": contact.relationship,
        "contact_timezone": contact.timezone,
        "contact_consent_at": contact.consent_at,
    }


def accounts_import(
    *, rows: Sequence[AccountRow], source: str, file_name: str = "", progress: Progress | None = None
) -> ImportSummary:
    """Upsert borrowers, loan accounts and contacts from parsed rows, all or nothing; audited per change."""
    problems = _Problems()
    summary = ImportSummary(rows=len(rows))
    # Phase messages only for files large enough to take a while.
    progress = progress if len(rows) >= PROGRESS_EVERY else None
    trail = _AuditTrail({"source": source, "file": file_name}, progress)

    # One account, borrower or contact may span several rows: they must agree.
    first_account: dict[str, AccountRow] = {}
    first_borrower: dict[str, AccountRow] = {}
    first_contact: dict[tuple[str, str], tuple[int, ContactRow]] = {}
    for row in rows:
        account = first_account.setdefault(row.account_number, row)
        if differing := _differing(account.account_columns, row.account_columns):
            problems.add(
                row.line,
                _("account %(a)s: %(columns)s differ from its row %(n)d")
                % {"a": row.account_number, "columns": differing, "n": account.line},
            )
        borrower = first_borrower.setdefault(row.borrower_ref, row)
        if differing := _differing(borrower.borrower_columns, row.borrower_columns):
            problems.add(
                row.line,
                _("borrower %(b)s: %(columns)s differ from its row %(n)d")
                % {"b": row.borrower_ref, "columns": differing, "n": borrower.line},
            )
        if row.contact is not None:
            line, contact = first_contact.setdefault((row.borrower_ref, row.contact.phone), (row.line, row.contact))
            if differing := _differing(_contact_columns(contact), _contact_columns(row.contact)):
                problems.add(
                    row.line,
                    _("contact %(p)s of borrower %(b)s: %(columns)s differ from its row %(n)d")
                    % {"p": row.contact.phone, "b": row.borrower_ref, "columns": differing, "n": line},
                )
    problems.raise_if_any()

    with transaction.atomic():
        portfolios = {p.code: p for p in Portfolio.objects.filter(code__in={r.portfolio for r in rows})}
        user_model = get_user_model()
        officers = {
            u.get_username(): u
            for u in user_model.objects.filter(
                **{f"{user_model.USERNAME_FIELD}__in": {r.officer for r in rows if r.officer}},
                groups__name=CASE_OFFICER,
                is_active=True,
            )
        }
        for row in first_account.values():
            if row.portfolio not in portfolios:
                problems.add(row.line, _("no portfolio with code %(c)r") % {"c": row.portfolio})
            if row.officer and row.officer not in officers:
                problems.add(row.line, _("no active case officer with username %(u)r") % {"u": row.officer})

        existing_borrowers = {b.external_ref: b for b in _fetch(Borrower.objects.all(), "external_ref", first_borrower)}
        existing_accounts = {
            a.account_number: a
            for a in _fetch(
                LoanAccount.objects.select_related("borrower").only(
                    "account_number",
                    "borrower__external_ref",
                    "portfolio_id",
                    "officer_id",
                    "principal",
                    "outstanding",
                    "oldest_unpaid_due_date",
                ),
                "account_number",
                first_account,
            )
        }
        for number, row in first_account.items():
            account = existing_accounts.get(number)
            if account is not None and account.borrower.external_ref != row.borrower_ref:
                problems.add(
                    row.line,
                    _("account %(a)s belongs to borrower %(b)s, not %(c)s")
                    % {"a": number, "b": account.borrower.external_ref, "c": row.borrower_ref},
                )

        # Borrowers: compare, validate, then write.
        new_borrowers: list[Borrower] = []
        changed_borrowers: list[tuple[Borrower, list[str]]] = []
        for ref, row in first_borrower.items():
            borrower = existing_borrowers.get(ref)
            if borrower is None:
                borrower = Borrower(external_ref=ref, **row.borrower_values)
                _clean_fields(borrower, row.line, problems)
                new_borrowers.append(borrower)
                existing_borrowers[ref] = borrower
            elif changed := _changed(borrower, row.borrower_values):
                _clean_fields(borrower, row.line, problems)
                changed_borrowers.append((borrower, changed))
        problems.raise_if_any()

        Borrower.objects.bulk_create(new_borrowers, batch_size=BATCH)
        if changed_borrowers:
            Borrower.objects.bulk_update(
                [b for b, _changed_fields in changed_borrowers], BORROWER_FIELDS, batch_size=BATCH
            )
        for borrower in new_borrowers:
            trail.record("create", borrower, [f"borrower:{borrower.pk}"], BORROWER_FIELDS)
        for borrower, changed in changed_borrowers:
            trail.record("update", borrower, [f"borrower:{borrower.pk}"], changed)
        trail.flush()
        summary.created["borrowers"] = len(new_borrowers)
        summary.updated["borrowers"] = len(changed_borrowers)
        if progress:
            progress(_("borrowers written"))

        # Accounts: the officer goes through account_assign, which also grants the object permission.
        new_accounts: list[LoanAccount] = []
        changed_accounts: list[tuple[LoanAccount, list[str]]] = []
        to_assign: dict[int, list[LoanAccount]] = defaultdict(list)
        now = timezone.now()
        for number, row in first_account.items():
            values = {
                "portfolio_id": portfolios[row.portfolio].pk,
                "principal": row.principal,
                "outstanding": row.outstanding,
                "oldest_unpaid_due_date": row.oldest_unpaid_due_date,
            }
            account = existing_accounts.get(number)
            if account is None:
                account = LoanAccount(
                    account_number=number, borrower=existing_borrowers[row.borrower_ref], updated_at=now, **values
                )
                _clean_fields(account, row.line, problems, exclude=["borrower", "portfolio", "officer"])
                new_accounts.append(account)
            elif changed := _changed(account, values):
                account.updated_at = now
                changed_accounts.append((account, changed))
            # An empty officer column leaves the assignment alone: assignments are managed in the admin.
            if row.officer and account.officer_id != officers[row.officer].pk:
                to_assign[officers[row.officer].pk].append(account)
        problems.raise_if_any()

        LoanAccount.objects.bulk_create(new_accounts, batch_size=BATCH)
        if changed_accounts:
            LoanAccount.objects.bulk_update(
                [a for a, _changed_fields in changed_accounts], [*ACCOUNT_FIELDS, "updated_at"], batch_size=BATCH
            )
        for account in new_accounts:
            fields = ["account_number", "borrower", "portfolio", "principal", "outstanding", "oldest_unpaid_due_date"]
            trail.record("create", account, [f"borrower:{account.borrower_id}"], fields)
        for account, changed in changed_accounts:
            fields = [name.removesuffix("_id") for name in changed]
            trail.record("update", account, [f"borrower:{account.borrower_id}"], fields)
        trail.flush()
        call_tasks_cancel_not_due(reason="account_update", account_ids=_ladder_changed(changed_accounts))
        officers_by_pk = {officer.pk: officer for officer in officers.values()}
        if progress and to_assign:
            total = sum(len(accounts) for accounts in to_assign.values())
            progress(_("assigning %(n)d accounts to their officers") % {"n": total})
        for officer_pk, accounts in to_assign.items():
            for chunk in _chunks(accounts):
                summary.reassigned += account_assign(accounts=chunk, officer=officers_by_pk[officer_pk], actor=None)
        summary.created["accounts"] = len(new_accounts)
        summary.updated["accounts"] = len(changed_accounts)
        if progress:
            progress(_("accounts written"))

        # Contacts, by borrower and phone.
        borrower_ids = {existing_borrowers[ref].pk for ref, _phone_number in first_contact}
        existing_contacts = {
            (c.borrower_id, c.phone): c for c in _fetch(Contact.objects.all(), "borrower_id", borrower_ids)
        }
        new_contacts: list[Contact] = []
        changed_contacts: list[tuple[Contact, list[str]]] = []
        for (ref, phone), (line, row_contact) in first_contact.items():
            borrower = existing_borrowers[ref]
            values = {
                "name": row_contact.name,
                "relationship": row_contact.relationship,
                "timezone": row_contact.timezone,
                "consent_at": row_contact.consent_at,
            }
            contact = existing_contacts.get((borrower.pk, phone))
            if contact is None:
                if row_contact.consent_at is not None:
                    values["consent_basis"] = IMPORTED_CONSENT_BASIS
                contact = Contact(borrower=borrower, phone=phone, **values)
                _clean_fields(contact, line, problems, exclude=["borrower"])
                new_contacts.append(contact)
                continue
            if row_contact.consent_at is not None and not contact.consent_basis:
                values["consent_basis"] = IMPORTED_CONSENT_BASIS
            if changed := _changed(contact, values):
                changed_contacts.append((contact, changed))
        problems.raise_if_any()

        Contact.objects.bulk_create(new_contacts, batch_size=BATCH)
        if changed_contacts:
            Contact.objects.bulk_update(
                [c for c, _changed_fields in changed_contacts],
                CONTACT_FIELDS,
                batch_size=BATCH,
            )
        for contact in new_contacts:
            fields = ["name", "relationship", "phone", "timezone", "consent_at", "consent_basis"]
            trail.record("create", contact, [f"contact:{contact.pk}"], fields)
        for contact, changed in changed_contacts:
            trail.record("update", contact, [f"contact:{contact.pk}"], changed)
        trail.flush()
        summary.created["contacts"] = len(new_contacts)
        summary.updated["contacts"] = len(changed_contacts)
        if progress:
            progress(_("contacts written"))
    return summary


def payments_import(
    *, rows: Sequence[PaymentRow], source: str, file_name: str = "", progress: Progress | None = None
) -> ImportSummary:
    """Record new payments and lower their accounts' outstanding (never below 0), all or nothing; audited."""
    problems = _Problems()
    summary = ImportSummary(rows=len(rows))
    # Phase messages only for files large enough to take a while.
    progress = progress if len(rows) >= PROGRESS_EVERY else None
    trail = _AuditTrail({"source": source, "file": file_name}, progress)

    # A reference repeated within the file with the same data is one payment.
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

    with transaction.atomic():
        # Locked so that a concurrent import cannot lower the same outstanding from a stale value.
        accounts = {
            a.account_number: a
            for a in _fetch(
                LoanAccount.objects.select_for_update().only(
                    "account_number", "borrower_id", "outstanding", "oldest_unpaid_due_date"
                ),
                "account_number",
                {row.account_number for row in by_reference.values()},
            )
        }
        recorded = {
            p.reference: p
            for p in _fetch(
                Payment.objects.select_related("account").only(
                    "reference", "paid_at", "amount", "account__account_number"
                ),
                "reference",
                by_reference,
            )
        }
        new_payments: list[Payment] = []
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
            _clean_fields(payment, row.line, problems, exclude=["account"])
            new_payments.append(payment)
        problems.raise_if_any()

        Payment.objects.bulk_create(new_payments, batch_size=BATCH)
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for payment in new_payments:
            paid[payment.account.account_number] += payment.amount
            trail.record("create", payment, [f"borrower:{payment.account.borrower_id}"], ["amount", "paid_at"])

        changed_accounts: list[tuple[LoanAccount, list[str]]] = []
        now = timezone.now()
        for number, amount in paid.items():
            account = accounts[number]
            outstanding = max(Decimal("0.00"), account.outstanding - amount)
            # Nothing unpaid means no DPD: what the core system's next account file will say anyway.
            values = {
                "outstanding": outstanding,
                "oldest_unpaid_due_date": account.oldest_unpaid_due_date if outstanding else None,
            }
            if changed := _changed(account, values):
                account.updated_at = now
                changed_accounts.append((account, changed))
        if changed_accounts:
            LoanAccount.objects.bulk_update(
                [a for a, _changed_fields in changed_accounts],
                ["outstanding", "oldest_unpaid_due_date", "updated_at"],
                batch_size=BATCH,
            )
        for account, changed in changed_accounts:
            trail.record("update", account, [f"borrower:{account.borrower_id}"], changed)
        trail.flush()
        call_tasks_cancel_not_due(reason="payment", account_ids=_ladder_changed(changed_accounts))
        summary.created["payments"] = len(new_payments)
        summary.updated["accounts"] = len(changed_accounts)
        if progress:
            progress(_("payments written"))
    return summary


def _open_and_parse(
    path: str, header: Sequence[str], parse: Callable[[int, dict[str, str]], T], progress: Progress | None
) -> list[T]:
    try:
        # utf-8-sig drops a BOM when there is one; newline="" lets csv keep quoted newlines.
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return parse_file(stream, header, parse, progress)
    except OSError as exc:
        raise ImportFileError([(0, _("cannot read %(path)s: %(e)s") % {"path": path, "e": exc.strerror})]) from exc


def accounts_import_file(*, path: str, progress: Progress | None = None) -> ImportSummary:
    """Import an accounts CSV file (see ACCOUNT_HEADER); raise ImportFileError naming the bad rows."""
    rows = _open_and_parse(path, ACCOUNT_HEADER, parse_account_row, progress)
    return accounts_import(rows=rows, source="import_accounts", file_name=Path(path).name, progress=progress)


def payments_import_file(*, path: str, progress: Progress | None = None) -> ImportSummary:
    """Import a payments CSV file (see PAYMENT_HEADER); raise ImportFileError naming the bad rows."""
    rows = _open_and_parse(path, PAYMENT_HEADER, parse_payment_row, progress)
    return payments_import(rows=rows, source="import_payments", file_name=Path(path).name, progress=progress)
