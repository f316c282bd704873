"""Messages the content firewall must flag or let through, shared by the tests and bench/bench_firewall.py."""

from __future__ import annotations

from dataclasses import dataclass

A = "amount"
O = "overdue_detail"  # noqa: E741 - one letter per category keeps the table readable
I = "identifier"  # noqa: E741
P = "product"
D = "debt_disclosure"
T = "threat"
X = "third_party"


@dataclass(frozen=True)
class Case:
    """One message, who it is for, and what the firewall must find in it."""

    text: str
    categories: frozenset[str]
    audience: str = "family"
    profile: str = "cn-default"
    # When given: every finding, as (category, start, matched text), in the firewall's order.
    findings: tuple[tuple[str, int, str], ...] | None = None

    @property
    def id(self) -> str:
        """A short readable test id."""
        return f"{self.audience}-{self.profile}-{self.text[:24]}"


def case(
    text: str,
    *categories: str,
    audience: str = "family",
    profile: str = "cn-default",
    findings: tuple[tuple[str, int, str], ...] | None = None,
) -> Case:
    """Build a case; with no categories it is a message that must come back clean."""
    return Case(text, frozenset(categories), audience, profile, findings)


def family(text: str, *categories: str, **kwargs: object) -> Case:
    """A message to a family contact under cn-default unless a profile is given."""
    return case(text, *categories, **kwargs)  # type: ignore[arg-type]


def borrower(text: str, *categories: str, **kwargs: object) -> Case:
    """A message to the borrower."""
    return case(text, *categories, audience="borrower", **kwargs)  # type: ignore[arg-type]


def us(text: str, *categories: str, **kwargs: object) -> Case:
    """A family message under us-regf."""
    return case(text, *categories, profile="us-regf", **kwargs)  # type: ignore[arg-type]


def uk(text: str, *categories: str, **kwargs: object) -> Case:
    """A family message under uk-conc."""
    return case(text, *categories, profile="uk-conc", **kwargs)  # type: ignore[arg-type]


CORPUS: list[Case] = [
    # --- cn-default, family: the seed's approved wording and other clean text -------------------------------
    family("您好，您的亲友将您列为联系人，请提醒其处理还款事宜，客服电话95188。回复TD退订"),
    family("工作时间8:00至21:00，请于今日联系我们。"),
    family("营业时间 08:00-21:00，节假日照常。"),
    family("如有疑问请致电400-820-8820咨询。"),
    family("请拨打4008208820，或800-820-8820。"),
    family("如有疑问请拨打客服热线96588。"),
    family("一起吃个饭吧，今天有空吗？"),
    family("麻烦您转告一下，谢谢。"),
    family("万一联系不上，请拨打95188。"),
    family("请于5月1日前回电。"),
    family("请于2024年5月1日前联系客服。"),
    family("请在3天内回复，我们会在1-2个工作日内处理。"),
    family("十分感谢您的配合。"),
    family("请提醒他尽快与我们联系。"),
    family("有一些事情需要他本人处理。"),
    family("感谢您一直以来的支持。"),
    family("第一次联系您，打扰了。"),
    family("百忙之中打扰您，千万不要担心。"),
    family("今天下午三点请回电，或者八点半以后。"),
    family("请在周一至周五联系我们。"),
    family("本短信由系统自动发送，请勿回复。"),
    family("他最近身体欠佳，请多保重。"),
    family("百分之百是本人操作，请放心。"),
    family("过两天再联系您，祝您生活愉快。"),
    family("请您帮忙提醒一下他回个电话，谢谢！"),
    family("回复TD退订"),
    family("请他有空时回电，一块儿商量。"),
    family("这个号码是我们的官方热线：95511。"),
    family(""),
    # --- cn-default, family: amounts in every form ----------------------------------------------------------
    family("他欠款5000元，请提醒他。", D, A, findings=((D, 1, "欠款"), (A, 3, "5000元"))),
    family("请转告他需还伍仟元。", A, findings=((A, 6, "伍仟元"),)),
    family("账单金额捌仟捌佰，请转告。", D, A, findings=((D, 0, "账单"), (A, 4, "捌仟捌佰"))),
    family("大概三万左右，请让他处理。", A, findings=((A, 2, "三万"),)),
    family("还差1.2万没给。", A, findings=((A, 2, "1.2万"),)),
    family("一共3千块，麻烦转告。", A, findings=((A, 2, "3千块"),)),
    family("金额：１２８０元", A, findings=((A, 3, "１２８０元"),)),
    family("合计¥1,280.00", A, findings=((A, 2, "¥1,280.00"),)),
    family("请准备￥500", A, findings=((A, 3, "￥500"),)),
    family("共计 1 280 元", A, findings=((A, 3, "1 280 元"),)),
    family("需要 RMB 3000", A, findings=((A, 3, "RMB 3000"),)),
    family("人民币2000元", A, findings=((A, 0, "人民币2000元"),)),
    family("大约3000CNY", A, findings=((A, 2, "3000CNY"),)),
    family("两千多块钱的事", A, findings=((A, 0, "两千多块钱"),)),
    family("就五百块，很快的", A, findings=((A, 1, "五百块"),)),
    family("贰万叁仟元整", A, findings=((A, 0, "贰万叁仟元"),)),
    family("一万二，请转告", A, findings=((A, 0, "一万二"),)),
    family("大约20k，请转告", A, findings=((A, 2, "20k"),)),
    family("他借了2w", A, findings=((A, 3, "2w"),)),
    family("也就几千块", A, findings=((A, 2, "几千块"),)),
    family("壹佰元而已", A, findings=((A, 0, "壹佰元"),)),
    family("50元", A, findings=((A, 0, "50元"),)),
    family("涉及数万元", A, findings=((A, 2, "数万元"),)),
    family("还有 $300 没给", A, findings=((A, 3, "$300"),)),
    family("一共 1,500", A, findings=((A, 3, "1,500"),)),
    family("他需要准备3000", A, findings=((A, 5, "3000"),)),
    family("两块钱而已", A),
    family("请转交12000元", A),
    family("金额为二十万元", A),
    family("陆仟伍佰", A),
    family("八千八", A),
    family("十万块", A),
    family("3.5万", A),
    family("USD 250", A),
    family("250美元", A),
    family("300 yuan", A),
    # --- cn-default, family: overdue details and debt words -------------------------------------------------
    family("他已经逾期45天了", D, O, findings=((D, 3, "逾期"), (O, 3, "逾期45天"))),
    family("已经三个月没有还了", O, D, findings=((O, 0, "已经三个月"), (D, 5, "没有还"))),
    family("他拖了半年了", O, findings=((O, 1, "拖了半年"),)),
    family("他两个多月没联系我们了", O, findings=((O, 1, "两个多月"),)),
    family("自3月起一直未还款", O, D, findings=((O, 0, "自3月起"), (D, 4, "一直未还款"))),
    family("从去年开始就没还过", O, D, findings=((O, 0, "从去年开始"), (D, 6, "没还"))),
    family("逾期第60天", D, O, findings=((D, 0, "逾期"), (O, 0, "逾期第60天"))),
    family("已经拖欠三十天", D, O),
    family("他超过90天没有还钱", O, D),
    family("欠了一年多", D, O),
    family("三个月了，还没有消息", O),
    family("他的款项逾期了", D),
    family("您的家人拖欠了一笔款项", D, findings=((D, 4, "拖欠"),)),
    family("他有一笔借款需要处理", D, findings=((D, 4, "借款"),)),
    family("这里是催收部门", D),
    family("他的债务问题需要解决", D),
    family("他欠了我们一些钱", D),
    family("他的贷款出了问题", D),
    family("请督促其还清欠款", D),
    family("他的账单已经到期", D),
    family("这会影响个人征信", D),
    family("他一直不还", D),
    family("他迟迟未还款", D),
    family("他背了网贷", D),
    family("本金和利息都没处理", D),
    # --- cn-default, family: identifiers ---------------------------------------------------------------------
    family("身份证号110101199003074514", I, findings=((I, 4, "110101199003074514"),)),
    family("卡号6222021234567890123，请转告", I, findings=((I, 2, "6222021234567890123"),)),
    family("他的卡 4111 1111 1111 1111", I, findings=((I, 4, "4111 1111 1111 1111"),)),
    family("他的手机13812345678", I, findings=((I, 4, "13812345678"),)),
    family("请拨打 +86 138 1234 5678", I, findings=((I, 4, "+86 138 1234 5678"),)),
    family("电话+8613812345678", I, findings=((I, 2, "+8613812345678"),)),
    family("合同编号HT2024001234", I, findings=((I, 4, "HT2024001234"),)),
    family("借据号 20230512001", I, findings=((I, 4, "20230512001"),)),
    family("账号：6217 0000 1234 5678", I),
    family("尾号5678的银行卡", I, findings=((I, 0, "尾号5678"),)),
    family("身份证1101**********4514", I, findings=((I, 3, "1101**********4514"),)),
    family("请回电010-12345678", I, findings=((I, 3, "010-12345678"),)),
    family("订单号 88881234", I),
    family("证件号11010119900307451X", I),
    family("手机138****5678的机主", I),
    family("编号：00012345", I),
    family("他的账户 12345678901", I),
    # --- cn-default, family: product names ---------------------------------------------------------------------
    family("他的借呗需要处理", P, findings=((P, 2, "借呗"),)),
    family("花呗还款提醒", P, findings=((P, 0, "花呗"),)),
    family("关于微粒贷的事情", P),
    family("京东白条的事请转告", P),
    family("网商贷有事找他", P),
    family("他的信用卡需要处理", P),
    family("360借条的客服", P, D, findings=((P, 0, "360借条"), (D, 3, "借条"))),
    # --- cn-default, family: threats ---------------------------------------------------------------------------
    family("再不还就去他单位", D, T, findings=((D, 1, "不还"), (T, 4, "去他单位"))),
    family("我们将上门拜访", T),
    family("他会被起诉", T),
    family("他就是个老赖", T),
    family("将列入黑名单并曝光", T),
    family("律师函已经发出", T),
    family("法院传票马上到", T),
    family("小心坐牢", T),
    family("已经报警了，公安会处理", T),
    family("我们会打遍他的通讯录", T),
    family("他欠款5000元，逾期45天，再不处理就起诉", D, A, O, T),
    family("他的借呗逾期三个月，欠款捌仟元，卡号6222021234567890123", P, D, O, A, I),
    # --- us-regf, family ----------------------------------------------------------------------------------------
    us(
        "Hello, this is Jane from ABC Services. Please ask Mark to call us back at 1-800-555-0199 between 8am "
        "and 9pm. Reply STOP to opt out."
    ),
    us("Please have him get in touch with us today."),
    us("We are trying to reach Mark regarding a personal business matter."),
    us("Our office hours are 8:00-21:00, Monday to Friday."),
    us("Thank you for your help."),
    us("This is a message for Mark. Reply STOP to opt out."),
    us("Please ask Mark to call Jane at 888-555-0100 on March 5."),
    us("We hope you have a good day."),
    us("John owes $1,280.00 on his loan.", D, A, findings=((D, 5, "owes"), (A, 10, "$1,280.00"), (D, 27, "loan"))),
    us(
        "His account is 60 days past due.",
        O,
        D,
        findings=((O, 15, "60 days past due"), (D, 23, "past due")),
    ),
    us("Please tell her to pay the balance.", D, findings=((D, 19, "pay"), (D, 27, "balance"))),
    us("Please remind him about his repayment.", D, findings=((D, 28, "repayment"),)),
    us("He has an overdue payment of 500 dollars.", D, A),
    us("We are a debt collector.", D),
    us("He has not paid since March.", D, O, findings=((D, 7, "not paid"), (O, 16, "since March"))),
    us("Five thousand dollars is outstanding.", A, findings=((A, 0, "Five thousand dollars"),)),
    us("Loan number 12345678", D, I, findings=((D, 0, "Loan"), (I, 12, "12345678"))),
    us("Call him at (415) 555-2671", I, findings=((I, 12, "(415) 555-2671"),)),
    us("His card 4111 1111 1111 1111", I),
    us("We will sue him and he may be arrested.", T, findings=((T, 8, "sue"), (T, 30, "arrested"))),
    us("About his Klarna account", P, findings=((P, 10, "Klarna"),)),
    us("It is about his credit card.", P),
    us("He is in arrears.", D),
    us("Account 98765432", I),
    us("He has been behind for three months.", O),
    us("The collection agency called.", D),
    us("Please ask him to settle up.", D),
    us("His payments are late.", D),
    us("His SSN is on file, ID 123-45-6789.", I),
    us("He defaulted on his Affirm plan.", D, P),
    us("We will report him to the police.", T),
    # --- uk-conc, family -------------------------------------------------------------------------------------------
    uk("Please ask Sarah to contact us on 0800 123 4567."),
    uk("Could you let Sarah know we called? Thank you."),
    uk("Please ask Sarah to ring us between 9am and 8pm."),
    uk(
        "She owes £350 on her Zopa loan.",
        D,
        A,
        P,
        findings=((D, 4, "owes"), (A, 9, "£350"), (P, 21, "Zopa"), (D, 26, "loan")),
    ),
    uk("Her payment is overdue.", D),
    uk("Please remind her to settle the account.", D),
    uk("We'll take legal action.", T),
    uk("She has arrears of 200 pounds.", D, A),
    uk("Her Clearpay plan needs attention.", P),
    uk("Call her on 020 7946 0958.", I),
    uk("Her debt is 3 months overdue.", D, O),
    # --- cn-default, strictness differs by profile ------------------------------------------------------------------
    us("请提醒其处理还款事宜", D, findings=((D, 6, "还款"),)),
    uk("请提醒其处理还款事宜", D),
    family("Please remind him about his repayment."),
    family("请提醒他及时还款"),
    us("请提醒他及时还款", D),
    # --- regressions from reviewing real-looking templates -----------------------------------------------------
    family(
        "【XX科技】尊敬的张先生，您好！您的亲友李*将您留为联系人，烦请提醒其尽快与我们联系，客服热线95188（工作时间8:00-21:00）。回复TD退订"
    ),
    family("【XX金融】王女士您好，麻烦您转告您的家人李四回电，谢谢！退订回T"),
    family("请访问 https://example.com/help 了解详情"),
    family("请联系客服小王，工号8001"),
    family("请于本周五下午5点前回电"),
    family("我们将在3个工作日后再次联系"),
    family("请他在下午2:30回电"),
    family("谢谢您的理解与支持😊"),
    family("打扰了，祝您新年快乐，万事如意！"),
    family("一心一意为您服务"),
    family("三月份我们联系过他"),
    family("请他回复1确认收到"),
    family("请他在10日内回复"),
    family("请他拨打12345热线或10086查询"),
    family("三天两头找不到人"),
    family("请他于2024/05/01前联系"),
    family("他欠我们10086块", D, A, findings=((D, 1, "欠"), (A, 4, "10086块"))),
    family("大概一两千块钱", A, findings=((A, 2, "一两千块钱"),)),
    family("十几万", A, findings=((A, 0, "十几万"),)),
    family("他欠我们三千五", D, A),
    family("月供3200", D, A),
    family("每月还1500", A),
    family("他手机号是一三八一二三四五六七八", I, findings=((I, 5, "一三八一二三四五六七八"),)),
    family("他的快递单号是SF1234567890", I),
    family("他名下有一笔待还款项", D),
    family("他借的钱到期了", D),
    family("我们会去他家里找他", T),
    family("他的款项已经超过两个月未处理", O),
    us("Hi, this is Sam from Acme. Please ask Pat to call 1 (800) 555-0100. Thanks!"),
    us("Please ask Pat to return our call at 800.555.0100."),
    us("We'd like to speak with Pat about an important matter."),
    us("Please have Pat contact us by 5/31."),
    us("Pat has a balance with us.", D),
    us("He owes us 1.5k", D, A, findings=((D, 3, "owes"), (A, 11, "1.5k"))),
    us("He owes us 2 grand", D, A),
    us("He hasn't paid us back.", D, findings=((D, 3, "hasn't paid"),)),
    us("It has been two months.", O),
    us("Tell him his mortgage is late.", D),
    uk("Please ask Jo to ring us on 0800 800 8000."),
    uk("Jo's overdraft is over the limit.", D),
    # --- borrower ---------------------------------------------------------------------------------------------------
    borrower("您本期应还1280元，请于5月1日前还款。"),
    borrower("您已逾期45天，请尽快还款。"),
    borrower("您的借呗账单已出，卡号6222021234567890123，请按时还款。"),
    borrower("请联系公司客服了解详情。"),
    borrower("如需帮助请联系我们的客服，电话95188。"),
    borrower("请您与家人商量还款计划。"),
    borrower("再不还钱就通知你的家人", X, findings=((X, 5, "通知你的家人"),)),
    borrower("我们会联系你的通讯录", X, T, findings=((X, 3, "联系你的通讯录"), (T, 3, "联系你的通讯录"))),
    borrower("你的家人都会知道", X),
    borrower("不还钱就上门催收", T, findings=((T, 4, "上门"),)),
    borrower("你就是个老赖", T),
    borrower("我们将起诉你", T),
    borrower("告诉你的单位领导", X, T, findings=((X, 0, "告诉你的单位"), (T, 0, "告诉你的单位"))),
    borrower("我们会通知紧急联系人", X),
    borrower("让你全家都知道", X),
    borrower("后果自负", T),
    borrower("我们已经找到你的同事", X, T),
    borrower("您好，您的账户已逾期3天，为避免产生更多费用，请尽快还款。客服95188"),
    borrower("您的借款将于明日到期，请确保账户余额充足。"),
    borrower("我们已经联系了你的紧急联系人", X),
    borrower("我们会给你的联系人发短信", X),
    borrower("你妈知道你欠钱吗", X),
    borrower("再不还钱，就把你的照片发到网上", T),
    borrower("你不还钱，你的家人也要承担责任", T),
    borrower("如不还款，我们将依法采取措施", T),
    borrower("请联系您的客户经理"),
    borrower("请保持电话畅通"),
    borrower("We'll be contacting your references.", X, profile="us-regf"),
    borrower("Your wife will find out.", X, profile="us-regf"),
    borrower("Your account is past due. Please call 1-800-555-0100.", profile="us-regf"),
    borrower("Your payment of $200 is due on May 5.", profile="us-regf"),
    borrower("Please call us at 1-800-555-0199.", profile="us-regf"),
    borrower("Your loan is 30 days past due.", profile="us-regf"),
    borrower("Please contact your bank if you need help.", profile="us-regf"),
    borrower(
        "We will contact your employer.",
        X,
        T,
        profile="us-regf",
        findings=((X, 8, "contact your employer"), (T, 8, "contact your employer")),
    ),
    borrower("We will tell your family about your debt.", X, profile="us-regf"),
    borrower("Your family will be notified.", X, profile="us-regf"),
    borrower("You will be arrested if you don't pay.", T, profile="us-regf"),
    borrower("Pay now or else.", T, profile="us-regf", findings=((T, 8, "or else"),)),
    borrower("You are a deadbeat.", T, profile="us-regf"),
    borrower("We will call all of your contacts.", X, T, profile="uk-conc"),
    borrower("Your arrears are £400; please pay by Friday.", profile="uk-conc"),
    borrower("We may take you to court.", T, profile="uk-conc"),
]
