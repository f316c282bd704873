"""Identifiers: phone, ID-card, bank-card, account and reference numbers, and the service numbers allowed.

Cheap patterns find the candidate digit runs; python-stdnum (Luhn, the Chinese resident ID checksum) and
phonenumbers are handed only those. Service numbers (the profile's hotlines, 95/96 short numbers, 400/800
and toll-free numbers, Chinese public short numbers) are no one's identifier.
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from collections_app.messaging.firewall.categories import IDENTIFIER
from collections_app.messaging.firewall.modes import CompiledProfile
from collections_app.messaging.firewall.patterns import ASCII_LETTERS, Hit, Span, overlaps

# phonenumbers compiles its metadata patterns through re.compile, whose small cache keeps evicting them once
# more than one region is in play; keeping them (a bounded set) makes each phone check several times cheaper.
phonenumbers.enable_pattern_cache()

_CURRENCY_CODES = frozenset({"rmb", "cny", "usd", "gbp", "eur", "hkd", "us", "hk"})
# Masked numbers still point at one card or person (138****5678, 1101**********4514); an ID card may end in X.
_ID_MASKED_OR_X = re.compile(r"[0-9](?:[0-9]+[*x×]{3,}[0-9]{2,}x?|[0-9]{16}x(?![0-9a-z]))")
_ID_TAIL = re.compile(
    r"(?:尾号|末四位|后四位|末尾|ending\s+in|last\s+(?:4|four)(?:\s+digits)?)\s*(?:是|为|:)?\s*[0-9]{3,6}"
)
# Digits with single separators between them: phone and card numbers as people write them.
_DIGIT_RUN = re.compile(r"[0-9][0-9]*(?:(?:[ \-.]|\)\s?)\(?[0-9]+)*")
_DIGITS = re.compile("[0-9]+")
_THOUSANDS_GROUPED = re.compile(r"[0-9]{1,3}(?:[ ,][0-9]{3})+(?:\.[0-9]+)?")
_YEAR_RANGE = re.compile(r"(?:19|20)[0-9]{2}\s?-\s?(?:19|20)[0-9]{2}")
_MAX_PHONE_DIGITS = 15  # E.164
_MAX_CARD_DIGITS = 19
_MAX_PHONE_GROUP = 8  # a local number after its area code: 010-12345678
_CN_EMERGENCY = frozenset({"110", "119", "120", "122"})
_TOLL_FREE_US = frozenset({"800", "888", "877", "866", "855", "844", "833"})
_LETTERS_OR_DASH = ASCII_LETTERS | {"-"}
# What _DIGIT_RUN allows between digits.
_SEPARATORS_GONE = str.maketrans("", "", " -.()+")


def is_service_number(digits: str, compiled: CompiledProfile) -> bool:
    """Whether digits are a service number: a hotline of the profile, a 95/96, 400/800 or toll-free number."""
    if digits in compiled.hotline_digits:
        return True
    national = digits[2:] if len(digits) == 12 and digits.startswith("86") else digits
    return (
        (len(digits) == 5 and digits[:2] in ("95", "96"))
        # Chinese public and carrier short numbers: 110/119/120/122, 10086/10010/10000, 12345/12315/12306...
        or (
            compiled.phone_region == "CN"
            and (digits in _CN_EMERGENCY or (len(digits) == 5 and digits[:2] in ("10", "12")))
        )
        or (len(national) == 10 and national[:3] in ("400", "800"))
        or (len(digits) == 11 and digits[0] == "1" and digits[1:4] in _TOLL_FREE_US)
        or (len(digits) == 10 and digits[:3] in _TOLL_FREE_US)
        or (len(digits) in (10, 11) and digits[0] == "0" and digits[1:4] in ("800", "808"))
        or (len(digits) in (11, 12) and digits[:2] == "44" and digits[2:5] in ("800", "808"))
    )


def is_card_or_id(digits: str) -> bool:
    """Whether digits are a bank-card number (Luhn) or a Chinese resident ID number (checksum and birth date)."""
    if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
        return True
    if len(digits) != 18 or ric.calc_check_digit(digits) != digits[-1]:
        return False
    # Checksum and a real birth date are enough to call it an ID number. ric.is_valid also looks the birth
    # place up in its county table, which is ten times slower (and raises KeyError for some codes).
    try:
        ric.get_birth_date(digits)
    except ValueError:
        return False
    return True


def _e164_spans(folded: str, start: int, end: int, compiled: CompiledProfile) -> list[Span]:
    """The whole run when it parses as one valid number, else the phone numbers the matcher finds in it."""
    try:
        number = phonenumbers.parse(folded[start:end], compiled.phone_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        digits = "".join(c for c in folded[start:end] if c.isdigit())
        return [] if is_service_number(digits, compiled) else [(start, end)]
    return phone_spans(folded, start, end, compiled)


def phone_spans(folded: str, start: int, end: int, compiled: CompiledProfile) -> list[Span]:
    """Phone numbers inside folded[start:end], service numbers left out."""
    spans: list[Span] = []
    if sum(c.isdigit() for c in folded[start:end]) > _MAX_PHONE_DIGITS * 2:
        # Matching is costly, and nothing this long is one phone number or two written together.
        return spans
    for match in phonenumbers.PhoneNumberMatcher(folded[start:end], compiled.phone_region):
        if not is_service_number("".join(c for c in match.raw_string if c.isdigit()), compiled):
            spans.append((start + match.start, start + match.end))
    return spans


def _lettered_reference(folded: str, number: re.Match[str]) -> Span | None:
    """The span of a reference such as HT2024001234 or LN-88812345 ending in this number, if it is one."""
    start, end = number.span()
    if number.group("unit") is not None or end - start < 6 or not number.group().isdigit():
        return None
    letters_end = start - 1 if folded[start - 1 : start] == "-" else start
    letters_start = letters_end
    while letters_start > 0 and letters_end - letters_start < 6 and folded[letters_start - 1] in ASCII_LETTERS:
        letters_start -= 1
    prefix = folded[letters_start:letters_end]
    # More than five letters is a word ("account12345678" is handled by its cue); rmb123456 is money.
    if not prefix or len(prefix) > 5 or prefix in _CURRENCY_CODES:
        return None
    return letters_start, end


def identifier_hits(
    folded: str,
    compiled: CompiledProfile,
    numbers: list[re.Match[str]],
    protected: list[Span],
    claimed: list[Span],
    hits: list[Hit],
    *,
    latin: bool,
) -> None:
    """Add the identifiers in folded text to hits and claimed; add the service numbers found to protected."""
    # Cheap substring tests first: most messages have neither a mask nor a "last four digits".
    shapes = list(_ID_MASKED_OR_X.finditer(folded)) if "*" in folded or "x" in folded or "×" in folded else []
    if "尾" in folded or "末" in folded or "后四" in folded or "ending" in folded or "last" in folded:
        shapes.extend(_ID_TAIL.finditer(folded))
    spans = [m.span() for m in shapes if not (m.start() and folded[m.start() - 1].isdigit())]
    if latin:
        for number in numbers:
            start = number.start()
            if start and number.end() - start >= 6 and folded[start - 1] in _LETTERS_OR_DASH:
                span = _lettered_reference(folded, number)
                if span is not None:
                    spans.append(span)
    for span in spans:
        hits.append((IDENTIFIER, *span))
        claimed.append(span)

    for match in _DIGIT_RUN.finditer(folded):
        run = match.group()
        start, end = match.span()
        # Single unseparated runs are judged one by one in amount_hits, with their context.
        if start and folded[start - 1] in "+(":
            start -= 1
            run = folded[start:end]
        if run.isdigit():
            continue
        if start and folded[start - 1] in ASCII_LETTERS:
            continue
        digits = run.translate(_SEPARATORS_GONE)
        if is_service_number(digits, compiled):
            protected.append((start, end))
            continue
        if len(digits) < 7 or overlaps(start, end, claimed):
            continue
        if any(p_start <= start and end <= p_end for p_start, p_end in protected):
            continue
        if _THOUSANDS_GROUPED.fullmatch(run) or _YEAR_RANGE.fullmatch(run):
            continue
        # "+86 13812345678" is an E.164 number whatever its groups.
        spans = _e164_spans(folded, start, end, compiled) if run[0] == "+" else []
        if not spans:
            if max(map(len, _DIGITS.findall(run))) > _MAX_PHONE_GROUP:
                # Cards and phones are written in short groups; a run holding a long one
                # ("身份证110101199003074514 9") is judged number by number instead.
                continue
            if is_card_or_id(digits):
                spans = [(start, end)]
            elif len(digits) > _MAX_CARD_DIGITS:
                # Longer than any one phone or card number: several written together; find the phones among them.
                spans = phone_spans(folded, start, end, compiled)
            # Seven to fifteen digits in short groups are somebody's number, a phone or not, so the matcher
            # could only confirm what is already decided.
            if not spans and not overlaps(start, end, protected):
                spans = [(start, end)]
        for span in spans:
            hits.append((IDENTIFIER, *span))
            claimed.append(span)
