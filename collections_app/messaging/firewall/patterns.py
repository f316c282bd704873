"""Building blocks of the firewall's patterns: shared vocabulary, pattern builders and spans.

Patterns are written for folded text (see `fold`), so none of them needs IGNORECASE, and the builders here
keep every alternative starting with a literal so the regex engine can skip ahead to candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CN_DIGITS = "零〇一二两兩三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖"
# The colloquial 仨 (three) and 俩 (two) start a numeral only before a unit (俩万, 仨千):
# 咱俩一块 is "we two, together".
CN_COLLOQUIAL_DIGITS = "仨俩倆"
# With the colloquial 廿, 卅, 卌 (twenty, thirty, forty) among the tens.
CN_SMALL_UNITS = "十拾廿卅卌"
CN_BIG_UNITS = "百千万亿佰仟萬億"
CN_NUMERAL = f"[{CN_DIGITS}{CN_SMALL_UNITS}{CN_BIG_UNITS}]"
EN_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    "million|billion"
)
MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

# A span of the folded text (start, end), and a hit: a category with its span.
Span = tuple[int, int]
Hit = tuple[str, int, int]


def escape(text: str) -> str:
    """text as a literal pattern in which a space stands for any run of whitespace."""
    return "".join(r"\s+" if ch == " " else re.escape(ch) for ch in text)


def trie(words: Iterable[str | tuple[str, str]]) -> list[str]:
    """Top-level alternatives matching any of the literal words, shaped as a trie.

    Python's regex engine tries alternatives one by one at each position; a trie tries one branch per
    character instead. Returned as a list so callers put the branches at the top level of their pattern,
    where all starting with a literal lets the engine skip ahead to candidates. Longer words win (欠款 over
    欠, "past due" over "past") because every optional tail is greedy. A word may also be a literal head with
    a pattern to follow it (see `tailed`), so that word lists and phrase patterns share one trie.
    """
    root: dict[str, dict] = {}
    for word in words:
        head, tail = (word, "") if isinstance(word, str) else word
        node = root
        for ch in head:
            node = node.setdefault(ch, {})
        node.setdefault("", {})[tail] = {}

    def emit(node: dict[str, dict]) -> str:
        tails = node.get("", {})
        branches = [escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        branches += [f"(?:{tail})" for tail in tails if tail]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in tails else body

    return [escape(ch) + emit(child) for ch, child in sorted(root.items()) if ch]


def tailed(heads: Iterable[str], tail: str) -> list[tuple[str, str]]:
    """Each literal head word with the pattern tail to follow it, as `trie` takes them."""
    return [(head, tail) for head in heads]


def led(heads: Iterable[str], tail: str) -> list[str]:
    """One alternative per head word, each starting with a literal so the engine can skip ahead to it."""
    return [escape(head) + tail for head in heads]


def english(*patterns: str) -> re.Pattern[str]:
    """English patterns end at a word boundary; the start is checked by english_matches."""
    return re.compile("(?:" + "|".join(patterns) + ")(?![a-z])")


def english_matches(pattern: re.Pattern[str], folded: str) -> list[re.Match[str]]:
    """The matches of an english pattern that also start at a word boundary."""
    # A leading (?<![a-z]) would stop the engine from skipping ahead on the first letter, so check it here.
    return [m for m in pattern.finditer(folded) if not (m.start() and folded[m.start() - 1] in ASCII_LETTERS)]


def overlaps(start: int, end: int, spans: list[Span]) -> bool:
    """Whether start..end overlaps any of spans."""
    # A plain loop: called for every number, where any() and a generator cost more than the test.
    for s_start, s_end in spans:
        if start < s_end and s_start < end:
            return True
    return False
