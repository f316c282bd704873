"""The firewall reads what a person reads: it normalises first, then catches colloquial numbers and threats.

Each bypass class of issue 15 is caught: format characters, look-alike letters, the digits of other scripts,
colloquial Chinese numerals, English number words, and threats of exposure, violence and arrest in both
audiences. Findings still point at the text as given.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_app.messaging.firewall.fold import (
    STABLE_BLOCKS,
    fold,
    fold_char,
    fold_with_origins,
    origins,
)
from collections_app.messaging.firewall.lint import lint_message
from tests.collections_app.messaging.firewall_corpus import CORPUS

FORMAT_CHARACTERS = [chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"]
# The zero of every script's decimal digits (ASCII's, full-width, Arabic-Indic, Devanagari, Thai, mathematical...).
SCRIPT_ZEROS = [
    chr(cp)
    for cp in range(sys.maxunicode + 1)
    if unicodedata.category(chr(cp)) == "Nd" and unicodedata.decimal(chr(cp)) == 0
]


def categories(text: str, audience: str = "family", profile: str = "cn-default") -> set[str]:
    return {f.category for f in lint_message(text, audience=audience, profile=profile)}


def in_script(text: str, zero: str) -> str:
    """text with its ASCII digits written in the script whose zero is given."""
    return "".join(chr(ord(zero) + int(ch)) if ch.isascii() and ch.isdigit() else ch for ch in text)


# --- normalisation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", FORMAT_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in FORMAT_CHARACTERS])
def test_every_format_character_is_dropped_and_the_finding_spans_it(hidden: str) -> None:
    text = f"他已经逾{hidden}期了"
    assert [(f.category, f.start, f.text) for f in lint_message(text)] == [("debt_disclosure", 3, f"逾{hidden}期")]


@pytest.mark.parametrize("hidden", ["\u0336", "\ufe0f", "\u3164", "\u034f", "\U000e0101"])
def test_combining_marks_variation_selectors_and_blank_fillers_are_dropped(hidden: str) -> None:
    assert categories(f"He o{hidden}we{hidden}s us", profile="us-regf") == {"debt_disclosure"}


def test_the_digits_of_every_script_are_read_as_digits() -> None:
    assert len(SCRIPT_ZEROS) > 50
    for zero in SCRIPT_ZEROS:
        amount = in_script("5000", zero)
        findings = [(f.category, f.text) for f in lint_message(f"请转告他需还{amount}元")]
        assert findings == [("amount", f"{amount}元")], unicodedata.name(zero)
        identifier = in_script("110101199003074514", zero)
        assert [f.text for f in lint_message(f"身份证{identifier}")] == [identifier], unicodedata.name(zero)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("欠款①②③④元", "amount"),  # circled digits
        ("欠款❶❷❸❹元", "amount"),  # dingbat negative circled digits
        ("欠款⓫⓬⓭元", "amount"),  # negative circled numbers past ten
        ("欠款⁵⁰⁰⁰元", "amount"),  # superscripts
        ("欠款𝟓𝟎𝟎𝟎元", "amount"),  # mathematical bold
        ("欠款５０００元", "amount"),  # full-width
        ("逾期⑩天", "overdue_detail"),  # one circled number, two digits
        ("他的手机①③⑧①②③④⑤⑥⑦⑧", "identifier"),
    ],
)
def test_circled_superscript_and_mathematical_digits_are_digits(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "He оwеs us.",  # Cyrillic о, е
        "He has a lοаn.",  # Greek ο, Cyrillic а
        "Тhе dеbt.",  # Cyrillic Т, е
        "ᴅᴇʙᴛ",  # Latin small capitals
        "𝐝𝐞𝐛𝐭",  # mathematical bold letters (NFKC)
        "Ｄｅｂｔ",  # full-width (NFKC)
        "He ówes us.",  # a precomposed diacritic
        "He o\u0301wes us.",  # a combining one
    ],
)
def test_look_alike_letters_fold_to_latin(text: str) -> None:
    assert categories(text, profile="us-regf") == {"debt_disclosure"}


def test_nfkc_reaches_chinese_numerals_written_as_radicals_and_compatibility_forms() -> None:
    # ⼀ is the Kangxi radical "one", 〸 the Hangzhou numeral ten: NFKC reads them as 一 and 十.
    assert fold("⼀万〸块") == "一万十块"
    assert categories("他欠了⼀万") == {"debt_disclosure", "amount"}


def test_offsets_point_into_the_text_as_given_when_folding_is_not_one_for_one() -> None:
    text = "\u200b\u200b欠款⑩⑩⑩元，逾期……"
    assert [(f.category, f.start, f.end, f.text) for f in lint_message(text)] == [
        ("debt_disclosure", 2, 4, "欠款"),
        ("amount", 4, 8, "⑩⑩⑩元"),
        ("debt_disclosure", 9, 11, "逾期"),
    ]


def test_the_blocks_folding_skips_hold_only_code_points_that_fold_to_themselves() -> None:
    for start, end in STABLE_BLOCKS:
        for cp in range(start, end):
            assert fold_char(chr(cp)) == chr(cp), hex(cp)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60))
def test_the_fast_paths_fold_as_one_code_point_at_a_time_does(text: str) -> None:
    folded, pieces = fold_with_origins(text)
    assert folded == "".join(fold_char(ch) for ch in text)
    if pieces is None:
        assert len(folded) == len(text)
    else:
        assert len(origins(pieces)) == len(folded)


_LEAKING = [c for c in CORPUS if c.categories]


@settings(max_examples=300, deadline=None)
@given(
    item=st.sampled_from(_LEAKING),
    hidden=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(FORMAT_CHARACTERS)), max_size=6),
)
def test_format_characters_anywhere_change_nothing_found(item, hidden) -> None:
    text = item.text
    for position, ch in hidden:
        index = position % (len(text) + 1)
        text = text[:index] + ch + text[index:]
    found = lint_message(text, audience=item.audience, profile=item.profile)
    assert {f.category for f in found} == item.categories
    assert all(text[f.start : f.end] == f.text for f in found)


@settings(max_examples=300, deadline=None)
@given(
    item=st.sampled_from([c for c in CORPUS if any(ch.isdigit() for ch in c.text)]), zero=st.sampled_from(SCRIPT_ZEROS)
)
def test_digits_in_any_script_change_nothing_found(item, zero: str) -> None:
    text = in_script(item.text, zero)
    assert categories(text, item.audience, item.profile) == item.categories


# --- what is caught after normalising ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("他欠了俩万块", "俩万块"),
        ("大概仨千块钱", "仨千块钱"),
        ("欠了廿万", "廿万"),
        ("卅万元", "卅万元"),
        ("一共两万半", "两万半"),
        ("也就千把块钱", "千把块钱"),
        ("他借了万五", "万五"),
        ("也就几千块", "几千块"),
    ],
)
def test_colloquial_chinese_numerals_in_amount_context_are_amounts(text: str, found: str) -> None:
    assert ("amount", found) in [(f.category, f.text) for f in lint_message(text)]


@pytest.mark.parametrize("text", ["他们俩都好", "咱俩一块去", "仨人一起来", "万一联系不上", "请于本月廿五日前回电"])
def test_colloquial_numerals_outside_amount_context_are_not_amounts(text: str) -> None:
    assert categories(text) == set()


def test_colloquial_durations_are_overdue_details() -> None:
    assert [(f.category, f.text) for f in lint_message("他拖了俩月了")] == [("overdue_detail", "俩月")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("He needs five thousand.", "five thousand"),
        ("two hundred and fifty, please", "two hundred and fifty"),
        ("It is a grand.", "a grand"),
        ("about 5k", "5k"),
        ("It is 5 thousand.", "5 thousand"),
        ("a few thousand", "a few thousand"),
        ("He owes fifty.", "fifty"),
    ],
)
def test_english_number_words_are_amounts(text: str, found: str) -> None:
    assert ("amount", found) in [(f.category, f.text) for f in lint_message(text, profile="us-regf")]


@pytest.mark.parametrize(
    "text", ["Thanks a million!", "Please call within two days.", "one hundred percent", "one in a million"]
)
def test_english_number_words_in_idioms_and_counts_are_not_amounts(text: str) -> None:
    assert categories(text, profile="us-regf") == set()


THREATS = {
    "employer": (["我们会通知你单位", "告诉你的同事"], ["We will tell your employer.", "We will call his boss."]),
    "neighbours": (
        ["你的邻居都会知道", "到他小区张贴"],
        ["His neighbours will find out.", "We will let your neighbors know."],
    ),
    "village": (["让全村人都知道", "告诉你们村里的人", "我们会去他老家"], ["The whole village will hear about it."]),
    "contacts": (
        ["你的通讯录都会收到", "打给你所有联系人"],
        ["Your contacts will know.", "Everyone in your address book."],
    ),
    "social media": (
        ["发到朋友圈", "曝光到你的微信群"],
        ["We will post this on social media.", "We'll put it on Facebook."],
    ),
    "violence": (["打断你的腿", "要他的命", "砍你"], ["We will hurt you.", "Watch your back."]),
    "arrest": (["报警抓你", "等着坐牢吧", "准备吃牢饭"], ["You will be arrested.", "We will have him locked up."]),
}


@pytest.mark.parametrize("kind", sorted(THREATS))
@pytest.mark.parametrize("audience", ["family", "borrower"])
def test_threats_are_caught_in_both_audiences_and_languages(kind: str, audience: str) -> None:
    chinese, english = THREATS[kind]
    for text in chinese:
        assert "threat" in categories(text, audience), text
    for text in english:
        for profile in ("us-regf", "uk-conc", "cn-default"):
            assert "threat" in categories(text, audience, profile), (text, profile)


@pytest.mark.parametrize(
    "text",
    [
        "请联系公司客服了解详情。",
        "请他到公司办理",
        "您的亲友将您列为联系人",
        "Follow us on social media.",
        "Please call our office.",
    ],
)
def test_words_of_places_and_people_alone_are_no_threat(text: str) -> None:
    assert "threat" not in categories(text, "borrower", "us-regf" if text.isascii() else "cn-default")
