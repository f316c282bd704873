"""Which fields a correction request may name, who owns each, and how a new value is checked.

The core lending system is the source of truth for the borrower, the account and the contacts it sends
(`import_accounts`): every corrected field is forwarded to it, or the next import would bring the old value back.
The app also corrects at once what its own work relies on and what no import matches by (a contact's name,
relationship and time zone). A contact's phone is forwarded only: imports find contacts by their phone, so a
phone changed here alone would make the next import recreate the contact with the old one. Core data (names, ID
numbers, balances) is never changed here: the core system decides, and its next import carries the answer.
"""

import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from collections_app.models import Borrower, Contact, LoanAccount


@dataclass(frozen=True)
class CorrectableField:
    """A field a correction may name: whose (`borrower` or `contact`), the model and attribute, whether the app
    corrects it in place as well as forwarding it."""

    name: str
    person_type: str
    model: type[models.Model]
    attribute: str
    in_app: bool
    label: str | Promise


CORRECTABLE_FIELDS: tuple[CorrectableField, ...] = (
    CorrectableField("borrower.name", "borrower", Borrower, "name", False, _("borrower's name")),
    CorrectableField("borrower.id_number", "borrower", Borrower, "id_number", False, _("borrower's ID number")),
    CorrectableField("borrower.phone", "borrower", Borrower, "phone", False, _("borrower's phone")),
    CorrectableField("account.outstanding", "borrower", LoanAccount, "outstanding", False, _("outstanding balance")),
    CorrectableField("contact.name", "contact", Contact, "name", True, _("contact's name")),
    CorrectableField("contact.relationship", "contact", Contact, "relationship", True, _("contact's relationship")),
    CorrectableField("contact.timezone", "contact", Contact, "timezone", True, _("contact's time zone")),
    CorrectableField("contact.phone", "contact", Contact, "phone", False, _("contact's phone")),
)
CORRECTABLE = {field.name: field for field in CORRECTABLE_FIELDS}


def correction_form_name(field_name: str) -> str:
    """The form field that carries a correctable field's new value: `contact.name` -> `new_contact_name`."""
    return "new_" + field_name.replace(".", "_")


def _checked_value(field: CorrectableField, raw: str) -> str:
    """The new value as stored and forwarded (text), once the model field's own rules accept it."""
    if field.attribute == "timezone":
        try:
            zoneinfo.ZoneInfo(raw)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("Enter an IANA time zone such as Asia/Shanghai.")) from None
    value: Any = field.model._meta.get_field(field.attribute).clean(raw, None)
    return str(value.quantize(Decimal("0.01"))) if isinstance(value, Decimal) else str(value)


def correction_errors(*, person_type: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The correction as {field: new value} and the errors by field name; a field of the other person is an error.

    `values` holds the non-empty new values by correctable field name.
    """
    correction: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in values.items():
        field = CORRECTABLE.get(name)
        if field is None:
            errors[name] = [str(_("This field cannot be corrected here."))]
            continue
        if field.person_type != person_type:
            errors[name] = [str(_("This field belongs to the other person: file the request for them."))]
            continue
        try:
            correction[name] = _checked_value(field, raw.strip())
        except ValidationError as error:
            errors[name] = [str(message) for message in error.messages]
    return correction, errors
