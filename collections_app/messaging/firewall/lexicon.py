"""The firewall's word lists and their compiled patterns: debt, threats and third parties.

Each list is compiled once into a trie-shaped pattern (see `patterns.trie`), Chinese and English apart so each
runs only on text in its script. Strict profiles (Reg F, CONC) read the debt patterns that add repayment.
"""

from __future__ import annotations

import re

from collections_app.messaging.firewall.patterns import english, led, tailed, trie

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
THIRD_PARTY_CN = re.compile(
    "|".join(
        (
            *led(_TP_VERBS_CN, f"(?:了|过)?(?:(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})|(?:{_TP_CLOSE_CN}))"),
            *led(("让", "叫"), f"(?:你|您)的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN}|身边的人|所有人)"),
            *led(("你", "您"), f"的?(?:{_TP_CLOSE_CN}|{_TP_ANY_CN})(?:都|也)?(?:会|将|就会)?(?:收到|知道|被通知|接到)"),
            *led(
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
THIRD_PARTY_EN = english(
    *led(_TP_EN_VERBS.split(), rf"\s+(?:all\s+(?:of\s+)?)?(?:your|ur)\s+(?:[a-z]+\s+)?(?:{_TP_EN_OBJECTS})"),
    rf"your\s+(?:{_TP_EN_OBJECTS})\s+(?:will|are\s+going\s+to|is\s+going\s+to|would)\s+"
    r"(?:be\s+(?:told|notified|contacted|informed|called)|know|find\s+out|hear|learn)",
)

# Threats said in either audience: exposure to the workplace, the neighbours, the village, the contacts or social
# media; violence; arrest. Words that are threats wherever they stand join the word lists; the rest need the
# shape of a threat (a verb of telling or publishing, a "your"), so that "请联系公司客服" and "Follow us on
# social media" stay clean.
_THREAT_VIOLENCE_ARREST_CN = [
    *(
        "弄死 打死 砍死 打残 弄残 泼油漆 泼粪 血光之灾 见血 人身安全 不得好死 出门小心 走夜路小心 别想好过 找人收拾 "
        "监狱 蹲大牢 大牢 牢饭 牢房 入狱 服刑 拘捕 刑拘 立案 通缉 警方 公安局 经侦 刑警 被抓 抓起来 抓走 手铐 "
        "全村 村口 大字报 张贴 传单 悬赏 社死"
    ).split(),
    # 砍你, 打断他的腿, 要你的命, 让他好看: said to the borrower, or about them to the family.
    *tailed("砍 杀 杀了 揍 打断 废了 收拾".split(), "(?:你|您|他|她)"),
    *tailed(("要",), "(?:你|您|他|她)的?命|(?:你|您|他|她)好看"),
    *tailed(("让",), "(?:你|您|他|她)好看"),
    *tailed(("给",), "(?:你|您|他|她)点颜色"),
]
_EXPOSED_TO_CN = (
    "单位 公司 同事 领导 上司 老板 人事 hr 学校 老师 同学 邻居 街坊 邻里 小区 物业 居委 居委会 村里 村委 "
    "村委会 村民 乡亲 老乡 老家 家乡 亲朋好友 通讯录 联系人 朋友圈 微信群 qq群 群里 社交媒体 微博 抖音 快手 贴吧 小红书"
).split()
_EXPOSED_ON_CN = (
    "朋友圈 微信群 qq群 群里 网上 网络 社交媒体 微博 抖音 快手 贴吧 小红书 村里 村口 小区 单位 公司 老家".split()
)
_TO_CN = "|".join(trie(_EXPOSED_TO_CN))
_PERSON_CN = "(?:你|您|他|她)"
_EXPOSURE_CN = [
    # 通知你单位, 告诉你的同事, 打给你所有联系人, 去你公司
    *tailed(
        (
            "通知 告诉 告知 联系 打给 打到 打电话给 致电 找 找到 发给 群发 群发给 曝光给 转告 拜访 走访 去 到 上 通报"
        ).split(),
        f"(?:了|过)?{_PERSON_CN}(?:的|们的?)?(?:所有|全部|每个|每一个|各位)?(?:{_TO_CN})",
    ),
    # 发到朋友圈, 挂到网上, 贴在你村里, 曝光到你的微信群
    *tailed(
        (
            "发到 发在 发布到 发布在 挂到 挂在 贴到 贴在 晒到 晒在 公布到 公布在 "
            "传到 转发到 曝光到 曝光在 放到 放在 登在"
        ).split(),
        f"{_PERSON_CN}?(?:的|们的?)?(?:{'|'.join(trie(_EXPOSED_ON_CN))})",
    ),
    # 让你的同事都知道, 让全村人知道
    *tailed(
        ("让", "叫"),
        f"{_PERSON_CN}?(?:的|们的?)?(?:所有|全部)?(?:{_TO_CN}|所有人|大家)(?:人)?(?:都|也|全)?(?:知道|看到)",
    ),
    # 你的同事都会知道, 他的邻居也会看到: led by the place or the people told (rarer characters than 你 and 他,
    # so the engine tries fewer positions), with the 你/他 they belong to checked behind them.
    *(
        (
            target,
            f"(?:(?<={_PERSON_CN}{target})|(?<={_PERSON_CN}[的们]{target})|(?<={_PERSON_CN}们的{target}))"
            "(?:们)?(?:都|也|全)?(?:会|将|就会|马上)?(?:知道|收到|看到|被通知|接到)",
        )
        for target in _EXPOSED_TO_CN
    ),
]
_EXPOSED_EN = (
    "employer|boss|manager|supervisor|colleagues|coworkers|co-workers|workplace|office|company|work|job|hr|"
    "neighbors|neighbours|neighborhood|neighbourhood|village|hometown|community|church|landlord|school|"
    r"friends|contacts|whole\s+(?:village|town|street|neighborhood|neighbourhood|office|family)"
)
_SOCIAL_EN = (
    r"social\s+media|facebook|instagram|twitter|tiktok|wechat|whatsapp|linkedin|the\s+internet|the\s+web|online"
)
_EXPOSURE_EN = [
    # tell your employer, notify his neighbours, email all of their contacts
    *tailed(
        "tell inform notify contact call phone email e-mail text message visit alert warn let".split(),
        rf"\s+(?:all\s+(?:of\s+)?)?(?:your|ur|his|her|their)\s+(?:[a-z]+\s+)?(?:{_EXPOSED_EN})(?![a-z])",
    ),
    # post it on social media, share your photo all over facebook, put this online
    *tailed(
        "post posting share sharing put putting publish publishing plaster spread upload".split(),
        rf"(?:\s+[a-z']+){{0,4}}?\s+(?:on|onto|to|all\s+over|across)\s+(?:{_SOCIAL_EN})",
    ),
    # your employer will know, his neighbours are going to find out, the whole village will hear, everyone will see
    *tailed(
        ("your", "ur", "his", "her", "their", "the whole", "everyone", "everybody"),
        rf"\s+(?:(?:{_EXPOSED_EN}|village|town|street|you\s+know)\s+)?(?:will|are\s+going\s+to|is\s+going\s+to|"
        r"would|gonna)\s+(?:all\s+)?(?:be\s+(?:told|notified|contacted|informed)|know|find\s+out|hear|learn|see)",
    ),
    # we will come to your house, show up at his work, knock on your door
    *tailed(
        ("come to", "coming to", "show up at", "turn up at", "knock on", "knocking on"),
        r"\s+(?:your|his|her|their)\s+(?:home|house|door|doorstep|work|workplace|office|job)",
    ),
]
_THREAT_VIOLENCE_ARREST_EN = (
    "hurt you|hurt your|hurt him|break your|break his|beat you|beat him|kill you|kill your|kill him|"
    "watch your back|you'll be sorry|you will be sorry|"
    "teach you a lesson|sort you out|make you pay|pay you a visit|your safety|bodily harm|violence|burn your|"
    "smash your|something bad will happen|something bad could happen|handcuffs|handcuffed|locked up|lock you up|"
    "behind bars|charged with|press charges|custody|detained|detention|sheriff|law enforcement"
).split("|")

# Words and phrase patterns in one trie: one branch per first character, however many lists share it.
THREAT_CN_RX = re.compile(
    "|".join((*trie(_THREAT_CN + _THREAT_VIOLENCE_ARREST_CN + _EXPOSURE_CN), "垃圾(?!短信|邮件)"))
)
THREAT_EN_RX = english(*trie(_THREAT_EN + _THREAT_VIOLENCE_ARREST_EN + _EXPOSURE_EN))
DEBT_CN_RX = re.compile("|".join((*trie(_DEBT_WORDS_CN + _NOT_REPAID_CN), *_DEBT_PATTERNS_CN)))
DEBT_CN_STRICT_RX = re.compile("|".join((*trie(_DEBT_WORDS_CN + _NOT_REPAID_CN + _REPAYMENT_CN), *_DEBT_PATTERNS_CN)))
DEBT_EN_RX = english(*trie(_DEBT_EN))
DEBT_EN_STRICT_RX = english(*trie(_DEBT_EN + _REPAYMENT_EN))
