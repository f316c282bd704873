"""Erasure in place: a person's values go, their rows and every reference to them stay.

A contact's deletion or objection (PIPL art. 47) and retention erase the same way, set-based: names, phones and
ID numbers are blanked (a contact's phone becomes `erased:<id>`, unique per borrower as the number was), and so are
the recipient and body of their messages, the replies from their number and the free text about them; other text
on the borrower's records keeps its words but loses the contact's name and number. The E.164 number survives only
as an HMAC (`ErasedPhone`): a deletion keeps the accounts import from recreating the contact, and an opt-out of the
number keeps holding (`collections_app.messaging.opt_outs`). Audit events are never touched (they hold ids, never
values), so the log still verifies; each erased person gets a `personal_data_erased` event.
"""

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat, Left, Replace
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.record import audit_events_sql, audit_record_many, person_key
from collections_app.messaging.opt_outs import ERASED_PHONE_PREFIX, is_erased_mark, phone_hmacs
from collections_app.messaging.status import suppress_pending
from collections_app.models import (
    Borrower,
    BorrowerFlag,
    Complaint,
    Contact,
    ContactReason,
    ErasedPhone,
    Flag,
    InboundReply,
    Interaction,
    LoanAccount,
    Message,
    PhoneOptOut,
    RepaymentPlan,
)

# What erased free text holds. Longer than any minimum a text has (an override reason's 20 characters), so a text
# that kept other words around it still satisfies its constraint.
ERASED_TEXT = "[personal data erased]"
# Names shorter than this are not searched for in free text: one character would erase every word that has it.
NAME_MIN_LENGTH = 2
# A reason is a code (`privacy_request:<id>`, `retention`), never words: it goes into the audit event.
REASON_PATTERN = re.compile(r"^[a-z_]{1,40}(:[0-9]{1,18})?$")
# Persons per set-based step: under SQLite's bound-parameter limit there, bigger where PostgreSQL allows.
CHUNK_SQLITE, CHUNK_POSTGRESQL = 900, 20_000


@dataclass(frozen=True)
class ErasableText:
    """Free text of one model that may name a person.

    `fields` are blanked with the borrower (`borrower`: the lookup from a row to its borrower's id), and lose an erased
    contact's name and number; `contact_fields` are blanked whole on the rows about an erased contact (`contact`).
    `values` are columns that hold a person's value outright (a recipient, a sender): emptied wherever the row is
    erased. What was erased is counted under `count_as`.
    """

    model: type[models.Model]
    borrower: str
    fields: tuple[str, ...]
    contact: str = ""
    contact_fields: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    count_as: str = "texts"


def _own_texts() -> list[ErasableText]:
    return [
        # A call or visit to the contact: its note is about them; the override reason only loses their name.
        ErasableText(Interaction, "account__borrower_id", ("note", "override_reason"), "contact_id", ("note",)),
        # A contact's complaint: their own words go; the resolution only loses their name.
        ErasableText(Complaint, "account__borrower_id", ("text", "resolution"), "contact_id", ("text",)),
        ErasableText(Flag, "account__borrower_id", ("opened_reason", "closed_reason")),
        ErasableText(BorrowerFlag, "borrower_id", ("representative", "opened_reason", "closed_reason")),
        ErasableText(RepaymentPlan, "account__borrower_id", ("difference_reason", "decision_reason", "status_reason")),
        ErasableText(
            InboundReply, "borrower_id", ("text",), "contact_id", ("text",), ("phone",), count_as="inbound_replies"
        ),
        ErasableText(
            Message,
            "borrower_id",
            ("body", "last_error"),
            "contact_id",
            ("body", "last_error"),
            ("recipient",),
            count_as="messages",
        ),
    ]


@functools.cache
def _provided_texts(paths: tuple[str, ...]) -> tuple[ErasableText, ...]:
    # Keyed by the setting's value (tests may change it); each path names a function returning ErasableTexts.
    return tuple(text for path in paths for text in import_string(path)())


def erasable_texts() -> list[ErasableText]:
    """Every free text a person may be named in: collections_app's own and those `ERASABLE_TEXT_PROVIDERS` name."""
    return [*_own_texts(), *_provided_texts(tuple(getattr(settings, "ERASABLE_TEXT_PROVIDERS", ())))]


def _among(values: Iterable[object], sql_type: str = "bigint") -> object:
    """`values` as the right side of an `__in` lookup: one array parameter on PostgreSQL (a list of thousands of
    placeholders costs more to build and parse than the rows it selects), the values themselves elsewhere."""
    values = list(values)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])  # noqa: S611 - a fixed type name, values bound
    return values


def _chunk_size() -> int:
    return CHUNK_POSTGRESQL if connection.vendor == "postgresql" else CHUNK_SQLITE


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fits(model: type[models.Model], name: str, expression: models.Expression) -> models.Expression:
    # A replacement can lengthen a text; a bounded column keeps its bound.
    field = model._meta.get_field(name)
    return Left(expression, field.max_length) if isinstance(field, CharField) and field.max_length else expression


def _whole(name: str) -> Case:
    """A text blanked whole: the erased mark where there was text, empty where there was none."""
    return Case(When(**{name: ""}, then=Value("")), default=Value(ERASED_TEXT))


def _with_text(names: Sequence[str]) -> Q:
    """Rows where any of the named texts is not empty: only they have anything to erase."""
    any_text = Q(pk__in=[])
    for name in names:
        any_text |= ~Q(**{name: ""})
    return any_text


def _replaced(model: type[models.Model], name: str, values: Sequence[str]) -> models.Expression:
    expression: models.Expression = models.F(name)
    for value in values:
        expression = Replace(expression, Value(value), Value(ERASED_TEXT))
    return _fits(model, name, expression)


def phone_forms(phone: str) -> list[str]:
    """The ways a note may write an E.164 number: as it is, without the plus, and in national form; longest first."""
    forms = {phone, phone.lstrip("+")}
    try:
        forms.add(phonenumbers.national_significant_number(phonenumbers.parse(phone)))
    except phonenumbers.NumberParseException:
        pass
    return sorted((form for form in forms if len(form) >= NAME_MIN_LENGTH), key=len, reverse=True)


def _names_replace(borrower_id: int, values: list[str]) -> int:
    """Replace `values` (a contact's name and number) in the borrower's free text; return the rows changed."""
    changed = 0
    for text in erasable_texts():
        naming = Q()
        for name in text.fields:
            for value in values:
                naming |= Q(**{f"{name}__contains": value})
        rows = text.model._default_manager.filter(**{text.borrower: borrower_id}).filter(naming)
        changed += rows.update(**{name: _replaced(text.model, name, values) for name in text.fields})
    return changed


@dataclass(frozen=True)
class _ContactValues:
    pk: int
    borrower_id: int
    name: str
    phone: str


def _erased_phones_keep(phones: set[str], *, now: object, block_import: bool) -> int:
    """Keep the HMACs an erasure must: every number for a deletion, opted-out numbers for retention.

    Then drop the opt-outs that held the numbers in clear; the HMAC holds them from now on.
    """
    opted = set(PhoneOptOut.objects.filter(phone__in=_among(phones, "text")).values_list("phone", flat=True))
    keep = phones if block_import else opted
    hashes = phone_hmacs(keep)
    ErasedPhone.objects.bulk_create(
        [ErasedPhone(phone_hmac=digest, import_blocked=block_import, erased_at=now) for digest in hashes.values()],
        ignore_conflicts=True,
    )
    if block_import and hashes:
        ErasedPhone.objects.filter(phone_hmac__in=hashes.values(), import_blocked=False).update(import_blocked=True)
    deleted, _by_model = PhoneOptOut.objects.filter(phone__in=_among(opted, "text")).delete()
    return deleted


def _erase_whole(text: ErasableText, rows: models.QuerySet, names: Sequence[str]) -> int:
    """Blank `names` of `rows` whole, and empty the text's value columns; return the rows changed."""
    if not text.values:
        # Only rows with some text have anything to erase.
        rows = rows.filter(_with_text(names))
    return rows.update(**{name: _whole(name) for name in names}, **{name: Value("") for name in text.values})


def _unrouted_replies_erase(phones: set[str]) -> int:
    """Erase the replies from `phones` that no one borrower's records hold (the compliance inbox's)."""
    rows = InboundReply.objects.filter(phone__in=_among(phones, "text"), borrower_id__isnull=True)
    return rows.update(phone="", text=_whole("text"))


def _contacts_erase_core(
    contacts: list[_ContactValues], *, now: object, block_import: bool, with_borrowers: bool
) -> Counter[str]:
    """Erase the values of `contacts` (not yet erased), set-based; return what was changed, by kind.

    `with_borrowers`: their borrowers are erased in the same step, which blanks every row about the contacts too.
    """
    counts: Counter[str] = Counter()
    if not contacts:
        return counts
    ids = [contact.pk for contact in contacts]
    phones = {contact.phone for contact in contacts if not is_erased_mark(contact.phone)}
    counts["opt_outs_hashed"] = _erased_phones_keep(phones, now=now, block_import=block_import)
    # Nothing still queued goes out to a number that is about to become a mark.
    suppress_pending(Message.objects.filter(contact_id__in=_among(ids)), reason=ContactReason.OPTED_OUT)
    counts["inbound_replies"] = _unrouted_replies_erase(phones)
    if not with_borrowers:
        for text in erasable_texts():
            if text.contact_fields:
                rows = text.model._default_manager.filter(**{f"{text.contact}__in": _among(ids)})
                counts[text.count_as] += _erase_whole(text, rows, text.contact_fields)
        for contact in contacts:
            values = [contact.name] if len(contact.name) >= NAME_MIN_LENGTH else []
            values += phone_forms(contact.phone) if contact.phone in phones else []
            counts["texts"] += _names_replace(contact.borrower_id, sorted(set(values), key=len, reverse=True))
    counts["contacts"] = Contact.objects.filter(pk__in=_among(ids), erased_at__isnull=True).update(
        name="", phone=Concat(Value(ERASED_PHONE_PREFIX), Cast("pk", CharField())), erased_at=now
    )
    return counts


def _audit_erased(
    persons_by_object: list[tuple[str, int, list[str]]], *, reason: str, actor: AbstractBaseUser | None, role: str
) -> None:
    """One `personal_data_erased` event per erased person, naming whom it concerns; set-based on PostgreSQL."""
    if not persons_by_object:
        return
    if connection.vendor != "postgresql" or actor is not None:
        audit_record_many(
            {
                "action": "personal_data_erased",
                "actor": actor,
                "role": role,
                "object_type": object_type,
                "object_id": object_id,
                "persons": persons,
                "detail": {"reason": reason},
            }
            for object_type, object_id, persons in persons_by_object
        )
        return
    # A retention run (no actor) erases a hundred thousand borrowers: their events are an INSERT ... SELECT per chunk.
    for object_type in sorted({object_type for object_type, _id, _persons in persons_by_object}):
        rows = [(pk, persons) for kind, pk, persons in persons_by_object if kind == object_type]
        sql, params = audit_events_sql(
            rows="unnest(%s::bigint[], %s::jsonb[]) AS erased(id, persons)",
            action="personal_data_erased",
            object_type=object_type,
            object_id="erased.id",
            persons="erased.persons",
            detail="jsonb_build_object('reason', %s::text)",
            detail_params=[reason],
            role=role,
        )
        ids = [pk for pk, _persons in rows]
        # Sorted as `audit_record` sorts them, so the two paths write the same events.
        persons_json = [json.dumps(sorted(set(persons))) for _pk, persons in rows]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, ids, persons_json])


def _check_reason(reason: str) -> None:
    if not REASON_PATTERN.fullmatch(reason):
        raise ValueError(f"an erasure's reason is a code such as 'privacy_request:12', not {reason!r}")


def contacts_erase(
    *, contact_ids: Iterable[int], actor: AbstractBaseUser | None, reason: str, role: str = ""
) -> Counter[str]:
    """Erase contacts at their own request (deletion or objection): name, phone, their messages' recipient and body,
    the replies from their number, the text about them, and their name and number in the borrower's other text.

    Their number survives as an import-blocking HMAC. Idempotent: a contact erased already is left as it is.
    One `personal_data_erased` event per contact (`reason` is a code, e.g. `privacy_request:12`). Returns the counts
    of what changed, by kind.
    """
    _check_reason(reason)
    ids = sorted(set(contact_ids))
    counts: Counter[str] = Counter()
    with transaction.atomic():
        for chunk in _chunks(ids, _chunk_size()):
            contacts = [
                _ContactValues(*row)
                for row in Contact.objects.select_for_update()
                .filter(pk__in=chunk, erased_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "borrower_id", "name", "phone")
            ]
            now = timezone.now()
            counts += _contacts_erase_core(contacts, now=now, block_import=True, with_borrowers=False)
            _audit_erased(
                [
                    (
                        "contact",
                        contact.pk,
                        [person_key("contact", contact.pk), person_key("borrower", contact.borrower_id)],
                    )
                    for contact in contacts
                ],
                reason=reason,
                actor=actor,
                role=role,
            )
    return counts


def _borrowers_erase_chunk(
    borrower_phones: dict[int, str], *, now: object
) -> tuple[Counter[str], dict[int, list[int]]]:
    """Erase one chunk of borrowers (id: phone, locked, not yet erased) and all their contacts; return the counts and
    the contacts by borrower."""
    borrower_ids = list(borrower_phones)
    contacts = [
        _ContactValues(*row)
        for row in Contact.objects.filter(borrower_id__in=_among(borrower_ids), erased_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "borrower_id", "name", "phone")
    ]
    # Every row of the borrowers is blanked whole below, those about their contacts included.
    counts = _contacts_erase_core(contacts, now=now, block_import=False, with_borrowers=True)
    counts["accounts"] = LoanAccount.objects.filter(borrower_id__in=_among(borrower_ids)).count()
    phones = set(borrower_phones.values()) - {""}
    counts["inbound_replies"] += _unrouted_replies_erase(phones)
    for text in erasable_texts():
        rows = text.model._default_manager.filter(**{f"{text.borrower}__in": _among(borrower_ids)})
        counts[text.count_as] += _erase_whole(text, rows, text.fields)
    counts["borrowers"] = Borrower.objects.filter(pk__in=_among(borrower_ids), erased_at__isnull=True).update(
        name="", id_number="", phone="", erased_at=now
    )
    by_borrower: dict[int, list[int]] = {borrower_id: [] for borrower_id in borrower_ids}
    for contact in contacts:
        by_borrower[contact.borrower_id].append(contact.pk)
    return counts, by_borrower


def borrowers_erase(
    *, borrower_ids: Iterable[int], actor: AbstractBaseUser | None, reason: str, role: str = ""
) -> Counter[str]:
    """Erase borrowers and all their contacts (retention): names, ID number, phones, their messages' recipient and
    body, their replies, and every free text on their records. Contacts' numbers keep an HMAC only if they had opted
    out. Idempotent. One `personal_data_erased` event per borrower, naming their contacts. Returns the counts.
    """
    _check_reason(reason)
    ids = sorted(set(borrower_ids))
    counts: Counter[str] = Counter()
    for chunk in _chunks(ids, _chunk_size()):
        with transaction.atomic():
            # Messages first, the borrower rows last: the relay locks borrower rows while it holds message rows.
            suppress_pending(Message.objects.filter(borrower_id__in=_among(chunk)), reason=ContactReason.PAID)
            locked = dict(
                Borrower.objects.select_for_update()
                .filter(pk__in=_among(chunk), erased_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "phone")
            )
            chunk_counts, by_borrower = _borrowers_erase_chunk(locked, now=timezone.now())
            counts += chunk_counts
            _audit_erased(
                [
                    (
                        "borrower",
                        borrower_id,
                        [person_key("borrower", borrower_id), *(person_key("contact", pk) for pk in contact_ids)],
                    )
                    for borrower_id, contact_ids in by_borrower.items()
                ],
                reason=reason,
                actor=actor,
                role=role,
            )
    return counts
