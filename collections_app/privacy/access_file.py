"""A person's access file (PIPL art. 45): their data as the app holds it and their access report, in one JSON file.

Built from the live data at each download (no second copy of anyone's data is kept), for a fulfilled access
request. A borrower's file holds the borrower, their accounts with payments, promises, plans and flags, the
messages to them, the interactions with them, their complaints and requests. A contact's file holds the contact,
the messages to them, when they were called and how it went, their complaints and requests: never the borrower's
debt, which is not the contact's data (and a third party never learns of it), so neither accounts nor the officers'
notes on interactions (they are about the account).
The access report lists every audit event naming the person: who, when, what, which fields and why.
"""

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet

from audit.forms import AuditFilter
from audit.selectors import EXPORT_COLUMNS, audit_export_bounds, audit_export_rows
from collections_app.models import (
    Borrower,
    BorrowerFlag,
    ChannelStop,
    Complaint,
    Contact,
    DataSubjectRequest,
    Flag,
    Interaction,
    LoanAccount,
    Message,
    PhoneOptOut,
)

FORMAT = "pipl-access-file/1"
# The access report's columns: the audit export's, less the ones that describe the app's plumbing.
REPORT_COLUMNS = tuple(column for column in EXPORT_COLUMNS if column not in ("person", "request_id", "ip"))
# The field names the file holds, by subject: what the download's reveal event records.
BORROWER_FIELDS = (
    "borrower.name",
    "borrower.id_number",
    "borrower.phone",
    "loanaccount",
    "payment",
    "message.recipient",
    "message.body",
    "interaction.note",
    "complaint.text",
    "privacyrequest.text",
)
CONTACT_FIELDS = (
    "contact.name",
    "contact.phone",
    "contact.relationship",
    "message.recipient",
    "message.body",
    "complaint.text",
    "privacyrequest.text",
)


def _plain(value: Any) -> Any:
    """A value as JSON holds it: moments and days in ISO 8601, amounts as text (exact)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(queryset: QuerySet[Any], fields: Iterable[str]) -> list[dict[str, Any]]:
    names = list(fields)
    return [{name: _plain(value) for name, value in row.items()} for row in queryset.values(*names)]


def _one(instance: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(instance, name)) for name in fields}


def _borrower_data(borrower: Borrower) -> dict[str, Any]:
    accounts = LoanAccount.objects.filter(borrower=borrower).order_by("pk")
    return {
        "borrower": _one(borrower, ("external_ref", "name", "id_number", "phone", "timezone", "cease_requested_at")),
        "accounts": [
            {
                **_one(
                    account,
                    ("account_number", "principal", "outstanding", "oldest_unpaid_due_date", "updated_at"),
                ),
                "payments": _rows(account.payments.order_by("paid_at"), ("paid_at", "amount", "reference")),
                "promises": _rows(account.promises.order_by("created_at"), ("promised_date", "amount", "created_at")),
                "repayment_plans": _rows(account.plans.order_by("pk"), ("kind", "status", "agreed_at", "closed_at")),
                "flags": _rows(
                    Flag.objects.filter(account=account).order_by("opened_at"), ("kind", "opened_at", "closed_at")
                ),
            }
            for account in accounts
        ],
        "messages": _rows(
            Message.objects.filter(borrower=borrower, audience=Message.Audience.BORROWER).order_by("created_at"),
            ("created_at", "channel", "recipient", "body", "status", "sent_at", "delivered_at"),
        ),
        "interactions": _rows(
            Interaction.objects.filter(account__borrower=borrower, contact__isnull=True).order_by("occurred_at"),
            ("occurred_at", "channel", "outcome", "note"),
        ),
        "complaints": _rows(
            Complaint.objects.filter(account__borrower=borrower, contact__isnull=True).order_by("filed_at"),
            ("filed_at", "channel", "category", "text", "status", "resolution"),
        ),
        "stopped_channels": _rows(
            ChannelStop.objects.filter(borrower=borrower).order_by("received_at"), ("channel", "source", "received_at")
        ),
        "borrower_flags": _rows(
            BorrowerFlag.objects.filter(borrower=borrower).order_by("pk"), ("kind", "opened_at", "closed_at")
        ),
        "requests": _requests(DataSubjectRequest.objects.filter(borrower=borrower)),
    }


def _contact_data(contact: Contact) -> dict[str, Any]:
    opt_out = PhoneOptOut.objects.filter(phone=contact.phone).values_list("received_at", flat=True).first()
    return {
        "contact": {
            **_one(contact, ("name", "phone", "relationship", "timezone", "consent_basis", "consent_at")),
            "opted_out_at": _plain(opt_out),
        },
        "messages": _rows(
            Message.objects.filter(contact=contact).order_by("created_at"),
            ("created_at", "channel", "recipient", "body", "status", "sent_at", "delivered_at"),
        ),
        "interactions": _rows(
            Interaction.objects.filter(contact=contact).order_by("occurred_at"), ("occurred_at", "channel", "outcome")
        ),
        "complaints": _rows(
            Complaint.objects.filter(contact=contact).order_by("filed_at"),
            ("filed_at", "channel", "category", "text", "status", "resolution"),
        ),
        "requests": _requests(DataSubjectRequest.objects.filter(contact=contact)),
    }


def _requests(queryset: QuerySet[DataSubjectRequest]) -> list[dict[str, Any]]:
    fields = ("pk", "kind", "status", "received_at", "deadline", "text", "decided_at", "decision_reason")
    return _rows(queryset.order_by("received_at"), fields)


def _access_report(user: AbstractBaseUser, person: str) -> list[dict[str, Any]]:
    """Every audit event naming the person, oldest first, as the access report's columns."""
    audit_filter = AuditFilter(person=person)
    bounds = audit_export_bounds(user=user, audit_filter=audit_filter)
    keep = [EXPORT_COLUMNS.index(column) for column in REPORT_COLUMNS]
    return [
        {column: row[index] for column, index in zip(REPORT_COLUMNS, keep, strict=True)}
        for row in audit_export_rows(user=user, audit_filter=audit_filter, bounds=bounds)
    ]


def access_file_fields(request: DataSubjectRequest) -> tuple[str, ...]:
    """The personal fields the request's access file holds (its download's reveal event names them)."""
    return BORROWER_FIELDS if request.contact_id is None else CONTACT_FIELDS


def access_file_build(*, request: DataSubjectRequest, user: AbstractBaseUser, now: datetime.datetime) -> bytes:
    """The access file of the request's subject, as UTF-8 JSON; `user` (an auditor) reads the access report."""
    if request.contact_id is None:
        data = _borrower_data(request.account.borrower)
    else:
        data = _contact_data(request.contact)
    document = {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "request_id": request.pk,
        "subject": {"type": "borrower" if request.contact_id is None else "contact", "id": request.person},
        "data": data,
        "access_report": _access_report(user, request.person),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=_plain).encode()
