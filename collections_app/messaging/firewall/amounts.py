"""Amounts: which numbers in a message are money, in Arabic or Chinese numerals or English words.

A currency word or sign beside a number decides; without one, the number's own shape (a unit such as 万,
thousands groups, capital numerals) or the cue nearest before it (余额, 账号, 工号) does. cn2an converts
only the Chinese numerals found, never the whole text.
"""

from __future__ import annotations

import re
from functools import lru_cache

import cn2an

from collections_app.messaging.firewall.categories import AMOUNT, IDENTIFIER
from collections_app.messaging.firewall.identifiers import is_card_or_id, is_service_number, phone_spans
from collections_app.messaging.firewall.modes import CompiledProfile
from collections_app.messaging.firewall.numerals import COMPACT_DATE, NUM_ARABIC
from collections_app.messaging.firewall.patterns import (
    CN_BIG_UNITS,
    CN_DIGITS,
    EN_NUMBER_WORDS,
    Hit,
    Span,
    english,
    english_matches,
    overlaps,
)

_CN_UPPER = frozenset("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟萬億")
_CURRENCY_BEFORE = re.compile(r"(?:[$¥£€]|(?<![a-z])(?:us\$|hk\$|rmb|cny|usd|gbp|eur|hkd)|人民币)\s?\Z")
_CURRENCY_AFTER = re.compile(
    r"(?:多|余|来)?\s?(?:元|块钱?|圆|人民币|美元|美金|英镑|港币|港元|欧元|"
    r"(?:rmb|cny|usd|gbp|eur|hkd|yuan|dollars?|bucks|pounds?|quid|euros?|kuai|grand)(?![a-z]))"
)
_NOT_MONEY_AFTER = re.compile(
    r"(?:多|余|来)?\s?(?:个|天|日|号|月|年|周|星期|次|点|分|秒|时|小时|岁|期|%|人|位|条|楼|层|家|名|倍|项|笔|米|公里|"
    r"(?:days?|weeks?|months?|years?|times|hours?|minutes?|mins?|am|pm|a\.m|p\.m|percent|people|calls?|messages?|"
    r"st|nd|rd|th)(?![a-z]))"
)
_EN_CURRENCY_WORD = re.compile("dollar|buck|pound|quid|yuan|euro|grand")
_EN_AMOUNT = english(
    rf"(?:a|{EN_NUMBER_WORDS})(?:[\s-]+(?:and[\s-]+)?(?:{EN_NUMBER_WORDS}))*\s+"
    r"(?:dollars?|bucks|pounds?|quid|yuan|euros?|grand)"
)
# The cue nearest before a bare number decides what it is: 余额 1280 is money, 账号 12345678 an account.
_CUE_WINDOW = 10
_CUES = re.compile(
    r"(?P<staff>工号|坐席|座席|客服编号|(?<![a-z])(?:agent|staff|extension|ext\.?)(?![a-z]))"
    r"|(?P<id>卡号|卡|账号|帐号|账户|帐户|户号|合同|编号|单号|订单|流水号?|借据|身份证|证件|证号|工单|案号|客户号|会员号|"
    r"(?<![a-z])(?:account|acct|a/c|contract|loan\s*(?:no|number|#|id)|card|reference|ref|id|no\.|number)(?![a-z])|#)"
    r"|(?P<amt>欠|金额|共计|合计|总计|总额|本金|应还|待还|余额|还差|差了|尚差|借了|额度|罚息|利息|费用|"
    r"(?<![a-z])(?:owe[sd]?|owing|amount|balance|total|sum|due|debt|pay|paid)(?![a-z]))"
)


def english_amounts(folded: str) -> list[Span]:
    """Amounts written in English words ("two hundred dollars") in folded text (which has Latin letters)."""
    if not _EN_CURRENCY_WORD.search(folded):
        return []
    return [m.span() for m in english_matches(_EN_AMOUNT, folded)]


@lru_cache(maxsize=4096)
def cn_value(numeral: str) -> float | None:
    """The value of a Chinese numeral, or None when cn2an cannot read it (一两千, 几万)."""
    try:
        return float(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def _nearest_cue(folded: str, start: int) -> str | None:
    cue = None
    for match in _CUES.finditer(folded, max(0, start - _CUE_WINDOW), start):
        cue = match.lastgroup
    return cue


def amount_hits(
    folded: str,
    compiled: CompiledProfile,
    numbers: list[re.Match[str]],
    protected: list[Span],
    claimed: list[Span],
    hits: list[Hit],
) -> None:
    """Add to hits each of numbers that is an amount, or an identifier by its shape or context; skip the rest."""
    blocked = claimed + protected
    for match in numbers:
        start, end = match.span()
        if match.re is NUM_ARABIC:
            arabic = match.group("ar")
            # Never start inside a number ("1.5" is one number, "您好,1280元" still has one).
            if start and (
                folded[start - 1].isdigit() or (folded[start - 1] in ".," and folded[start - 2 : start - 1].isdigit())
            ):
                continue
            # The number proper decides; a unit's trailing digit may touch the next number ("3万1 0000").
            own_end = match.end("ar")
        else:
            arabic = None
            own_end = end
            # 一起, 一下, 第二, 十分: a lone small numeral is money only with a currency word after it.
            if end - start == 1 and folded[start] not in CN_BIG_UNITS and not _CURRENCY_AFTER.match(folded, end):
                continue
        if blocked and overlaps(start, own_end, blocked):
            continue
        before = _CURRENCY_BEFORE.search(folded, max(0, start - 5), start)
        after = _CURRENCY_AFTER.match(folded, end)
        if arabic is not None:
            category = _classify_arabic(folded, compiled, match, arabic, before, after)
        else:
            category, after = _classify_chinese(folded, match.group(), start, end, before, after)
        if category is None:
            continue
        if category == AMOUNT:
            if folded[start - 1 : start] == "数":
                start -= 1
            if before is not None:
                start = before.start()
            if after is not None:
                end = after.end()
        elif arabic is not None:
            end = match.end("ar")
        hits.append((category, start, end))


def _classify_arabic(
    folded: str,
    compiled: CompiledProfile,
    match: re.Match[str],
    arabic: str,
    before: re.Match[str] | None,
    after: re.Match[str] | None,
) -> str | None:
    start, end = match.span()
    digits = arabic.split(".")[0].replace(",", "").replace(" ", "")
    grouped = "," in arabic or " " in arabic
    has_unit = match.group("unit") is not None
    long_run = len(digits) >= 6 and not has_unit and not grouped
    # A checksum-valid card or ID number, or a real phone number, is an identifier even beside money words.
    if len(digits) >= 13 and not grouped and is_card_or_id(digits):
        return IDENTIFIER
    if long_run and (before or after or _nearest_cue(folded, start) == "amt"):
        if phone_spans(folded, start, end, compiled):
            return IDENTIFIER
    if before is not None or after is not None:
        return AMOUNT
    # 45天 and 第3 are no money, but seven digits and more are somebody's number whatever follows them.
    if len(digits) < 7 and (_NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第"):
        return None
    if not has_unit and not grouped and (is_service_number(digits, compiled) or COMPACT_DATE.fullmatch(digits)):
        return None
    if has_unit or grouped:
        return AMOUNT
    cue = _nearest_cue(folded, start)
    if cue == "staff":
        # The agent's own staff number or extension is no one's debt.
        return None
    if cue == "id" and len(digits) >= 6:
        return IDENTIFIER
    if cue == "amt":
        return AMOUNT
    # Unexplained numbers are not for a family's eyes: long ones point at an account, shorter ones at money.
    if len(digits) >= 6:
        return IDENTIFIER
    if len(digits) >= 3 and not (len(digits) == 4 and digits[:2] in ("19", "20")):
        return AMOUNT
    return None


def _classify_chinese(
    folded: str,
    numeral: str,
    start: int,
    end: int,
    before: re.Match[str] | None,
    after: re.Match[str] | None,
) -> tuple[str | None, re.Match[str] | None]:
    # 一块去/一块儿 mean "together", not one yuan.
    if after is not None and numeral == "一" and after.group().lstrip("多余来 ").startswith("块"):
        if not after.group().endswith("钱") and folded[after.end() : after.end() + 1] != "钱":
            after = None
    if numeral[0] in CN_BIG_UNITS:
        # 千万/万一/百忙 are words; 百元 and 数万 are money.
        if _NOT_MONEY_AFTER.match(folded, end):
            return None, after
        if folded[start - 1 : start] == "数" or (after is not None and all(c in CN_BIG_UNITS for c in numeral)):
            return AMOUNT, after
        return None, after
    if len(numeral) >= 7 and all(c in CN_DIGITS for c in numeral):
        # 一三八一二三四五六七八: a phone or account number spelt out.
        return IDENTIFIER, after
    value = cn_value(numeral)
    if value is None:
        # 一两千, 三五万, 十几万, 几千: a vague amount is still an amount.
        vague = any(c in CN_BIG_UNITS for c in numeral[1:]) and not _NOT_MONEY_AFTER.match(folded, end)
        return (AMOUNT if vague or before is not None or after is not None else None), after
    if before is not None or after is not None:
        return AMOUNT, after
    if _NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第":
        return None, after
    if any(c in CN_BIG_UNITS for c in numeral[1:]):
        return AMOUNT, after
    if len(numeral) >= 2 and any(c in _CN_UPPER for c in numeral):
        return AMOUNT, after
    if value >= 10 and _nearest_cue(folded, start) == "amt":
        return AMOUNT, after
    return None, after
