"""lint_message: every finding of the content firewall in a message for its audience.

The entry point runs each detector the audience calls for, on the folded text and only for the scripts the
text has, and turns their hits into Findings sorted by position. Numbers are judged in one order:
identifiers first, so that what they claim is not read again as money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collections_app.messaging.firewall.amounts import amount_hits, english_amounts
from collections_app.messaging.firewall.categories import (
    AMOUNT,
    DEBT_DISCLOSURE,
    OVERDUE_DETAIL,
    PRODUCT,
    THIRD_PARTY,
    THREAT,
)
from collections_app.messaging.firewall.fold import fold_with_origins, origins
from collections_app.messaging.firewall.identifiers import identifier_hits
from collections_app.messaging.firewall.lexicon import THIRD_PARTY_CN, THIRD_PARTY_EN, THREAT_CN_RX, THREAT_EN_RX
from collections_app.messaging.firewall.modes import (
    CompiledProfile,
    FirewallProfile,
    compile_profile,
    firewall_profile_get,
)
from collections_app.messaging.firewall.numerals import (
    HAS_CN_NUMERAL,
    HAS_DIGIT,
    NUM_ARABIC,
    NUM_CHINESE,
    PROTECTED,
    PROTECTED_CN_TIME,
    PROTECTED_EN_DATE,
)
from collections_app.messaging.firewall.overdue import overdue_cn, overdue_en
from collections_app.messaging.firewall.patterns import ASCII_LETTERS, Hit, Span, english_matches, overlaps

FAMILY = "family"
BORROWER = "borrower"
AUDIENCES: tuple[str, ...] = (FAMILY, BORROWER)


@dataclass(frozen=True)
class Finding:
    """One thing the message must not say: its category and where it is."""

    category: str
    start: int
    end: int
    text: str


_HAS_LATIN = re.compile("[a-z]")
_HAS_CJK = re.compile("[\u3400-\u9fff]")


def lint_message(text: str, *, audience: str = FAMILY, profile: FirewallProfile | str = "cn-default") -> list[Finding]:
    """Return every finding in text for the audience, sorted by (start, end, category)."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")
    if isinstance(profile, str):
        profile = firewall_profile_get(profile)
    compiled = compile_profile(profile)
    folded, pieces = fold_with_origins(text)
    cjk = _HAS_CJK.search(folded) is not None
    latin = _HAS_LATIN.search(folded) is not None
    hits: list[Hit] = []

    if cjk:
        hits += [(THREAT, m.start(), m.end()) for m in THREAT_CN_RX.finditer(folded)]
    if latin:
        hits += [(THREAT, m.start(), m.end()) for m in english_matches(THREAT_EN_RX, folded)]
    if audience == BORROWER:
        if cjk:
            hits += [(THIRD_PARTY, m.start(), m.end()) for m in THIRD_PARTY_CN.finditer(folded)]
        if latin:
            hits += [(THIRD_PARTY, m.start(), m.end()) for m in english_matches(THIRD_PARTY_EN, folded)]
    else:
        if cjk:
            hits += [(DEBT_DISCLOSURE, m.start(), m.end()) for m in compiled.debt_cn.finditer(folded)]
            hits += [(OVERDUE_DETAIL, start, end) for start, end in overdue_cn(folded)]
        if latin:
            hits += [(DEBT_DISCLOSURE, m.start(), m.end()) for m in english_matches(compiled.debt_en, folded)]
            hits += [(OVERDUE_DETAIL, start, end) for start, end in overdue_en(folded)]
        products = _product_spans(compiled.products, folded) if compiled.products is not None else []
        hits += [(PRODUCT, start, end) for start, end in products]
        hits += _number_hits(folded, compiled, products, cjk=cjk, latin=latin)

    if pieces is not None and hits:
        # The folded copy is not one for one: each span goes back to the code points it was folded from.
        origin = origins(pieces)
        hits = [(category, origin[start], origin[end - 1] + 1) for category, start, end in hits]
    findings = [Finding(category, start, end, text[start:end]) for category, start, end in set(hits)]
    findings.sort(key=lambda f: (f.start, f.end, f.category))
    return findings


def _product_spans(pattern: re.Pattern[str], folded: str) -> list[Span]:
    # An English product name inside a longer word ("Zopa" in "Zopamine") is not the product.
    return [
        m.span()
        for m in pattern.finditer(folded)
        if not (m.start() and folded[m.start()] in ASCII_LETTERS and folded[m.start() - 1] in ASCII_LETTERS)
    ]


def _number_hits(folded: str, compiled: CompiledProfile, products: list[Span], *, cjk: bool, latin: bool) -> list[Hit]:
    has_digit = HAS_DIGIT.search(folded) is not None
    has_cn = cjk and HAS_CN_NUMERAL.search(folded) is not None
    hits: list[Hit] = []
    if latin:
        hits.extend((AMOUNT, start, end) for start, end in english_amounts(folded))
    if not (has_digit or has_cn):
        return hits
    numbers = list(NUM_ARABIC.finditer(folded)) if has_digit else []
    # Times, dates, percentages and service numbers are neither amounts nor identifiers. Every such pattern
    # starts with a digit, so it is tried where a number starts rather than at every position.
    protected: list[Span] = []
    # Digits inside a product name ("360借条") are the name, already reported.
    claimed: list[Span] = list(products)
    if has_digit:
        for number in numbers:
            if not protected or number.start() >= protected[-1][1]:
                match = PROTECTED.match(folded, number.start())
                if match is not None:
                    protected.append(match.span())
        if latin:
            protected.extend(m.span() for m in english_matches(PROTECTED_EN_DATE, folded))
        identifier_hits(folded, compiled, numbers, protected, claimed, hits, latin=latin)
    if has_cn:
        # "3千" was read whole as an Arabic number with a unit; its 千 is not a second number.
        arabic = [m.span() for m in numbers]
        for number in NUM_CHINESE.finditer(folded):
            if arabic and overlaps(*number.span(), arabic):
                continue
            numbers.append(number)
            clock = PROTECTED_CN_TIME.match(folded, number.start())
            if clock is not None:
                protected.append(clock.span())
    amount_hits(folded, compiled, numbers, protected, claimed, hits)
    return hits
