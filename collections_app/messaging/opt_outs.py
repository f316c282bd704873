"""The one rule of an opted-out number, and the keyed hash an erased number survives as.

A number is opted out when a `PhoneOptOut` names it, when its HMAC is an `ErasedPhone` (its value was erased, its
opt-out holds), or when it is no number at all but an erased contact's `erased:<id>` mark. Every opt-out check asks
`phones_opted_out`; the accounts import asks `phones_import_blocked`.
"""

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.utils.encoding import force_bytes

from collections_app.models import ErasedPhone, PhoneOptOut

# Values per `IN (...)` query: under SQLite's bound-parameter limit.
_CHUNK = 900
# What an erased contact's phone holds instead of the number (unique per borrower, as the phone was).
ERASED_PHONE_PREFIX = "erased:"
_HMAC_SALT = b"collections_app.erased_phone"


def _hmac_key() -> bytes:
    # ERASURE_HMAC_KEY, or SECRET_KEY when it is unset: a key kept apart survives a SECRET_KEY rotation.
    secret = settings.ERASURE_HMAC_KEY or settings.SECRET_KEY
    return hashlib.sha256(_HMAC_SALT + force_bytes(secret)).digest()


def phone_hmacs(phones: Iterable[str]) -> dict[str, str]:
    """Each E.164 number's HMAC-SHA256 (hex) under the erasure key: what an `ErasedPhone` keeps of it."""
    key = _hmac_key()
    return {phone: hmac.new(key, phone.encode(), hashlib.sha256).hexdigest() for phone in set(phones)}


def phone_hmac(phone: str) -> str:
    """One number's HMAC (see `phone_hmacs`)."""
    return phone_hmacs([phone])[phone]


def _erased_hashes(digests: Iterable[str], **filters: object) -> set[str]:
    digests = list(digests)
    found: set[str] = set()
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        found.update(ErasedPhone.objects.filter(phone_hmac__in=chunk, **filters).values_list("phone_hmac", flat=True))
    return found


def is_erased_mark(phone: str) -> bool:
    """Whether a contact's phone is the mark of an erased number rather than a number."""
    return phone.startswith(ERASED_PHONE_PREFIX)


def phones_opted_out(phones: Iterable[str]) -> set[str]:
    """The numbers of `phones` that must never be contacted as a family contact (one query per 450 numbers)."""
    numbers = {phone for phone in phones if phone}
    opted = {phone for phone in numbers if is_erased_mark(phone)}
    hashes = phone_hmacs(numbers - opted)
    by_hash = {digest: phone for phone, digest in hashes.items()}
    listed = sorted(hashes)
    for start in range(0, len(listed), _CHUNK // 2):
        chunk = listed[start : start + _CHUNK // 2]
        # One round trip: the opted-out numbers and the erased numbers' HMACs (a number starts with "+", an HMAC never).
        found = (
            PhoneOptOut.objects.filter(phone__in=chunk)
            .values_list("phone", flat=True)
            .union(
                ErasedPhone.objects.filter(phone_hmac__in=[hashes[p] for p in chunk]).values_list(
                    "phone_hmac", flat=True
                )
            )
        )
        opted.update(by_hash.get(value, value) for value in found)
    return opted


def phone_opted_out(phone: str) -> bool:
    """Whether one number is opted out (see `phones_opted_out`)."""
    return bool(phones_opted_out([phone]))


def phone_erased(phone: str) -> bool:
    """Whether the number's HMAC is kept as erased (its opt-out holds without the number being stored)."""
    return bool(_erased_hashes([phone_hmac(phone)]))


def phones_import_blocked(phones: Iterable[str]) -> set[str]:
    """The numbers of `phones` erased at their owner's request: the accounts import never recreates them."""
    hashes = phone_hmacs(phones)
    blocked = _erased_hashes(hashes.values(), import_blocked=True) if hashes else set()
    return {phone for phone, digest in hashes.items() if digest in blocked}
