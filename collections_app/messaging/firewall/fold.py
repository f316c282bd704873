"""Folding: the copy of a message the firewall's patterns run on, and where each of its code points came from.

Each code point of the message is folded on its own:
- dropped: format characters (Unicode category Cf: zero-width spaces and joiners, U+FEFF, U+2060, bidi
  controls, tags), variation selectors, combining diacritical marks and blank fillers;
- the rest through NFKC: full-width forms, mathematical letters and digits, circled and superscript digits,
  Kangxi radicals, compatibility ideographs, odd spaces;
- then a Latin letter with diacritics becomes its base letter, a Cyrillic, Greek or other letter that looks
  like a Latin one becomes that letter, a digit of any script (Arabic-Indic, Devanagari, the dingbats'
  circled digits...) an ASCII digit, and ASCII letters lower case. Other letters stay as they are.

Folding one code point at a time is what keeps offsets: each folded code point comes from one code point of
the message, so `origins` maps a span found in the folded copy back to the message. (Whole-string NFKC would
also compose a letter with the combining marks after it; those marks are dropped here and a composed letter
loses its diacritics, so both spellings of "ó" fold to "o".)

Speed: ASCII text only needs lower case; text whose every code point folds to exactly one (Chinese, most
symbols, full-width forms, other digits, look-alike letters) goes through one str.translate; only text holding
a code point that folds to none or several (a zero-width space, "…", "⑩") or an unusual supplementary-plane
one takes the code-point-by-code-point path.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters other scripts share with Latin by their look, each written before the Latin letter (lower case) it
# folds to: Cyrillic, Greek, Latin small capitals and IPA letters, Armenian.
_CONFUSABLES = {
    pair[0]: pair[1]
    for pair in (
        "аa вb еe кk мm нh оo рp сc тt уy хx ѕs іi јj ӏl ԁd һh ԛq ԝw үy "
        "Аa Вb Еe Кk Мm Нh Оo Рp Сc Тt Уy Хx Ѕs Іi Јj Ӏl Ԛq Ԝw Үy "
        "αa ιi κk νv οo ρp τt υu χx ϲc ϳj "
        "Αa Βb Εe Ζz Ηh Ιi Κk Μm Νn Οo Ρp Τt Υy Χx Ϲc "
        "ᴀa ʙb ᴄc ᴅd ᴇe ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz ıi ȷj ɑa ɡg ɩi "
        "օo սu ոn հh զq"
    ).split()
}
# Dropped besides format characters: blank fillers (Hangul) that could split a word as a zero-width space does,
# variation selectors, and the combining diacritical marks people stack on letters to hide a word.
_DROPPED = frozenset("\u115f\u1160\u3164\uffa0").union(
    chr(cp)
    for start, end in (
        (0x0300, 0x0370),
        (0x1AB0, 0x1B00),
        (0x1DC0, 0x1E00),
        (0x20D0, 0x2100),
        (0xFE20, 0xFE30),
        (0xFE00, 0xFE10),
        (0x180B, 0x180E),
        (0xE0100, 0xE01F0),
    )
    for cp in range(start, end)
)
# Blocks whose every code point folds to itself: CJK ideographs, Hangul syllables, surrogates and private use
# in the BMP; emoji and pictographs and the CJK extensions beyond it. Folding skips them (tests check them).
STABLE_BLOCKS = (
    (0x3400, 0x4DC0),
    (0x4E00, 0xA000),
    (0xAC00, 0xD7A4),
    (0xD800, 0xF900),
    (0x1F300, 0x1FB00),
    (0x20000, 0x2F800),
    (0x30000, 0x40000),
)


def _digit(ch: str) -> str | None:
    """The ASCII digits ch stands for when it is a digit of another script or a circled number."""
    value = unicodedata.digit(ch, None)
    if value is not None:
        return str(value)
    # Negative circled numbers past ten (⓫..⓴) have a numeric value and no decomposition.
    number = unicodedata.numeric(ch, None)
    if number is not None and number.is_integer() and "CIRCLED" in unicodedata.name(ch, ""):
        return str(int(number))
    return None


def fold_char(ch: str) -> str:
    """What one code point folds to: none, one or several code points (see the module's docstring)."""
    if ch.isascii():
        return ch.lower()
    if ch in _DROPPED or unicodedata.category(ch) == "Cf":
        return ""
    out = []
    for part in unicodedata.normalize("NFKC", ch):
        base = unicodedata.normalize("NFKD", part)
        if base[0].isascii() and all(mark in _DROPPED for mark in base[1:]):
            # An ASCII character, or a Latin letter with diacritics (é, İ): its base letter.
            out.append(base[0].lower())
        elif part in _CONFUSABLES:
            out.append(_CONFUSABLES[part])
        else:
            out.append(_digit(part) or part)
    return "".join(out)


def outside_stable_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """The ranges of code points from start to end (excluded) that lie outside STABLE_BLOCKS."""
    ranges, position = [], start
    for block_start, block_end in STABLE_BLOCKS:
        if block_start >= end or block_end <= position:
            continue
        if block_start > position:
            ranges.append((position, block_start))
        position = block_end
    if position < end:
        ranges.append((position, end))
    return ranges


def _bmp_folds() -> dict[int, str]:
    """fold_char of every BMP code point that does not fold to itself."""
    folds = {}
    for start, end in outside_stable_blocks(0, 0x10000):
        for cp in range(start, end):
            folded = fold_char(chr(cp))
            if folded != chr(cp):
                folds[cp] = folded
    return folds


_BMP = _bmp_folds()
# One for one: a table indexed by code point, which str.translate looks up faster than a dict (code points past
# it stay as they are). Code points folding to none or several are left out of it and send text the slow way.
_ONE_FOR_ONE = "".join(folded if len(folded := _BMP.get(cp, chr(cp))) == 1 else chr(cp) for cp in range(0x10000))


def _class(code_points: list[int]) -> str:
    """A regex character class body for the code points, as ranges."""
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


_SUPPLEMENTARY_FOLDED = outside_stable_blocks(0x10000, 0x110000)
# Code points that do not fold one for one, and the supplementary-plane ones (other than emoji and CJK), which
# the BMP table does not cover.
_UNEVEN = re.compile(
    "["
    + _class([cp for cp, folded in _BMP.items() if len(folded) != 1])
    + "".join(f"{chr(a)}-{chr(b - 1)}" for a, b in _SUPPLEMENTARY_FOLDED)
    + "]"
)


@lru_cache(maxsize=4096)
def _fold_rare(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x10000:
        return _BMP.get(cp, ch)
    return fold_char(ch) if any(start <= cp < end for start, end in _SUPPLEMENTARY_FOLDED) else ch


def fold_with_origins(text: str) -> tuple[str, list[str] | None]:
    """The folded copy of text, and its pieces (what each code point of text folded to) unless one for one.

    When the pieces are None, an offset found in the folded copy is an offset into text; otherwise
    `origins(pieces)` maps it back.
    """
    # ASCII text only needs lower case, which str.lower does one for one and far faster.
    if text.isascii():
        return text.lower(), None
    if _UNEVEN.search(text) is None:
        return text.translate(_ONE_FOR_ONE), None
    pieces = [_fold_rare(ch) for ch in text]
    return "".join(pieces), pieces


def fold(text: str) -> str:
    """The folded copy of text, that every pattern of the firewall matches against."""
    return fold_with_origins(text)[0]


def origins(pieces: list[str]) -> list[int]:
    """For each code point of the folded copy, the offset in the text of the code point it was folded from."""
    return [index for index, piece in enumerate(pieces) for _ in piece]
