"""The content firewall against a corpus of leaking and clean messages, plus properties over any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_app.messaging.firewall.categories import CATEGORIES
from collections_app.messaging.firewall.lint import AUDIENCES, Finding, lint_message
from collections_app.messaging.firewall.modes import (
    PROFILES,
    FirewallProfile,
    UnknownProfileError,
    firewall_profile_get,
)
from tests.collections_app.messaging.firewall_corpus import CORPUS, Case

FAMILY_CATEGORIES = {"amount", "overdue_detail", "debt_disclosure", "identifier", "product", "threat"}
BORROWER_CATEGORIES = {"threat", "third_party"}


@pytest.mark.parametrize("item", CORPUS, ids=[c.id for c in CORPUS])
def test_corpus_message_yields_exactly_the_expected_categories(item: Case) -> None:
    findings = lint_message(item.text, audience=item.audience, profile=item.profile)
    assert {f.category for f in findings} == item.categories
    if item.findings is not None:
        assert [(f.category, f.start, f.text) for f in findings] == list(item.findings)


def test_corpus_is_large_and_covers_every_audience_profile_and_category() -> None:
    assert len(CORPUS) >= 250
    assert {c.audience for c in CORPUS} == set(AUDIENCES)
    assert {c.profile for c in CORPUS} == set(PROFILES)
    assert set().union(*(c.categories for c in CORPUS)) == set(CATEGORIES)
    assert sum(1 for c in CORPUS if not c.categories) >= 40
    assert sum(1 for c in CORPUS if c.findings is not None) >= 50


def test_corpus_categories_belong_to_their_audience() -> None:
    for item in CORPUS:
        allowed = FAMILY_CATEGORIES if item.audience == "family" else BORROWER_CATEGORIES
        assert item.categories <= allowed, item.text


def test_overlapping_findings_are_each_listed_and_sorted() -> None:
    findings = lint_message("他已经逾期45天了，欠款5000元")
    assert [(f.category, f.start, f.end, f.text) for f in findings] == [
        ("debt_disclosure", 3, 5, "逾期"),
        ("overdue_detail", 3, 8, "逾期45天"),
        ("debt_disclosure", 10, 12, "欠款"),
        ("amount", 12, 17, "5000元"),
    ]


def test_cn_default_lets_a_generic_repayment_request_through_but_strict_profiles_do_not() -> None:
    text = "请提醒其处理还款事宜"
    assert lint_message(text, profile="cn-default") == []
    for name in ("us-regf", "uk-conc"):
        assert [f.category for f in lint_message(text, profile=name)] == ["debt_disclosure"]


def test_borrower_audience_may_see_amounts_dates_and_debt_words() -> None:
    text = "您的借呗已逾期45天，欠款5000元，卡号6222021234567890123"
    assert lint_message(text, audience="borrower") == []
    assert {f.category for f in lint_message(text, audience="family")} == {
        "product",
        "debt_disclosure",
        "overdue_detail",
        "amount",
        "identifier",
    }


def test_profile_may_be_given_as_an_object_with_its_own_hotlines_and_products() -> None:
    # Lists, as a database row might give them, are kept as tuples.
    profile = FirewallProfile(name="custom", hotlines=["021-6888 8888"], product_names=["好易花"])  # type: ignore[arg-type]
    assert profile.hotlines == ("021-6888 8888",)
    text = "请致电021-6888 8888，关于好易花"
    assert [(f.category, f.text) for f in lint_message(text, profile=profile)] == [("product", "好易花")]
    assert [f.category for f in lint_message(text)] == ["identifier"]


def test_a_long_number_next_to_an_account_word_is_an_identifier_whatever_its_checksum() -> None:
    findings = lint_message("合同编号 12345678")
    assert [(f.category, f.text) for f in findings] == [("identifier", "12345678")]


def test_a_checksum_valid_card_stays_an_identifier_beside_money_words() -> None:
    findings = lint_message("欠款请转到4111111111111111")
    assert ("identifier", "4111111111111111") in [(f.category, f.text) for f in findings]
    assert "amount" not in {f.category for f in findings}


def test_an_id_card_number_is_told_from_money_by_its_checksum() -> None:
    assert [(f.category, f.text) for f in lint_message("转账110101199003074514元")] == [
        ("identifier", "110101199003074514")
    ]
    # One digit off, the checksum fails: eighteen digits followed by 元 are then an amount.
    assert [f.category for f in lint_message("转账110101199003074515元")] == ["amount"]


def test_unknown_audience_is_refused() -> None:
    with pytest.raises(ValueError, match="audience"):
        lint_message("hello", audience="neighbour")


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(UnknownProfileError):
        lint_message("hello", profile="mars")
    with pytest.raises(UnknownProfileError):
        firewall_profile_get("mars")


def test_built_in_profiles_are_returned_by_name() -> None:
    assert firewall_profile_get("cn-default").strict_debt is False
    assert firewall_profile_get("us-regf").strict_debt is True
    assert firewall_profile_get("uk-conc").strict_debt is True


def _check_findings(text: str, findings: list[Finding]) -> None:
    assert findings == sorted(findings, key=lambda f: (f.start, f.end, f.category))
    for finding in findings:
        assert finding.category in CATEGORIES
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.text


# Text built from the pieces the patterns care about finds far more edge cases than uniform Unicode.
_PIECES = st.sampled_from(
    list("0123456789０１２３，,.:：-+() *xX元块万千百十一二三五捌仟佰壹天月个期欠逾¥$￥%年日号")
    + ["逾期", "欠款", "还款", "借呗", "95188", "400-820-8820", "13812345678", "卡号", "since", "days past due"]
    + ["owe", "loan", "$1,280.00", "1 280", "8:00", "2024-05-01", "通知你的家人", "your family", "İ", "ß", "\u3000"]
)
_MIXED_TEXT = st.lists(_PIECES, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200), audience=st.sampled_from(AUDIENCES), profile=st.sampled_from(sorted(PROFILES)))
def test_any_text_is_linted_without_error_and_offsets_point_into_it(text: str, audience: str, profile: str) -> None:
    _check_findings(text, lint_message(text, audience=audience, profile=profile))


@settings(max_examples=500, deadline=None)
@given(text=_MIXED_TEXT, audience=st.sampled_from(AUDIENCES), profile=st.sampled_from(sorted(PROFILES)))
def test_mixed_number_and_keyword_text_keeps_offsets_exact(text: str, audience: str, profile: str) -> None:
    _check_findings(text, lint_message(text, audience=audience, profile=profile))


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_a_leak_is_found_whatever_surrounds_it(prefix: str, suffix: str) -> None:
    text = f"{prefix} 身份证110101199003074514 {suffix}"
    start = len(prefix) + 4
    assert Finding("identifier", start, start + 18, "110101199003074514") in lint_message(text)
