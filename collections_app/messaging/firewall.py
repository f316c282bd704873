"""The content firewall: what a collection message must not say to its audience.

A pure module (no database, no settings) so the same rule runs when a template is saved, when a
family-contact request is filed and at send time, and can be tested and benchmarked on its own.

Offsets are 0-based code points into the text as given, end excluded. Matching runs on a folded copy
(full-width ASCII to ASCII, ASCII letters to lower case, odd spaces to a space): one code point for one,
so offsets found in the folded copy are offsets into the original.

Speed comes from the shape of the patterns, not from caching messages: no IGNORECASE (case is folded
first), Chinese and English patterns kept apart and run only when the text has that script, alternatives
that start with a literal so the regex engine can skip ahead, and the libraries (cn2an, python-stdnum,
phonenumbers) handed only the few candidate spans the cheap patterns found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import cn2an
import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

# phonenumbers compiles its metadata patterns through re.compile, whose small cache keeps evicting them once
# more than one region is in play; keeping them (a bounded set) makes each phone check several times cheaper.
phonenumbers.enable_pattern_cache()

AMOUNT = "amount"
OVERDUE_DETAIL = "overdue_detail"
IDENTIFIER = "identifier"
PRODUCT = "product"
DEBT_DISCLOSURE = "debt_disclosure"
THREAT = "threat"
THIRD_PARTY = "third_party"
CATEGORIES: tuple[str, ...] = (AMOUNT, OVERDUE_DETAIL, IDENTIFIER, PRODUCT, DEBT_DISCLOSURE, THREAT, THIRD_PARTY)

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


@dataclass(frozen=True)
class FirewallProfile:
    """The jurisdiction data the firewall reads; strict_debt flags any mention of debt or repayment."""

    name: str
    hotlines: tuple[str, ...] = ()
    product_names: tuple[str, ...] = ()
    strict_debt: bool = False
    phone_region: str = "CN"
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Profiles built from database rows may arrive with lists; the compiled-pattern cache needs hashable fields.
        object.__setattr__(self, "hotlines", tuple(self.hotlines))
        object.__setattr__(self, "product_names", tuple(self.product_names))
        # Hashed once: lint_message looks its compiled patterns up by profile on every call.
        fields = (self.name, self.hotlines, self.product_names, self.strict_debt, self.phone_region)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash


PROFILES: dict[str, FirewallProfile] = {
    "cn-default": FirewallProfile(
        name="cn-default",
        hotlines=("95188",),
        product_names=tuple(
            "借呗 花呗 微粒贷 白条 京东金条 网商贷 备用金 安逸花 有钱花 360借条 美团月付 分期乐 信用卡".split()
        ),
    ),
    "us-regf": FirewallProfile(
        name="us-regf",
        product_names=("credit card", "Affirm", "Klarna", "Afterpay", "PayPal Credit"),
        strict_debt=True,
        phone_region="US",
    ),
    "uk-conc": FirewallProfile(
        name="uk-conc",
        product_names=("credit card", "Klarna", "Clearpay", "Zopa", "Lendable", "payday loan"),
        strict_debt=True,
        phone_region="GB",
    ),
}


class UnknownProfileError(LookupError):
    """No firewall profile has that name."""


def firewall_profile_get(name: str) -> FirewallProfile:
    """Return the firewall profile called name, or raise UnknownProfileError."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(name) from None


# --- folding ---------------------------------------------------------------------------------------------------

_FOLD = {cp: ord(chr(cp - 0xFEE0).lower()) for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x2009: 0x20, 0x202F: 0x20, 0xFFE5: ord("¥"), 0xFFE1: ord("£")})
# The same mapping as a table indexed by code point: str.translate looks a string table up faster than a dict
# (code points past the table stay as they are).
_FOLD_TABLE = "".join(chr(_FOLD.get(cp, cp)) for cp in range(0x10000))


def _fold(text: str) -> str:
    # ASCII text only needs lower case, which str.lower does one for one and far faster.
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


# --- building blocks -------------------------------------------------------------------------------------------

_CN_DIGITS = "零〇一二两兩三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖"
_CN_SMALL_UNITS = "十拾"
_CN_BIG_UNITS = "百千万亿佰仟萬億"
_CN_UPPER = frozenset("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟萬億")
_CN_NUMERAL = f"[{_CN_DIGITS}{_CN_SMALL_UNITS}{_CN_BIG_UNITS}]"
_EN_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    "million|billion"
)
_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_LETTERS_OR_DASH = _ASCII_LETTERS | {"-"}
# What _DIGIT_RUN allows between digits.
_SEPARATORS_GONE = str.maketrans("", "", " -.()+")
_HAS_LATIN = re.compile("[a-z]")
_HAS_CJK = re.compile("[\u3400-\u9fff]")
_HAS_DIGIT = re.compile("[0-9]")
_HAS_CN_NUMERAL = re.compile(_CN_NUMERAL)


def _escape(text: str) -> str:
    return "".join(r"\s+" if ch == " " else re.escape(ch) for ch in text)


def _trie(words: Iterable[str]) -> list[str]:
    """Top-level alternatives matching any of the literal words, shaped as a trie.

    Python's regex engine tries alternatives one by one at each position; a trie tries one branch per
    character instead. Returned as a list so callers put the branches at the top level of their pattern,
    where all starting with a literal lets the engine skip ahead to candidates. Longer words win (欠款 over
    欠, "past due" over "past") because every optional tail is greedy.
    """
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [_escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return [_escape(ch) + emit(child) for ch, child in sorted(root.items())]


def _led(heads: Iterable[str], tail: str) -> list[str]:
    """One alternative per head word, each starting with a literal so the engine can skip ahead to it."""
    return [_escape(head) + tail for head in heads]


def _english(*patterns: str) -> re.Pattern[str]:
    """English patterns end at a word boundary; the start is checked by _english_matches."""
    return re.compile("(?:" + "|".join(patterns) + ")(?![a-z])")


def _english_matches(pattern: re.Pattern[str], folded: str) -> list[re.Match[str]]:
    # A leading (?<![a-z]) would stop the engine from skipping ahead on the first letter, so check it here.
    return [m for m in pattern.finditer(folded) if not (m.start() and folded[m.start() - 1] in _ASCII_LETTERS)]


# --- keywords --------------------------------------------------------------------------------------------------

_DEBT_WORDS_CN = (
    "拖欠 欠款 欠债 欠钱 欠费 欠账 欠帐 欠下 欠了 亏欠 尚欠 负债 债务 债主 欠条 借条 逾期 催收 催缴 "
    "催款 催债 追债 讨债 借款 贷款 借钱 网贷 借贷 高利贷 本金 本息 利息 罚息 滞纳金 违约金 违约 账单 "
    "帐单 分期 还不上 还不起 赖账 赖帐 征信 信用记录 债 待还 应还 月供 借的钱 欠着"
).split()
_NOT_REPAID_CN = [
    f"{prefix}{manner}{verb}"
    for prefix in "一直没有 一直没 一直未 还没有 迟迟未 迟迟不 还没 没有 尚未 不肯 拒不 拒绝 未 没 不".split()
    for manner in ("", "按时", "及时", "按期")
    for verb in "还款 还钱 还清 归还 偿还 还上 还账".split()
]
# 欠佳/欠妥/欠缺/欠安 say "not good enough", not "owes"; 没还有/不还价 are not about repaying.
_DEBT_PATTERNS_CN = ("欠(?![佳妥缺安])", "不还(?![有是在要价])", "没有?还(?![有是在要])", "未还(?![有是在要])")
# Strict profiles (Reg F, CONC) refuse any mention of repayment; cn-default lets a generic request such as
# "提醒其处理还款事宜" through, as the seed describes.
_REPAYMENT_CN = "还款 还钱 偿还 归还 还清 结清 付款 缴款 缴费 清偿 还上 还账 还帐".split()

_DEBT_EN = (
    "owe|owes|owed|owing|debt|debts|debtor|debtors|indebted|overdue|arrears|past due|past-due|collection|"
    "collections|collector|collectors|loan|loans|borrowed|borrower|borrowers|borrowing|lender|lenders|lending|"
    "creditor|creditors|delinquent|delinquency|defaulted|in default|default on|unpaid|bankrupt|bankruptcy|"
    "charge-off|charge off|charged off|installment|installments|dpd|mortgage|line of credit|credit line|overdraft|"
    "missed payment|missed payments|late payment|late payments|behind on|balance due|balance owed|"
    "balance outstanding|outstanding balance|outstanding amount|outstanding payment|outstanding payments|"
    "outstanding sum|outstanding bill|outstanding bills|outstanding debt"
).split("|") + [
    f"{neg} {verb}"
    for neg in ("not", "never", "hasn't", "haven't", "didn't", "won't")
    for verb in ("paid", "pay", "repaid", "repay")
]
# "balance" joins them: "Pat has a balance with us" discloses a debt. ("bill" would catch every Bill.)
_REPAYMENT_EN = (
    "pay pays paying payment payments payable payback repay repays repaying repayment repayments repayable paid "
    "repaid settle settles settled settlement balance"
).split()

_THREAT_CN = (
    "起诉 诉讼 告你 坐牢 判刑 拘留 逮捕 抓你 抓人 刑事 犯罪 诈骗 上门 曝光 通讯录 单位 律师函 律师 "
    "法院 法庭 传票 公安 警察 报警 派出所 黑名单 老赖 失信 强制执行 冻结 查封 后果自负 走着瞧 等着瞧 "
    "别怪我们不客气 对你不客气 最后通牒 法律责任 法律程序 法律手段 骗子 无赖 不要脸 人渣 废物 混蛋 "
    "王八蛋 滚蛋 去死 找死 死全家 家破人亡 身败名裂 丢人现眼 依法采取 法律措施 父债子还 连带责任 发到网上 "
    "挂到网上 挂网上 公之于众 去他家 到他家 去你家 到你家 找上门 家访 也要承担"
).split()
_THREAT_EN = (
    "arrest|arrested|arresting|sue|sued|sues|suing|lawsuit|lawsuits|litigation|lawyer|lawyers|attorney|"
    "attorneys|jail|jailed|prison|police|cop|cops|court|courts|warrant|warrants|garnish|garnished|garnishment|"
    "seize|seized|seizure|repossess|repossessed|repossession|criminal|prosecute|prosecuted|prosecution|fraud|"
    "fraudster|expose|exposed|exposing|shame|blacklist|blacklisted|deadbeat|loser|idiot|stupid|scum|liar|thief|"
    "worthless|or else|final warning|last warning|you'll regret|you will regret|we know where you live|"
    "contact list|address book|phone contacts|legal action|legal proceedings|show up at your|visit your home|ccj|"
    "visit your house|visit your office|visit your workplace|visit your work"
).split("|")

# Who the borrower is told will hear about it. Ambiguous objects (公司, 朋友...) need a 你/您 possessive,
# so "请联系公司客服" stays clean.
_TP_VERBS_CN = (
    "通知 告诉 告知 联系 联系到 联络 打给 打到 打电话给 致电 找 找到 发给 发短信给 群发 群发给 曝光给 转告 拜访 走访 爆"
).split()
_TP_CLOSE_CN = (
    "家人|家属|家里人|父母|爸妈|父亲|母亲|爸爸|妈妈|妈|爸|亲人|亲属|亲戚|亲友|配偶|爱人|老婆|老公|妻子|丈夫|子女|孩子|"
    "儿子|女儿|通讯录|紧急联系人|全家|邻居|村委会?|居委会?"
)
_TP_ANY_CN = "家里|朋友|好友|同事|领导|上司|老板|单位|公司|学校|老师|联系人"
_THIRD_PARTY_CN = re.compile(
    "|".join(
        (
            *_led(_TP_VERBS_CN, f"(?:了|过)?(?:(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})|(?:{_TP_CLOSE_CN}))"),
            *_led(("让", "叫"), f"(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN}|身边的人|所有人)"),
            *_led(
                ("你", "您"), f"的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})(?:都|也)?(?:会|将|就会)?(?:收到|知道|被通知|接到)"
            ),
            *_led(
                ("给", "向", "对"), f"(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})(?:们)?(?:发|打|群发|说|讲|通报|透露)"
            ),
        )
    )
)
_TP_EN_VERBS = (
    "contact call phone notify tell inform text message email e-mail write_to reach_out_to reach visit alert let "
    "contacting calling phoning notifying telling informing texting messaging emailing writing_to reaching_out_to "
    "visiting alerting contacted called phoned notified told informed texted messaged emailed wrote_to "
    "reached_out_to visited alerted"
).replace("_", " ")
_TP_EN_OBJECTS = (
    "family|relatives|parents|mother|father|mom|mum|dad|wife|husband|spouse|partner|children|kids|son|daughter|"
    "friends|contacts|employer|boss|manager|colleagues|coworkers|co-workers|workplace|office|neighbors|"
    "neighbours|references|hr"
)
_THIRD_PARTY_EN = _english(
    *_led(_TP_EN_VERBS.split(), rf"\s+(?:all\s+(?:of\s+)?)?(?:your|ur)\s+(?:[a-z]+\s+)?(?:{_TP_EN_OBJECTS})"),
    rf"your\s+(?:{_TP_EN_OBJECTS})\s+(?:will|are\s+going\s+to|is\s+going\s+to|would)\s+"
    r"(?:be\s+(?:told|notified|contacted|informed|called)|know|find\s+out|hear|learn)",
)

_THREAT_CN_RX = re.compile("|".join((*_trie(_THREAT_CN), "垃圾(?!短信|邮件)")))
_THREAT_EN_RX = _english(*_trie(_THREAT_EN))
_DEBT_CN_RX = re.compile("|".join((*_trie(_DEBT_WORDS_CN + _NOT_REPAID_CN), *_DEBT_PATTERNS_CN)))
_DEBT_CN_STRICT_RX = re.compile("|".join((*_trie(_DEBT_WORDS_CN + _NOT_REPAID_CN + _REPAYMENT_CN), *_DEBT_PATTERNS_CN)))
_DEBT_EN_RX = _english(*_trie(_DEBT_EN))
_DEBT_EN_STRICT_RX = _english(*_trie(_DEBT_EN + _REPAYMENT_EN))

# --- overdue details -------------------------------------------------------------------------------------------

_CN_NUM_X = "(?:[0-9]+(?:\\.[0-9]+)?|[零〇一二两三四五六七八九十百]+|半|几|数|好几)"
_CN_NUMERAL_CHARS = "0-9零〇一二两三四五六七八九十百千"
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
# 三个月, 两个多星期, 5周, 45天, 三年多; _overdue_cn drops counts (第三个月), deadlines (3天内) and 一天.
# The lookbehind after the first character keeps the match from restarting inside a long number.
_OVERDUE_CN_BARE = re.compile(
    f"(?P<n>[{_CN_NUMERAL_CHARS}半几数好](?<![{_CN_NUMERAL_CHARS}].)[0-9零〇一二两三四五六七八九十百.几]*+)\\s*"
    "(?P<unit>多?个多?(?:月|星期|礼拜)|多?周|多?天|多年|年多)"
)
_NOT_A_DURATION = frozenset({"1", "一", "半", "几", "数", "好", "好几"})
_COUNT_OR_LATER_BEFORE = frozenset("第每这那过再等有")
# 三天两头 and 三天打鱼 are idioms for "often" and "on and off".
_IDIOM_AFTER = ("两头", "打鱼")
_DEADLINE_AFTER = ("内", "以内", "之内", "后", "之后", "以后", "前", "之前")

_EN_NUMBER_HEADS = [*_EN_NUMBER_WORDS.split("|"), "a few", "several", "a couple of", "many"]
_EN_SPAN = r"(?:days?|weeks?|months?|years?)"
_EN_AFTER_NUMBER = (
    rf"(?:[\s-]+(?:{_EN_NUMBER_WORDS}))?\+?[\s-]*(?:{_EN_SPAN}\s+(?:past[\s-]+due|overdue|late|behind|delinquent|"
    r"in\s+arrears|in\s+default|without\s+(?:a\s+)?payment)|(?:weeks?|months?|years?)\s+(?:ago|now|already))"
)
_EN_NUM = rf"(?:[0-9]+\+?|(?:{_EN_NUMBER_WORDS})(?:[\s-]+(?:{_EN_NUMBER_WORDS}))?|a\s+few|several|a\s+couple\s+of|many)"
_EN_ABOUT = r"(?:over\s+|more\s+than\s+|about\s+|almost\s+|nearly\s+)?"
# Every English overdue pattern names a period, a "since" or DPD; most messages have none of them.
_EN_PERIOD_WORD = re.compile("day|week|month|year|since|dpd")
_OVERDUE_EN = _english(
    *_led(_EN_NUMBER_HEADS, _EN_AFTER_NUMBER),
    *_led(
        "overdue late behind delinquent unpaid outstanding past_due in_arrears".replace("_", " ").split(),
        rf"\s+(?:by|for)\s+{_EN_ABOUT}{_EN_NUM}[\s-]*{_EN_SPAN}",
    ),
    *_led(("for", "over"), rf"\s+(?:the\s+(?:past|last)\s+)?{_EN_NUM}\s+(?:months?|weeks?|years?)"),
    *_led(("past", "last"), rf"\s+{_EN_NUM}\s+(?:days|weeks|months|years)"),
    rf"been\s+{_EN_ABOUT}{_EN_NUM}\s+(?:days|weeks?|months?|years?)",
    r"dpd\s*[0-9]+",
    rf"since\s+(?:(?:{_MONTHS})(?:\.(?=\s*[0-9]))?(?:\s+[0-9]{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+[0-9]{{4}})?|"
    rf"last\s+(?:week|month|year|{_MONTHS})|[0-9]{{1,2}}/[0-9]{{1,2}}(?:/[0-9]{{2,4}})?|(?:19|20)[0-9]{{2}}|"
    rf"the\s+(?:start|beginning|end)\s+of\s+[a-z]+|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS}))",
)
_OVERDUE_EN_DIGITS = re.compile(rf"[0-9](?<![0-9].)[0-9]*+(?:{_EN_AFTER_NUMBER}|\s*dpd(?![a-z]))")

# --- numbers that are neither amounts nor identifiers -----------------------------------------------------------

# Every alternative starts with a digit, matched once up front so the engine can skip to digits.
_PROTECTED = re.compile(
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
            rf"[0-9]?(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?![a-z])(?:,?\s+[0-9]{{4}})?",
            # percentages
            r"[0-9]{0,2}(?:\.[0-9]+)?\s?%",
        )
    )
    + ")"
)
_PROTECTED_CN_TIME = re.compile(
    f"[{_CN_DIGITS}十][{_CN_DIGITS}十]{{0,2}}(?:点|时)(?:半|整|钟|[{_CN_DIGITS}十]{{1,3}}分)?"
)
_PROTECTED_EN_DATE = _english(rf"(?:{_MONTHS})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?(?:,?\s+[0-9]{{4}})?")
_COMPACT_DATE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")

# --- identifiers -----------------------------------------------------------------------------------------------

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

# --- amounts ---------------------------------------------------------------------------------------------------

_NUM_ARABIC = re.compile(
    r"(?P<ar>[0-9](?:[0-9]{0,2}(?:,[0-9]{3})+|[0-9]{0,2}(?: [0-9]{3})+(?![0-9])|[0-9]*)(?:\.[0-9]+)?)"
    # 1.2万, 3 千, 1万2; 5k and 2w (万) only written solid, since "... 5 k" is rarely money.
    rf"(?P<unit>\s?[{_CN_SMALL_UNITS}{_CN_BIG_UNITS}][{_CN_DIGITS}{_CN_SMALL_UNITS}{_CN_BIG_UNITS}]*(?:[0-9](?![0-9]))?"
    r"|[kw](?![a-z]))?"
)
# 几 joins the numerals so that 十几万 and 几千 are read whole.
_NUM_CHINESE = re.compile(f"{_CN_NUMERAL}[{_CN_DIGITS}{_CN_SMALL_UNITS}{_CN_BIG_UNITS}几]*|几[{_CN_BIG_UNITS}十]+")
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
_EN_AMOUNT = _english(
    rf"(?:a|{_EN_NUMBER_WORDS})(?:[\s-]+(?:and[\s-]+)?(?:{_EN_NUMBER_WORDS}))*\s+"
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

_Span = tuple[int, int]
_Hit = tuple[str, int, int]


@dataclass(frozen=True)
class _CompiledProfile:
    debt_cn: re.Pattern[str]
    debt_en: re.Pattern[str]
    products: re.Pattern[str] | None
    hotline_digits: frozenset[str]
    phone_region: str


@lru_cache(maxsize=64)
def _compile(profile: FirewallProfile) -> _CompiledProfile:
    names = [_fold(name).strip() for name in profile.product_names]
    # Longest first, so "PayPal Credit" wins over a shorter name it starts with.
    products = [
        _escape(n) + ("(?![a-z])" if n[-1:] in _ASCII_LETTERS else "")
        for n in sorted(set(names), key=lambda n: (-len(n), n))
        if n
    ]
    return _CompiledProfile(
        debt_cn=_DEBT_CN_STRICT_RX if profile.strict_debt else _DEBT_CN_RX,
        debt_en=_DEBT_EN_STRICT_RX if profile.strict_debt else _DEBT_EN_RX,
        products=re.compile("|".join(products)) if products else None,
        hotline_digits=frozenset(d for d in ("".join(c for c in h if c.isdigit()) for h in profile.hotlines) if d),
        phone_region=profile.phone_region,
    )


def lint_message(text: str, *, audience: str = FAMILY, profile: FirewallProfile | str = "cn-default") -> list[Finding]:
    """Return every finding in text for the audience, sorted by (start, end, category)."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")
    if isinstance(profile, str):
        profile = firewall_profile_get(profile)
    compiled = _compile(profile)
    folded = _fold(text)
    cjk = _HAS_CJK.search(folded) is not None
    latin = _HAS_LATIN.search(folded) is not None
    hits: list[_Hit] = []

    if cjk:
        hits += [(THREAT, m.start(), m.end()) for m in _THREAT_CN_RX.finditer(folded)]
    if latin:
        hits += [(THREAT, m.start(), m.end()) for m in _english_matches(_THREAT_EN_RX, folded)]
    if audience == BORROWER:
        if cjk:
            hits += [(THIRD_PARTY, m.start(), m.end()) for m in _THIRD_PARTY_CN.finditer(folded)]
        if latin:
            hits += [(THIRD_PARTY, m.start(), m.end()) for m in _english_matches(_THIRD_PARTY_EN, folded)]
    else:
        if cjk:
            hits += [(DEBT_DISCLOSURE, m.start(), m.end()) for m in compiled.debt_cn.finditer(folded)]
            hits += [(OVERDUE_DETAIL, start, end) for start, end in _overdue_cn(folded)]
        if latin:
            hits += [(DEBT_DISCLOSURE, m.start(), m.end()) for m in _english_matches(compiled.debt_en, folded)]
            if _EN_PERIOD_WORD.search(folded):
                hits += [(OVERDUE_DETAIL, m.start(), m.end()) for m in _english_matches(_OVERDUE_EN, folded)]
                hits += [(OVERDUE_DETAIL, m.start(), m.end()) for m in _OVERDUE_EN_DIGITS.finditer(folded)]
        products = _product_spans(compiled.products, folded) if compiled.products is not None else []
        hits += [(PRODUCT, start, end) for start, end in products]
        hits += _number_hits(folded, compiled, products, cjk=cjk, latin=latin)

    findings = [Finding(category, start, end, text[start:end]) for category, start, end in set(hits)]
    findings.sort(key=lambda f: (f.start, f.end, f.category))
    return findings


def _product_spans(pattern: re.Pattern[str], folded: str) -> list[_Span]:
    # An English product name inside a longer word ("Zopa" in "Zopamine") is not the product.
    return [
        m.span()
        for m in pattern.finditer(folded)
        if not (m.start() and folded[m.start()] in _ASCII_LETTERS and folded[m.start() - 1] in _ASCII_LETTERS)
    ]


def _overdue_cn(folded: str) -> list[_Span]:
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


# --- numbers ---------------------------------------------------------------------------------------------------


def _overlaps(start: int, end: int, spans: list[_Span]) -> bool:
    # A plain loop: called for every number, where any() and a generator cost more than the test.
    for s_start, s_end in spans:
        if start < s_end and s_start < end:
            return True
    return False


def _number_hits(
    folded: str, compiled: _CompiledProfile, products: list[_Span], *, cjk: bool, latin: bool
) -> list[_Hit]:
    has_digit = _HAS_DIGIT.search(folded) is not None
    has_cn = cjk and _HAS_CN_NUMERAL.search(folded) is not None
    hits: list[_Hit] = []
    if latin and _EN_CURRENCY_WORD.search(folded):
        hits.extend((AMOUNT, *m.span()) for m in _english_matches(_EN_AMOUNT, folded))
    if not (has_digit or has_cn):
        return hits
    numbers = list(_NUM_ARABIC.finditer(folded)) if has_digit else []
    # Times, dates, percentages and service numbers are neither amounts nor identifiers. Every such pattern
    # starts with a digit, so it is tried where a number starts rather than at every position.
    protected: list[_Span] = []
    # Digits inside a product name ("360借条") are the name, already reported.
    claimed: list[_Span] = list(products)
    if has_digit:
        for number in numbers:
            if not protected or number.start() >= protected[-1][1]:
                match = _PROTECTED.match(folded, number.start())
                if match is not None:
                    protected.append(match.span())
        if latin:
            protected.extend(m.span() for m in _english_matches(_PROTECTED_EN_DATE, folded))
        _identifier_hits(folded, compiled, numbers, protected, claimed, hits, latin=latin)
    if has_cn:
        # "3千" was read whole as an Arabic number with a unit; its 千 is not a second number.
        arabic = [m.span() for m in numbers]
        for number in _NUM_CHINESE.finditer(folded):
            if arabic and _overlaps(*number.span(), arabic):
                continue
            numbers.append(number)
            clock = _PROTECTED_CN_TIME.match(folded, number.start())
            if clock is not None:
                protected.append(clock.span())
    _amount_hits(folded, compiled, numbers, protected, claimed, hits)
    return hits


def _is_service_number(digits: str, compiled: _CompiledProfile) -> bool:
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


def _is_card_or_id(digits: str) -> bool:
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


def _e164_spans(folded: str, start: int, end: int, compiled: _CompiledProfile) -> list[_Span]:
    """The whole run when it parses as one valid number, else the phone numbers the matcher finds in it."""
    try:
        number = phonenumbers.parse(folded[start:end], compiled.phone_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        digits = "".join(c for c in folded[start:end] if c.isdigit())
        return [] if _is_service_number(digits, compiled) else [(start, end)]
    return _phone_spans(folded, start, end, compiled)


def _phone_spans(folded: str, start: int, end: int, compiled: _CompiledProfile) -> list[_Span]:
    """Phone numbers inside folded[start:end], service numbers left out."""
    spans: list[_Span] = []
    if sum(c.isdigit() for c in folded[start:end]) > _MAX_PHONE_DIGITS * 2:
        # Matching is costly, and nothing this long is one phone number or two written together.
        return spans
    for match in phonenumbers.PhoneNumberMatcher(folded[start:end], compiled.phone_region):
        if not _is_service_number("".join(c for c in match.raw_string if c.isdigit()), compiled):
            spans.append((start + match.start, start + match.end))
    return spans


def _lettered_reference(folded: str, number: re.Match[str]) -> _Span | None:
    """The span of a reference such as HT2024001234 or LN-88812345 ending in this number, if it is one."""
    start, end = number.span()
    if number.group("unit") is not None or end - start < 6 or not number.group().isdigit():
        return None
    letters_end = start - 1 if folded[start - 1 : start] == "-" else start
    letters_start = letters_end
    while letters_start > 0 and letters_end - letters_start < 6 and folded[letters_start - 1] in _ASCII_LETTERS:
        letters_start -= 1
    prefix = folded[letters_start:letters_end]
    # More than five letters is a word ("account12345678" is handled by its cue); rmb123456 is money.
    if not prefix or len(prefix) > 5 or prefix in _CURRENCY_CODES:
        return None
    return letters_start, end


def _identifier_hits(
    folded: str,
    compiled: _CompiledProfile,
    numbers: list[re.Match[str]],
    protected: list[_Span],
    claimed: list[_Span],
    hits: list[_Hit],
    *,
    latin: bool,
) -> None:
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
        # Single unseparated runs are judged one by one in _amount_hits, with their context.
        if start and folded[start - 1] in "+(":
            start -= 1
            run = folded[start:end]
        if run.isdigit():
            continue
        if start and folded[start - 1] in _ASCII_LETTERS:
            continue
        digits = run.translate(_SEPARATORS_GONE)
        if _is_service_number(digits, compiled):
            protected.append((start, end))
            continue
        if len(digits) < 7 or _overlaps(start, end, claimed):
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
            if _is_card_or_id(digits):
                spans = [(start, end)]
            elif len(digits) > _MAX_CARD_DIGITS:
                # Longer than any one phone or card number: several written together; find the phones among them.
                spans = _phone_spans(folded, start, end, compiled)
            # Seven to fifteen digits in short groups are somebody's number, a phone or not, so the matcher
            # could only confirm what is already decided.
            if not spans and not _overlaps(start, end, protected):
                spans = [(start, end)]
        for span in spans:
            hits.append((IDENTIFIER, *span))
            claimed.append(span)


@lru_cache(maxsize=4096)
def _cn_value(numeral: str) -> float | None:
    try:
        return float(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def _nearest_cue(folded: str, start: int) -> str | None:
    cue = None
    for match in _CUES.finditer(folded, max(0, start - _CUE_WINDOW), start):
        cue = match.lastgroup
    return cue


def _amount_hits(
    folded: str,
    compiled: _CompiledProfile,
    numbers: list[re.Match[str]],
    protected: list[_Span],
    claimed: list[_Span],
    hits: list[_Hit],
) -> None:
    blocked = claimed + protected
    for match in numbers:
        start, end = match.span()
        if match.re is _NUM_ARABIC:
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
            if end - start == 1 and folded[start] not in _CN_BIG_UNITS and not _CURRENCY_AFTER.match(folded, end):
                continue
        if blocked and _overlaps(start, own_end, blocked):
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
    compiled: _CompiledProfile,
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
    if len(digits) >= 13 and not grouped and _is_card_or_id(digits):
        return IDENTIFIER
    if long_run and (before or after or _nearest_cue(folded, start) == "amt"):
        if _phone_spans(folded, start, end, compiled):
            return IDENTIFIER
    if before is not None or after is not None:
        return AMOUNT
    # 45天 and 第3 are no money, but seven digits and more are somebody's number whatever follows them.
    if len(digits) < 7 and (_NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第"):
        return None
    if not has_unit and not grouped and (_is_service_number(digits, compiled) or _COMPACT_DATE.fullmatch(digits)):
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
    if numeral[0] in _CN_BIG_UNITS:
        # 千万/万一/百忙 are words; 百元 and 数万 are money.
        if _NOT_MONEY_AFTER.match(folded, end):
            return None, after
        if folded[start - 1 : start] == "数" or (after is not None and all(c in _CN_BIG_UNITS for c in numeral)):
            return AMOUNT, after
        return None, after
    if len(numeral) >= 7 and all(c in _CN_DIGITS for c in numeral):
        # 一三八一二三四五六七八: a phone or account number spelt out.
        return IDENTIFIER, after
    value = _cn_value(numeral)
    if value is None:
        # 一两千, 三五万, 十几万, 几千: a vague amount is still an amount.
        vague = any(c in _CN_BIG_UNITS for c in numeral[1:]) and not _NOT_MONEY_AFTER.match(folded, end)
        return (AMOUNT if vague or before is not None or after is not None else None), after
    if before is not None or after is not None:
        return AMOUNT, after
    if _NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第":
        return None, after
    if any(c in _CN_BIG_UNITS for c in numeral[1:]):
        return AMOUNT, after
    if len(numeral) >= 2 and any(c in _CN_UPPER for c in numeral):
        return AMOUNT, after
    if value >= 10 and _nearest_cue(folded, start) == "amt":
        return AMOUNT, after
    return None, after
