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
    tailed,
    trie,
)

# The capital numerals written on cheques; 拾 alone does not count, as 收拾一下 ("tidy up") has it.
_CN_UPPER = frozenset("壹贰貳叁參肆伍陆陸柒捌玖佰仟萬億")
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
_EN_WORDS_NUMBER = rf"(?:{EN_NUMBER_WORDS})(?:[\s-]+(?:and[\s-]+)?(?:{EN_NUMBER_WORDS}))*"
_EN_AMOUNT = english(
    # five hundred dollars, a grand, a couple grand, a few thousand bucks, thousands of pounds
    rf"(?:a(?:\s+(?:couple(?:\s+of)?|few))?|several|{EN_NUMBER_WORDS})(?:[\s-]+(?:and[\s-]+)?(?:{EN_NUMBER_WORDS}))*\s+"
    r"(?:dollars?|bucks|pounds?|quid|yuan|euros?|grand)",
    r"(?:hundreds|thousands|millions)\s+of\s+(?:dollars|bucks|pounds|yuan|euros)",
)
# A number in words without a currency word ("five thousand", "two hundred and fifty") is money when it runs
# to hundreds, or from ten up after an amount cue ("owes fifty"), unless a count follows or an idiom holds it.
_EN_NUMBER = english(*trie(tailed(EN_NUMBER_WORDS.split("|"), rf"(?:[\s-]+(?:and[\s-]+)?(?:{EN_NUMBER_WORDS}))*")))
_EN_NUMBER_CUE = re.compile(
    "|".join(trie("hundred thousand million billion owe owing amount balance total sum due debt pay".split()))
)
_EN_QUANTIFIER_BEFORE = re.compile(r"(?:(?<![a-z])a(?:\s+(?:couple(?:\s+of)?|few))?|several)\s+\Z")
_EN_IDIOM_BEFORE = re.compile(r"(?:thanks|thank\s+you|in)\s+a\s+\Z")
_EN_NOT_MONEY_AFTER = re.compile(
    r"\s+(?:thanks|apologies|reasons|ways|miles|kilometers|km|customers|clients|of\s+(?:us|you|them|people))"
    r"(?![a-z])"
)
_EN_SMALL = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split()
    )
}
_EN_SMALL.update(
    {
        word: 10 * (index + 2)
        for index, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
    }
)
_EN_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def english_value(words: str) -> int:
    """The value of a number written in English words ("two hundred and fifty" is 250)."""
    total = current = 0
    for word in re.split(r"[\s-]+", words):
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _EN_SCALES:
            total += max(current, 1) * _EN_SCALES[word]
            current = 0
    return total + current


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
    """Amounts written in English words ("two hundred dollars", "five thousand") in folded text (with Latin)."""
    spans = [m.span() for m in english_matches(_EN_AMOUNT, folded)] if _EN_CURRENCY_WORD.search(folded) else []
    if not _EN_NUMBER_CUE.search(folded):
        return spans
    for match in english_matches(_EN_NUMBER, folded):
        start, end = match.span()
        if (spans and overlaps(start, end, spans)) or _EN_NOT_MONEY_AFTER.match(folded, end):
            continue
        # "5 thousand" is one number, read with its digits (numerals.NUM_ARABIC).
        if folded[max(0, start - 2) : start].strip()[-1:].isdigit():
            continue
        if _NOT_MONEY_AFTER.match(folded, end) or _EN_IDIOM_BEFORE.search(folded, max(0, start - 12), start):
            continue
        value = english_value(match.group())
        if value >= 100 or (value >= 10 and _nearest_cue(folded, start) == "amt"):
            quantifier = _EN_QUANTIFIER_BEFORE.search(folded, max(0, start - 14), start)
            spans.append((quantifier.start() if quantifier else start, end))
    return spans


# The colloquial numerals cn2an does not read, in the words it does.
_CN_STANDARD = str.maketrans({"仨": "三", "俩": "两", "倆": "两", "廿": "二十", "卅": "三十", "卌": "四十"})
# After a leading 万 or 千 these are its next digit: 万五 is 15,000 and 千八 1,800 (万一, "in case", is a word).
_CN_NEXT_DIGIT = frozenset("二两俩三仨四五六七八九")


@lru_cache(maxsize=4096)
def cn_value(numeral: str) -> float | None:
    """The value of a Chinese numeral, or None when cn2an cannot read it (一两千, 几万, 两万半)."""
    try:
        return float(cn2an.cn2an(numeral.translate(_CN_STANDARD), "smart"))
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
        # 千万/万一/百忙 are words; 百元, 数万 and 千把块 are money, and so are 万五 and 千把 after an amount cue.
        if _NOT_MONEY_AFTER.match(folded, end):
            return None, after
        core = numeral.rstrip("半把")
        if folded[start - 1 : start] == "数" or (after is not None and all(c in CN_BIG_UNITS for c in core)):
            return AMOUNT, after
        colloquial = core != numeral or (len(numeral) == 2 and numeral[1] in _CN_NEXT_DIGIT)
        if colloquial and (after is not None or _nearest_cue(folded, start) == "amt"):
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
