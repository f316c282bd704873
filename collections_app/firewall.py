"""The content firewall: what a collection message must not say to its audience.

A pure module (no database, no settings) so the same rule runs when a template is saved, when a
family-contact request is filed and at send time, and can be tested and benchmarked on its own.

Offsets are 0-based code points into the text as given, end excluded. The text is folded first
(full-width ASCII to ASCII, ideographic and no-break spaces to a space): one code point for one, so
offsets found on the folded text are offsets into the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import cn2an
import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

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
    """The jurisdiction-specific data the firewall reads; strict_debt flags any mention of debt or repayment."""

    name: str
    hotlines: tuple[str, ...] = ()
    product_names: tuple[str, ...] = ()
    strict_debt: bool = False
    phone_region: str = "CN"

    def __post_init__(self) -> None:
        # Profiles built from database rows may arrive with lists; the compiled-pattern cache needs hashable fields.
        object.__setattr__(self, "hotlines", tuple(self.hotlines))
        object.__setattr__(self, "product_names", tuple(self.product_names))


PROFILES: dict[str, FirewallProfile] = {
    "cn-default": FirewallProfile(
        name="cn-default",
        hotlines=("95188",),
        product_names=(
            "借呗",
            "花呗",
            "微粒贷",
            "白条",
            "京东金条",
            "网商贷",
            "备用金",
            "安逸花",
            "有钱花",
            "360借条",
            "美团月付",
            "分期乐",
            "信用卡",
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


# --- text folding ---------------------------------------------------------------------------------------------

_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x2009: 0x20, 0x202F: 0x20, 0xFFE5: ord("¥"), 0xFFE1: ord("£")})

# --- pattern building blocks ----------------------------------------------------------------------------------

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
_NO_LETTER_BEFORE = "(?<![A-Za-z])"
_NO_LETTER_AFTER = "(?![A-Za-z])"


def _alternation(words: Iterable[str]) -> str:
    """Longest first, so a regex alternation prefers 欠款 over 欠 and past due over past."""
    return "|".join(sorted(set(words), key=lambda w: (-len(w), w)))


def _literal(word: str) -> str:
    """Escape a literal; ASCII words only match as whole words (Chinese has no word boundaries)."""
    escaped = re.escape(word).replace(r"\ ", r"\s+")
    if word[:1].isascii() and word[:1].isalnum():
        escaped = _NO_LETTER_BEFORE + escaped
    if word[-1:].isascii() and word[-1:].isalnum():
        escaped += _NO_LETTER_AFTER
    return escaped


def _english(*patterns: str) -> str:
    return _NO_LETTER_BEFORE + "(?:" + "|".join(patterns) + ")" + _NO_LETTER_AFTER


# --- keywords -------------------------------------------------------------------------------------------------

_DEBT_WORDS_CN = tuple(
    (
        "拖欠 欠款 欠债 欠钱 欠费 欠账 欠帐 欠下 欠了 亏欠 尚欠 负债 债务 债主 欠条 借条 逾期 催收 催缴 "
        "催款 催债 追债 讨债 借款 贷款 借钱 网贷 借贷 高利贷 本金 本息 利息 罚息 滞纳金 违约金 违约 账单 "
        "帐单 分期 还不上 还不起 赖账 赖帐 征信 信用记录"
    ).split()
)
_DEBT_PATTERNS_CN = (
    # 欠佳/欠妥/欠缺/欠安 are "not good enough", not "owes".
    "欠(?![佳妥缺安])",
    "债",
    "(?:未|没|没有|还没|还没有|尚未|一直没|一直没有|迟迟未|迟迟不|不肯|拒不|拒绝)(?:按时|及时|按期)?(?:还款|还钱|还清|归还|偿还|还上|还账)",
    "(?:没有?|未)还(?![有是在要])",
)
_DEBT_PATTERNS_EN = (
    r"owe[sd]?",
    r"owing",
    r"debts?",
    r"debtors?",
    r"indebted",
    r"overdue",
    r"arrears",
    r"past[\s-]+due",
    r"collections?",
    r"collectors?",
    r"loans?",
    r"borrow(?:ed|er|ers|ing)",
    r"lenders?",
    r"lending",
    r"creditors?",
    r"delinquen(?:t|cy)",
    r"defaulted",
    r"in\s+default",
    r"default(?:ed)?\s+on",
    r"unpaid",
    r"outstanding\s+(?:balance|amount|payments?|sum|bills?|debt)",
    r"balance\s+(?:due|owed|outstanding)",
    r"(?:missed|late)\s+payments?",
    r"behind\s+on",
    r"bankrupt(?:cy)?",
    r"charge[\s-]?off",
    r"charged[\s-]off",
    r"installments?",
    r"dpd",
    r"(?:not|never|hasn't|has\s+not|haven't|have\s+not|didn't|did\s+not|won't|will\s+not)\s+(?:re)?pa(?:id|y)(?:\s+back)?",
)
# Strict profiles (Reg F, CONC) also refuse any mention of repayment; cn-default lets
# "提醒其处理还款事宜" through, as the seed describes.
_REPAYMENT_CN = ("还款", "还钱", "偿还", "归还", "还清", "结清", "付款", "缴款", "缴费", "清偿", "还上", "还账", "还帐")
_REPAYMENT_EN = (r"(?:re)?pay(?:s|ing|ment|ments|able|back)?", r"paid", r"settle(?:s|d|ment)?")

_THREAT_CN = tuple(
    (
        "起诉 诉讼 告你 坐牢 判刑 拘留 逮捕 抓你 抓人 刑事 犯罪 诈骗 上门 曝光 通讯录 单位 律师函 律师 "
        "法院 法庭 传票 公安 警察 报警 派出所 黑名单 老赖 失信 强制执行 冻结 查封 后果自负 走着瞧 等着瞧 "
        "别怪我们不客气 对你不客气 最后通牒 法律责任 法律程序 法律手段 骗子 无赖 不要脸 人渣 废物 混蛋 "
        "王八蛋 滚蛋 去死 找死 死全家 家破人亡 身败名裂 丢人现眼"
    ).split()
)
_THREAT_PATTERNS_CN = ("垃圾(?!短信|邮件)",)
_THREAT_PATTERNS_EN = (
    r"arrest(?:ed|ing)?",
    r"su(?:e|ed|es|ing)",
    r"lawsuits?",
    r"legal\s+(?:action|proceedings?)",
    r"litigation",
    r"lawyers?",
    r"attorneys?",
    r"jail(?:ed)?",
    r"prison",
    r"police",
    r"cops?",
    r"courts?",
    r"warrants?",
    r"garnish(?:ment|ed|ing)?",
    r"seiz(?:e|ed|ure)",
    r"repossess(?:ed|ion)?",
    r"criminal",
    r"prosecut(?:e|ed|ion)",
    r"fraud(?:ster)?",
    r"expos(?:e|ed|ing)",
    r"shame",
    r"blacklist(?:ed)?",
    r"deadbeat",
    r"loser",
    r"idiot",
    r"stupid",
    r"scum",
    r"liar",
    r"thief",
    r"worthless",
    r"or\s+else",
    r"(?:final|last)\s+warning",
    r"you(?:'ll|\s+will)\s+regret",
    r"we\s+know\s+where\s+you\s+live",
    r"show\s+up\s+at\s+your",
    r"visit\s+your\s+(?:home|house|office|workplace|work)",
    r"(?:contact|address)\s+(?:list|book)",
    r"phone\s+contacts",
)

# Who the borrower is told will hear about it. Ambiguous objects (公司, 朋友...) need a 你/您 possessive,
# so "请联系公司客服" stays clean.
_TP_VERBS_CN = "通知|告诉|告知|联系|联络|打给|打电话给|致电|找|发给|发短信给|群发给?|曝光给|转告|拜访|走访|爆"
_TP_CLOSE_CN = (
    "家人|家属|家里人|父母|爸妈|父亲|母亲|爸爸|妈妈|亲人|亲属|亲戚|亲友|配偶|爱人|老婆|老公|妻子|丈夫|子女|孩子|"
    "儿子|女儿|通讯录|紧急联系人|全家|邻居|村委会?|居委会?"
)
_TP_ANY_CN = "家里|朋友|好友|同事|领导|上司|老板|单位|公司|学校|老师|联系人"
_TP_EN_OBJECTS = (
    r"family|relatives|parents|mother|father|mom|mum|dad|wife|husband|spouse|partner|children|kids|son|daughter|"
    r"friends|contacts|employer|boss|manager|colleagues|co-?workers|workplace|office|neighbou?rs|references|hr"
)
_THIRD_PARTY = re.compile(
    "|".join(
        (
            rf"(?:{_TP_VERBS_CN})(?:(?:你|您)的?)?(?:{_TP_CLOSE_CN})",
            rf"(?:{_TP_VERBS_CN})(?:你|您)的?(?:{_TP_ANY_CN})",
            rf"(?:让|叫)(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN}|身边的人|所有人)",
            rf"(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})(?:都|也)?(?:会|将|就会)(?:收到|知道|被通知|接到)",
            _english(
                r"(?:contact|call|phone|notify|tell|inform|text|message|e-?mail|write\s+to|reach\s+out\s+to|reach|"
                rf"visit|alert|let)\s+(?:all\s+(?:of\s+)?)?(?:your|ur)\s+(?:[a-z]+\s+)?(?:{_TP_EN_OBJECTS})",
                rf"(?:your|ur)\s+(?:{_TP_EN_OBJECTS})\s+(?:will|are\s+going\s+to|is\s+going\s+to|would)\s+"
                r"(?:be\s+(?:told|notified|contacted|informed|called)|know|find\s+out|hear|learn)",
            ),
        )
    ),
    re.IGNORECASE,
)

_THREAT = re.compile(
    "|".join(
        (
            _alternation(_THREAT_CN),
            *_THREAT_PATTERNS_CN,
            _english(*_THREAT_PATTERNS_EN),
        )
    ),
    re.IGNORECASE,
)

_DEBT_BASE_PARTS = (_alternation(_DEBT_WORDS_CN), *_DEBT_PATTERNS_CN, _english(*_DEBT_PATTERNS_EN))
# The 未还款-style patterns precede the bare repayment words so the longer, disclosing phrase wins.
_DEBT_STRICT = re.compile(
    "|".join((*_DEBT_BASE_PARTS, _alternation(_REPAYMENT_CN), _english(*_REPAYMENT_EN))), re.IGNORECASE
)
_DEBT_LENIENT = re.compile("|".join(_DEBT_BASE_PARTS), re.IGNORECASE)

# --- overdue details ------------------------------------------------------------------------------------------

_NUM_X = rf"(?:[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百]+|半|几|数|好几|十几|{_EN_NUMBER_WORDS})"
_EN_NUM = rf"(?:[0-9]+\+?|(?:{_EN_NUMBER_WORDS})(?:[\s-]+(?:{_EN_NUMBER_WORDS}))?|a\s+few|several|a\s+couple\s+of|many)"
_EN_SPAN = r"(?:days?|weeks?|months?|years?)"
_CN_LATER = "(?!内|以内|之内|后|之后|以后|前|之前)"
_OVERDUE = re.compile(
    "|".join(
        (
            # 逾期45天, 已经拖了三个多月, 欠了半年
            r"(?:逾期|拖欠|超期|欠款|欠费|欠了|欠|拖了|已经|已|超过|逾|迟还|晚还)"
            r"(?:了|已|已经|达|近|约|将近|超过|长达|整整|快|有|足足)*\s*"
            rf"{_NUM_X}\s*(?:多|余)?(?:天|日|个多?月|个多?星期|周|个?礼拜|年|个年头)(?:多|有余|以上|之久)?",
            # 三个月, 两个多星期, 5周 (但 "三个月内" 是期限)
            rf"(?<![第每这那0-9零〇一二两三四五六七八九十百千])(?:{_NUM_X})\s*(?:多)?个(?:多)?(?:月|星期|礼拜){_CN_LATER}",
            rf"(?<![第每这那0-9零〇一二两三四五六七八九十百千])(?:[0-9]+|[二两三四五六七八九十百]+)\s*(?:多)?周{_CN_LATER}",
            rf"(?<![第每这那过再等有0-9零〇一二两三四五六七八九十百千])(?:[0-9]*[2-9][0-9]*|[0-9]{{2,}}|[二两三四五六七八九十百]+)\s*(?:多)?天{_CN_LATER}",
            rf"{_NUM_X}\s*(?:多年|年多)",
            # 自3月起, 从去年开始, 自2024年3月以来
            r"(?:自|从)\s*(?:去年|今年|前年|上个?月|上周|上个?星期|"
            r"(?:[0-9]{2,4}|[零〇一二三四五六七八九]{2,4})\s*年(?:\s*[0-9一二三四五六七八九十]{1,3}\s*月份?)?|"
            r"[0-9一二三四五六七八九十]{1,3}\s*月份?(?:\s*[0-9一二三四五六七八九十]{1,3}\s*[日号])?)\s*"
            r"(?:起|以来|开始|至今|到现在)",
            _english(
                rf"{_EN_NUM}[\s-]*{_EN_SPAN}\s+(?:past[\s-]+due|overdue|late|behind|delinquent|in\s+arrears|"
                r"in\s+default|without\s+(?:a\s+)?payment)",
                r"(?:overdue|late|behind|delinquent|past\s+due|in\s+arrears|unpaid|outstanding)\s+(?:by|for)\s+"
                rf"(?:over\s+|more\s+than\s+|about\s+|almost\s+|nearly\s+)?{_EN_NUM}[\s-]*{_EN_SPAN}",
                rf"(?:for|over)\s+(?:the\s+(?:past|last)\s+)?{_EN_NUM}\s+(?:months?|weeks?|years?)",
                rf"(?:past|last)\s+{_EN_NUM}\s+(?:days|weeks|months|years)",
                r"dpd\s*[0-9]+|[0-9]+\s*dpd",
                rf"since\s+(?:(?:{_MONTHS})\.?(?:\s+[0-9]{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+[0-9]{{4}})?|"
                rf"last\s+(?:week|month|year|{_MONTHS})|[0-9]{{1,2}}/[0-9]{{1,2}}(?:/[0-9]{{2,4}})?|(?:19|20)[0-9]{{2}}|"
                rf"the\s+(?:start|beginning|end)\s+of\s+[a-z]+|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS}))",
            ),
        )
    ),
    re.IGNORECASE,
)

# --- numbers: what is not an amount or identifier ------------------------------------------------------------

_PROTECTED = re.compile(
    "|".join(
        (
            # times: 8:00, 08:00-21:00 (each side), 9am, 八点半
            r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s?[ap]\.?m\.?)?",
            r"[0-9]{1,2}\s?[ap]\.?m\.?(?![A-Za-z])",
            rf"(?:[0-9]{{1,2}}|[{_CN_DIGITS}十]{{1,3}})(?:点|时)(?:半|整|钟|[0-9]{{1,2}}分|[{_CN_DIGITS}十]{{1,3}}分)?",
            # dates: 2024-05-01, 2024年5月1日, 5月1日, 3日, 5/1, March 5, 5th of March, 20240501
            r"(?:19|20)?[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}",
            r"[0-9]{4}\s?年(?:\s?[0-9]{1,2}\s?月(?:\s?[0-9]{1,2}\s?[日号])?)?",
            r"[0-9]{1,2}\s?月份?(?:\s?[0-9]{1,2}\s?[日号])?",
            r"[0-9]{1,2}\s?[日号]",
            r"[0-9]{1,2}/[0-9]{1,2}(?:/[0-9]{2,4})?",
            rf"(?<![A-Za-z])(?:{_MONTHS})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?(?:,?\s+[0-9]{{4}})?",
            rf"[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?![A-Za-z])(?:,?\s+[0-9]{{4}})?",
            r"(?<![0-9])(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])",
            # percentages
            r"[0-9]+(?:\.[0-9]+)?\s?%",
            # service numbers: 95xxx/96xxx and toll-free 400/800 (CN), 1-800 (US), 0800/0808 (UK)
            r"(?<![0-9])9[56][0-9]{3}(?![0-9])",
            r"(?<![0-9])(?:\+?86[-\s]?)?[48]00[-\s]?[0-9]{3}[-\s]?[0-9]{4}(?![0-9])",
            r"(?<![0-9])(?:\+?1[-\s]?)?\(?8(?:00|88|77|66|55|44|33)\)?[-\s]?[0-9]{3}[-\s]?[0-9]{4}(?![0-9])",
            r"(?<![0-9])(?:\+?44[-\s]?|0)80[08][-\s]?[0-9]{3}[-\s]?[0-9]{3,4}(?![0-9])",
        )
    ),
    re.IGNORECASE,
)

# --- identifiers ----------------------------------------------------------------------------------------------

_CURRENCY_CODES = frozenset({"RMB", "CNY", "USD", "GBP", "EUR", "HKD", "US", "HK"})
_ID_SHAPES = re.compile(
    "|".join(
        (
            # masked numbers still point at one card or person: 138****5678, 1101**********4514
            r"[0-9]{2,}[*xX×]{3,}[0-9]{2,}[0-9Xx]?",
            r"(?:尾号|末四位|后四位|末尾|ending\s+in|last\s+(?:4|four)(?:\s+digits)?)\s*(?:是|为|:)?\s*[0-9]{3,6}",
            # ID card ending in X
            r"(?<![0-9A-Za-z])[0-9]{17}[Xx](?![0-9A-Za-z])",
            # letter-prefixed references: HT2024001234, LN-88812345
            r"(?<![0-9A-Za-z])(?P<prefix>[A-Za-z]{1,5})-?[0-9]{6,}(?![0-9])",
        )
    ),
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\+|\()?[0-9]+(?:(?:[ \-.]|\)\s?)[0-9]+)*")
_THOUSANDS_GROUPED = re.compile(r"[0-9]{1,3}(?:[ ,][0-9]{3})+(?:\.[0-9]+)?")
_YEAR_RANGE = re.compile(r"(?:19|20)[0-9]{2}\s?-\s?(?:19|20)[0-9]{2}")

# --- amounts --------------------------------------------------------------------------------------------------

_NUM = re.compile(
    rf"(?<![0-9.,])(?P<ar>(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]{{1,3}}(?: [0-9]{{3}})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?)"
    rf"(?P<unit>\s?(?:[{_CN_SMALL_UNITS}{_CN_BIG_UNITS}][{_CN_DIGITS}{_CN_SMALL_UNITS}{_CN_BIG_UNITS}0-9]*"
    r"|[kKwW](?![A-Za-z])))?"
    rf"|(?P<cn>{_CN_NUMERAL}+)"
)
_CURRENCY_BEFORE = re.compile(
    r"(?:[$¥£€]|(?<![A-Za-z])(?:US\$|HK\$|RMB|CNY|USD|GBP|EUR|HKD)|人民币)\s?\Z", re.IGNORECASE
)
_CURRENCY_AFTER = re.compile(
    r"(?:多|余|来)?\s?(?:元|块钱?|圆|人民币|美元|美金|英镑|港币|港元|欧元|"
    r"(?:rmb|cny|usd|gbp|eur|hkd|yuan|dollars?|bucks|pounds?|quid|euros?|kuai|grand)(?![A-Za-z]))",
    re.IGNORECASE,
)
_NOT_MONEY_AFTER = re.compile(
    r"(?:多|余|来)?\s?(?:个|天|日|号|月|年|周|星期|次|点|分|秒|时|小时|岁|期|%|人|位|条|楼|层|家|名|倍|项|笔|米|公里|"
    r"(?:days?|weeks?|months?|years?|times|hours?|minutes?|mins?|am|pm|a\.m|p\.m|percent|people|calls?|messages?|"
    r"st|nd|rd|th)(?![A-Za-z]))",
    re.IGNORECASE,
)
_EN_AMOUNT = re.compile(
    _english(
        rf"(?:a|(?:{_EN_NUMBER_WORDS}))(?:[\s-]+(?:and[\s-]+)?(?:{_EN_NUMBER_WORDS}))*\s+"
        r"(?:dollars?|bucks|pounds?|quid|yuan|euros?|grand)"
    ),
    re.IGNORECASE,
)
# The cue nearest before a bare number decides what it is: 余额 1280 is money, 账号 12345678 an account.
_CUE_WINDOW = 10
_CUES = re.compile(
    r"(?P<id>卡号|卡|账号|帐号|账户|帐户|户号|合同|编号|单号|订单|流水号?|借据|身份证|证件|证号|工单|案号|客户号|会员号|"
    r"(?<![A-Za-z])(?:account|acct|a/c|contract|loan\s*(?:no|number|#|id)|card|reference|ref|id|no\.|number)"
    r"(?![A-Za-z])|#)"
    r"|(?P<amt>欠|金额|共计|合计|总计|总额|本金|应还|待还|余额|还差|差了|尚差|借了|额度|罚息|利息|费用|"
    r"(?<![A-Za-z])(?:owe[sd]?|owing|amount|balance|total|sum|due|debt|pay|paid)(?![A-Za-z]))",
    re.IGNORECASE,
)
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_CN_NUMERAL = re.compile(_CN_NUMERAL)
_HAS_EN_NUMBER = re.compile(_english(rf"a|{_EN_NUMBER_WORDS}"), re.IGNORECASE)

_Span = tuple[int, int]


@dataclass(frozen=True)
class _CompiledProfile:
    debt: re.Pattern[str]
    product: re.Pattern[str] | None
    hotline: re.Pattern[str] | None
    hotline_digits: frozenset[str]
    phone_region: str


@lru_cache(maxsize=64)
def _compile(profile: FirewallProfile) -> _CompiledProfile:
    products = [_literal(p) for p in profile.product_names if p.strip()]
    hotline_digits = frozenset(d for d in ("".join(c for c in h if c.isdigit()) for h in profile.hotlines) if d)
    hotline_patterns = [r"[-\s]?".join(d) for d in hotline_digits]
    return _CompiledProfile(
        debt=_DEBT_STRICT if profile.strict_debt else _DEBT_LENIENT,
        product=re.compile(_alternation(products), re.IGNORECASE) if products else None,
        hotline=re.compile(rf"(?<![0-9])(?:{_alternation(hotline_patterns)})(?![0-9])") if hotline_patterns else None,
        hotline_digits=hotline_digits,
        phone_region=profile.phone_region,
    )


def lint_message(text: str, *, audience: str = FAMILY, profile: FirewallProfile | str = "cn-default") -> list[Finding]:
    """Return every finding in text for the audience, sorted by (start, end, category)."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")
    if isinstance(profile, str):
        profile = firewall_profile_get(profile)
    compiled = _compile(profile)
    folded = text.translate(_FOLD)
    spans: set[tuple[str, int, int]] = set()

    for match in _THREAT.finditer(folded):
        spans.add((THREAT, match.start(), match.end()))
    if audience == BORROWER:
        for match in _THIRD_PARTY.finditer(folded):
            spans.add((THIRD_PARTY, match.start(), match.end()))
    else:
        for match in compiled.debt.finditer(folded):
            spans.add((DEBT_DISCLOSURE, match.start(), match.end()))
        if compiled.product is not None:
            for match in compiled.product.finditer(folded):
                spans.add((PRODUCT, match.start(), match.end()))
        for match in _OVERDUE.finditer(folded):
            spans.add((OVERDUE_DETAIL, match.start(), match.end()))
        spans.update(_number_findings(folded, compiled))

    findings = [Finding(category, start, end, text[start:end]) for category, start, end in spans]
    findings.sort(key=lambda f: (f.start, f.end, f.category))
    return findings


# --- numbers --------------------------------------------------------------------------------------------------


def _overlaps(start: int, end: int, spans: list[_Span]) -> bool:
    return any(start < s_end and s_start < end for s_start, s_end in spans)


def _number_findings(folded: str, compiled: _CompiledProfile) -> list[tuple[str, int, int]]:
    has_digit = _HAS_DIGIT.search(folded) is not None
    has_cn = _HAS_CN_NUMERAL.search(folded) is not None
    out: list[tuple[str, int, int]] = []
    if has_digit or has_cn:
        # Times, dates, percentages and service numbers are neither amounts nor identifiers.
        protected: list[_Span] = [m.span() for m in _PROTECTED.finditer(folded)]
        if compiled.hotline is not None:
            protected.extend(m.span() for m in compiled.hotline.finditer(folded))
        claimed: list[_Span] = []
        if has_digit:
            _find_identifiers(folded, compiled, protected, claimed, out)
        _find_amounts(folded, compiled, protected, claimed, out)
    if _HAS_EN_NUMBER.search(folded):
        out.extend((AMOUNT, m.start(), m.end()) for m in _EN_AMOUNT.finditer(folded))
    return out


def _is_service_number(digits: str, compiled: _CompiledProfile) -> bool:
    if digits in compiled.hotline_digits:
        return True
    national = digits.removeprefix("86") if len(digits) == 12 else digits
    return (
        (len(digits) == 5 and digits[:2] in ("95", "96"))
        or (len(national) == 10 and national[:3] in ("400", "800"))
        or (len(digits) == 11 and digits[0] == "1" and digits[1:4] in ("800", "888", "877", "866", "855", "844", "833"))
    )


def _find_identifiers(
    folded: str,
    compiled: _CompiledProfile,
    protected: list[_Span],
    claimed: list[_Span],
    out: list[tuple[str, int, int]],
) -> None:
    for match in _ID_SHAPES.finditer(folded):
        prefix = match.group("prefix")
        if prefix is not None and prefix.upper() in _CURRENCY_CODES:
            continue
        out.append((IDENTIFIER, match.start(), match.end()))
        claimed.append(match.span())

    for match in _DIGIT_RUN.finditer(folded):
        run = match.group()
        digits = "".join(c for c in run if c.isdigit())
        start, end = match.span()
        # Single runs without separators are classified token by token with their context.
        if len(digits) < 7 or run.isdigit() or _overlaps(start, end, claimed):
            continue
        if any(p_start <= start and end <= p_end for p_start, p_end in protected):
            continue
        if _THOUSANDS_GROUPED.fullmatch(run) or _YEAR_RANGE.fullmatch(run) or _is_service_number(digits, compiled):
            continue
        if _is_card_or_id(digits):
            out.append((IDENTIFIER, start, end))
            claimed.append((start, end))
            continue
        phones = _phone_spans(folded, start, end, compiled)
        if phones:
            for span in phones:
                out.append((IDENTIFIER, *span))
                claimed.append(span)
        elif not _overlaps(start, end, protected):
            # A grouped run of seven or more digits that is no known phone is still somebody's number.
            out.append((IDENTIFIER, start, end))
            claimed.append((start, end))


def _is_card_or_id(digits: str) -> bool:
    if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
        return True
    return len(digits) in (15, 18) and ric.is_valid(digits)


def _phone_spans(folded: str, start: int, end: int, compiled: _CompiledProfile) -> list[_Span]:
    """Phone numbers inside folded[start:end], service numbers left out."""
    segment = folded[start:end]
    spans: list[_Span] = []
    for match in phonenumbers.PhoneNumberMatcher(segment, compiled.phone_region):
        digits = "".join(c for c in match.raw_string if c.isdigit())
        if _is_service_number(digits, compiled):
            continue
        spans.append((start + match.start, start + match.end))
    return spans


def _nearest_cue(folded: str, start: int) -> str | None:
    cue = None
    for match in _CUES.finditer(folded, max(0, start - _CUE_WINDOW), start):
        cue = match.lastgroup
    return cue


@lru_cache(maxsize=4096)
def _cn_value(numeral: str) -> float | None:
    try:
        return float(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def _find_amounts(
    folded: str,
    compiled: _CompiledProfile,
    protected: list[_Span],
    claimed: list[_Span],
    out: list[tuple[str, int, int]],
) -> None:
    for match in _NUM.finditer(folded):
        start, end = match.span()
        if _overlaps(start, end, claimed) or _overlaps(start, end, protected):
            continue
        before = _CURRENCY_BEFORE.search(folded, max(0, start - 5), start)
        after = _CURRENCY_AFTER.match(folded, end)
        arabic = match.group("ar")
        if arabic is not None:
            finding = _classify_arabic(folded, compiled, match, arabic, before, after)
        else:
            finding = _classify_chinese(folded, match.group("cn"), start, end, before, after)
        if finding is not None:
            category = finding
            if category == AMOUNT:
                if folded[start - 1 : start] in ("几", "数"):
                    start -= 1
                if before is not None:
                    start = before.start()
                if after is not None:
                    end = after.end()
            out.append((category, start, end))


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
    long_run = len(digits) >= 6 and match.group("unit") is None and "," not in arabic and " " not in arabic
    # A checksum-valid card or ID, or a real phone number, stays an identifier even beside money words.
    if long_run and (before or after or _nearest_cue(folded, start) == "amt"):
        if _is_card_or_id(digits) or _phone_spans(folded, start, end, compiled):
            return IDENTIFIER
    if before is not None or after is not None:
        return AMOUNT
    if _NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第":
        return None
    if long_run and _is_service_number(digits, compiled):
        return None
    if match.group("unit") is not None or "," in arabic or " " in arabic:
        return AMOUNT
    cue = _nearest_cue(folded, start)
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
) -> str | None:
    # 一块去/一块儿 mean "together", not one yuan.
    if after is not None and numeral == "一" and after.group().lstrip("多余来 ").startswith("块"):
        after_end = after.end()
        if not after.group().endswith("钱") and folded[after_end : after_end + 1] != "钱":
            after = None
    if numeral[0] in _CN_BIG_UNITS:
        # 千万/万一/百忙 are words; 百元, 几千 and 数万 are money.
        if _NOT_MONEY_AFTER.match(folded, end):
            return None
        if folded[start - 1 : start] in ("几", "数") or (
            after is not None and all(c in _CN_BIG_UNITS for c in numeral)
        ):
            return AMOUNT
        return None
    value = _cn_value(numeral)
    if value is None:
        return None
    if before is not None or after is not None:
        return AMOUNT
    if _NOT_MONEY_AFTER.match(folded, end) or folded[start - 1 : start] == "第":
        return None
    if any(c in _CN_BIG_UNITS for c in numeral[1:]):
        return AMOUNT
    if len(numeral) >= 2 and any(c in _CN_UPPER for c in numeral):
        return AMOUNT
    if value >= 10 and _nearest_cue(folded, start) == "amt":
        return AMOUNT
    return None
