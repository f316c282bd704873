"""Overdue details: how long, or since when, the borrower has not paid ("逾期45天", "60 days past due").

Chinese durations count as overdue details when cued (逾期, 拖了...) or bare ("三个月"), except counts,
deadlines and idioms; English ones only in a phrase that says late, overdue or since.
"""

from __future__ import annotations

import re

from collections_app.messaging.firewall.patterns import (
    EN_NUMBER_WORDS,
    MONTHS,
    Span,
    english,
    english_matches,
    led,
)

_CN_NUM_X = "(?:[0-9]+(?:\\.[0-9]+)?|[零〇一二两三四五六七八九十百仨俩倆廿卅]+|半|几|数|好几)"
_CN_NUMERAL_CHARS = "0-9零〇一二两三四五六七八九十百千仨俩倆廿卅"
_OVERDUE_CN_CUED = re.compile(
    # 逾期45天, 已经拖了三个多月, 欠了半年
    "(?:逾期|拖欠|超期|欠款|欠费|欠了|欠|拖了|已经|已|超过|逾|迟还|晚还)"
    "(?:了|已|已经|达|近|约|将近|超过|长达|整整|快|有|足足|第)*\\s*"
    f"{_CN_NUM_X}\\s*(?:多|余)?(?:天|日|个多?月|个多?星期|周|个?礼拜|年|个年头)(?:多|有余|以上|之久)?"
)
_OVERDUE_CN_SINCE = re.compile(
    # 自3月起, 从去年开始, 自2024年3月以来
    "(?:自|从)\\s*(?:去年|今年|前年|上个?月|上周|上个?星期|"
    "(?:[0-9]{2,4}|[零〇一二三四五六七八九]{2,4})\\s*年(?:\\s*[0-9一二三四五六七八九十]{1,3}\\s*月份?)?|"
    "[0-9一二三四五六七八九十]{1,3}\\s*月份?(?:\\s*[0-9一二三四五六七八九十]{1,3}\\s*[日号])?)\\s*"
    "(?:起|以来|开始|至今|到现在)"
)
# 三个月, 两个多星期, 5周, 45天, 三年多; overdue_cn drops counts (第三个月), deadlines (3天内) and 一天.
# The lookbehind after the first character keeps the match from restarting inside a long number.
_OVERDUE_CN_BARE = re.compile(
    f"(?P<n>[{_CN_NUMERAL_CHARS}半几数好](?<![{_CN_NUMERAL_CHARS}].)[0-9零〇一二两三四五六七八九十百.几仨俩倆廿卅]*+)\\s*"
    # 俩月 and 仨礼拜 hold their 个: 俩 is 两个.
    "(?P<unit>多?个多?(?:月|星期|礼拜)|(?<=[仨俩倆])多?(?:月|星期|礼拜)|多?周|多?天|多年|年多)"
)
_NOT_A_DURATION = frozenset({"1", "一", "半", "几", "数", "好", "好几"})
_COUNT_OR_LATER_BEFORE = frozenset("第每这那过再等有")
# 三天两头 and 三天打鱼 are idioms for "often" and "on and off".
_IDIOM_AFTER = ("两头", "打鱼")
_DEADLINE_AFTER = ("内", "以内", "之内", "后", "之后", "以后", "前", "之前")

_EN_NUMBER_HEADS = [*EN_NUMBER_WORDS.split("|"), "a few", "several", "a couple of", "many"]
_EN_SPAN = r"(?:days?|weeks?|months?|years?)"
_EN_AFTER_NUMBER = (
    rf"(?:[\s-]+(?:{EN_NUMBER_WORDS}))?\+?[\s-]*(?:{_EN_SPAN}\s+(?:past[\s-]+due|overdue|late|behind|delinquent|"
    r"in\s+arrears|in\s+default|without\s+(?:a\s+)?payment)|(?:weeks?|months?|years?)\s+(?:ago|now|already))"
)
_EN_NUM = rf"(?:[0-9]+\+?|(?:{EN_NUMBER_WORDS})(?:[\s-]+(?:{EN_NUMBER_WORDS}))?|a\s+few|several|a\s+couple\s+of|many)"
_EN_ABOUT = r"(?:over\s+|more\s+than\s+|about\s+|almost\s+|nearly\s+)?"
# Every English overdue pattern names a period, a "since" or DPD; most messages have none of them.
_EN_PERIOD_WORD = re.compile("day|week|month|year|since|dpd")
_OVERDUE_EN = english(
    *led(_EN_NUMBER_HEADS, _EN_AFTER_NUMBER),
    *led(
        "overdue late behind delinquent unpaid outstanding past_due in_arrears".replace("_", " ").split(),
        rf"\s+(?:by|for)\s+{_EN_ABOUT}{_EN_NUM}[\s-]*{_EN_SPAN}",
    ),
    *led(("for", "over"), rf"\s+(?:the\s+(?:past|last)\s+)?{_EN_NUM}\s+(?:months?|weeks?|years?)"),
    *led(("past", "last"), rf"\s+{_EN_NUM}\s+(?:days|weeks|months|years)"),
    rf"been\s+{_EN_ABOUT}{_EN_NUM}\s+(?:days|weeks?|months?|years?)",
    r"dpd\s*[0-9]+",
    rf"since\s+(?:(?:{MONTHS})(?:\.(?=\s*[0-9]))?(?:\s+[0-9]{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+[0-9]{{4}})?|"
    rf"last\s+(?:week|month|year|{MONTHS})|[0-9]{{1,2}}/[0-9]{{1,2}}(?:/[0-9]{{2,4}})?|(?:19|20)[0-9]{{2}}|"
    rf"the\s+(?:start|beginning|end)\s+of\s+[a-z]+|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS}))",
)
_OVERDUE_EN_DIGITS = re.compile(rf"[0-9](?<![0-9].)[0-9]*+(?:{_EN_AFTER_NUMBER}|\s*dpd(?![a-z]))")


def overdue_cn(folded: str) -> list[Span]:
    """The Chinese overdue details in folded text: cued durations, since-when phrases and bare durations."""
    spans = [m.span() for m in _OVERDUE_CN_CUED.finditer(folded)]
    spans.extend(m.span() for m in _OVERDUE_CN_SINCE.finditer(folded))
    cued = spans[:]
    for match in _OVERDUE_CN_BARE.finditer(folded):
        start, end = match.span()
        if any(c_start <= start and end <= c_end for c_start, c_end in cued):
            continue
        numeral, unit = match.group("n", "unit")
        if numeral == "好" or (unit[-1] in "天周" and numeral in _NOT_A_DURATION):
            continue
        # "第三个月", "每两周", "这三天" count or name a period; "过两天"/"再等三天" are later; "3天内" is a deadline.
        if (
            (start and folded[start - 1] in _COUNT_OR_LATER_BEFORE)
            or folded.startswith(_DEADLINE_AFTER, end)
            or folded.startswith(_IDIOM_AFTER, end)
        ):
            continue
        spans.append((start, end))
    return spans


def overdue_en(folded: str) -> list[Span]:
    """The English overdue details in folded text (which has Latin letters)."""
    if not _EN_PERIOD_WORD.search(folded):
        return []
    spans = [m.span() for m in english_matches(_OVERDUE_EN, folded)]
    spans.extend(m.span() for m in _OVERDUE_EN_DIGITS.finditer(folded))
    return spans
