"""What a number looks like in a message, and which numbers are times, dates or percentages.

The shapes are shared by `identifiers` and `amounts`, which judge each number; the protected patterns mark
numbers that are neither. Every protected pattern starts with a digit, so `lint` tries them only where a
number starts.
"""

from __future__ import annotations

import re

from collections_app.messaging.firewall.patterns import (
    CN_BIG_UNITS,
    CN_COLLOQUIAL_DIGITS,
    CN_DIGITS,
    CN_NUMERAL,
    CN_SMALL_UNITS,
    MONTHS,
    english,
)

HAS_DIGIT = re.compile("[0-9]")
HAS_CN_NUMERAL = re.compile(f"{CN_NUMERAL}|[{CN_COLLOQUIAL_DIGITS}]")
NUM_ARABIC = re.compile(
    r"(?P<ar>[0-9](?:[0-9]{0,2}(?:,[0-9]{3})+|[0-9]{0,2}(?: [0-9]{3})+(?![0-9])|[0-9]*)(?:\.[0-9]+)?)"
    # 1.2万, 3 千, 1万2, 5 thousand; 5k and 2w (万) only written solid, since "... 5 k" is rarely money.
    rf"(?P<unit>\s?[{CN_SMALL_UNITS}{CN_BIG_UNITS}][{CN_DIGITS}{CN_SMALL_UNITS}{CN_BIG_UNITS}]*(?:[0-9](?![0-9]))?"
    r"|[kw](?![a-z])|\s?(?:hundred|thousand|million|billion)(?![a-z]))?"
)
# 几 joins the numerals so that 十几万 and 几千 are read whole; 半 and 把 after a big unit say "and a half"
# and "about" (两万半, 千把块).
NUM_CHINESE = re.compile(
    f"(?:{CN_NUMERAL}|[{CN_COLLOQUIAL_DIGITS}](?=[{CN_SMALL_UNITS}{CN_BIG_UNITS}]))"
    f"[{CN_DIGITS}{CN_SMALL_UNITS}{CN_BIG_UNITS}几]*(?:(?<=[{CN_BIG_UNITS}])[半把])?|几[{CN_BIG_UNITS}十]+"
)

# Every alternative starts with a digit, matched once up front so the engine can skip to digits.
PROTECTED = re.compile(
    "[0-9](?:"
    + "|".join(
        (
            # times: 8:00, 08:00-21:00 (each side), 9am, 8点半
            r"[0-9]?:[0-9]{2}(?::[0-9]{2})?(?:\s?[ap]\.?m\.?)?",
            r"[0-9]?\s?[ap]\.?m\.?(?![a-z])",
            r"[0-9]?(?:点|时)(?:半|整|钟|[0-9]{1,2}分)?",
            # dates: 2024-05-01, 2024年5月1日, 5月1日, 3日, 5/1, 5th of March
            r"(?:[0-9]{3})?[0-9][-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12][0-9]|3[01])(?![0-9])",
            r"[0-9]{3}\s?年(?:\s?[0-9]{1,2}\s?月(?:\s?[0-9]{1,2}\s?[日号])?)?",
            r"[0-9]?\s?月份?(?:\s?[0-9]{1,2}\s?[日号])?",
            r"[0-9]?\s?[日号]",
            r"[0-9]?/[0-9]{1,2}(?:/[0-9]{2,4})?",
            rf"[0-9]?(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})(?![a-z])(?:,?\s+[0-9]{{4}})?",
            # percentages
            r"[0-9]{0,2}(?:\.[0-9]+)?\s?%",
        )
    )
    + ")"
)
PROTECTED_CN_TIME = re.compile(f"[{CN_DIGITS}十][{CN_DIGITS}十]{{0,2}}(?:点|时)(?:半|整|钟|[{CN_DIGITS}十]{{1,3}}分)?")
PROTECTED_EN_DATE = english(rf"(?:{MONTHS})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?(?:,?\s+[0-9]{{4}})?")
# 20240501 written solid is a date, whatever a bare number of that length would be taken for.
COMPACT_DATE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
