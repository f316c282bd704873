"""Each eligibility rule alone, passing and failing at its boundary, without a database."""

import datetime
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext

from collections_app.account_rules import PlanResult, PromiseResult, PromiseStatus
from collections_app.models import PolicyVersion
from review.policy import EligibilityFacts, evaluate

TODAY = datetime.date(2026, 3, 16)


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


@pytest.fixture
def numbers() -> PolicyVersion:
    """The default numbers (an unsaved version carries them): cn-default's, except that refusals and broken
    promises count (`family_only_when_unreachable` is off, as a non-cn profile may have it)."""
    return PolicyVersion()


@pytest.fixture
def eligible() -> EligibilityFacts:
    """Facts on which every rule passes."""
    return EligibilityFacts(
        today=TODAY,
        dpd=45,
        failed_attempt_dates=(days_ago(1), days_ago(1), days_ago(3), days_ago(5), days_ago(5)),
        contact_of_borrower=True,
        consent_basis="registered at application",
        consent_recorded=True,
        contact_id=7,
        template_audience="family",
        template_approved=True,
        template_current=True,
    )


def verdict(facts: EligibilityFacts, numbers: PolicyVersion, rule: int) -> bool:
    return evaluate(facts, numbers).results[rule - 1].passed


def test_the_baseline_facts_pass_every_rule(eligible, numbers) -> None:
    evaluation = evaluate(eligible, numbers)
    assert evaluation.eligible
    assert [r.rule for r in evaluation.results] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(("dpd", "passes"), [(30, True), (29, False), (None, False), (200, True)])
def test_rule_1_needs_dpd_of_at_least_30(eligible, numbers, dpd, passes) -> None:
    result = evaluate(replace(eligible, dpd=dpd), numbers).results[0]
    assert result.passed is passes
    assert result.numbers["min_dpd"] == 30
    if dpd == 29:
        assert "29" in result.reason and "30" in result.reason


def test_rule_1_reads_its_threshold_from_the_policy_version(eligible, numbers) -> None:
    assert not verdict(replace(eligible, dpd=45), replace_numbers(numbers, family_min_dpd=60), 1)


def replace_numbers(numbers: PolicyVersion, **values: object) -> PolicyVersion:
    version = PolicyVersion()
    for name, value in values.items():
        setattr(version, name, value)
    return version


def test_rule_2_five_failed_attempts_on_three_days_pass(eligible, numbers) -> None:
    result = evaluate(eligible, numbers).results[1]
    assert result.passed
    assert result.numbers["failed_attempts"] == 5 and result.numbers["failed_attempt_days"] == 3


def test_rule_2_four_failed_attempts_fail(eligible, numbers) -> None:
    facts = replace(eligible, failed_attempt_dates=(days_ago(1), days_ago(3), days_ago(5), days_ago(5)))
    assert not verdict(facts, numbers, 2)


def test_rule_2_five_attempts_on_two_days_fail(eligible, numbers) -> None:
    facts = replace(eligible, failed_attempt_dates=(days_ago(1),) * 3 + (days_ago(2),) * 2)
    assert not verdict(facts, numbers, 2)


def test_rule_2_attempts_older_than_14_days_do_not_count(eligible, numbers) -> None:
    inside = (days_ago(13), days_ago(13), days_ago(12), days_ago(11), days_ago(11))
    assert verdict(replace(eligible, failed_attempt_dates=inside), numbers, 2)
    outside = (days_ago(14), days_ago(13), days_ago(12), days_ago(11), days_ago(11))
    assert not verdict(replace(eligible, failed_attempt_dates=outside), numbers, 2)


def test_rule_2_an_explicit_refusal_is_enough(eligible, numbers) -> None:
    facts = replace(eligible, failed_attempt_dates=(), refusal_dates=(days_ago(2),))
    assert verdict(facts, numbers, 2)


def test_rule_2_two_broken_promises_in_60_days_are_enough_one_is_not(eligible, numbers) -> None:
    two = replace(eligible, failed_attempt_dates=(), broken_promise_dates=(days_ago(59), days_ago(10)))
    assert verdict(two, numbers, 2)
    one_in_window = replace(eligible, failed_attempt_dates=(), broken_promise_dates=(days_ago(60), days_ago(10)))
    assert not verdict(one_in_window, numbers, 2)


@pytest.mark.parametrize(
    "change",
    [
        {"refusal_dates": (days_ago(2),)},
        {"broken_promise_dates": (days_ago(59), days_ago(10))},
        {"refusal_dates": (days_ago(2),), "broken_promise_dates": (days_ago(30), days_ago(10), days_ago(5))},
    ],
    ids=["refusal", "broken-promises", "both"],
)
def test_rule_2_when_only_unreachable_refusals_and_broken_promises_no_longer_count(eligible, numbers, change) -> None:
    facts = replace(eligible, failed_attempt_dates=(), **change)
    assert verdict(facts, numbers, 2)
    only_unreachable = replace_numbers(numbers, family_only_when_unreachable=True)
    with translation.override("en"):
        result = evaluate(facts, only_unreachable).results[1]
    assert not result.passed
    assert result.numbers["only_unreachable"] is True
    assert "refusals and broken promises do not count" in result.reason


def test_rule_2_when_only_unreachable_failed_attempts_still_pass(eligible, numbers) -> None:
    only_unreachable = replace_numbers(numbers, family_only_when_unreachable=True)
    result = evaluate(replace(eligible, refusal_dates=(days_ago(2),)), only_unreachable).results[1]
    assert result.passed and result.numbers["failed_attempts"] == 5
    four = replace(eligible, failed_attempt_dates=(days_ago(1), days_ago(3), days_ago(5), days_ago(5)))
    assert not verdict(four, only_unreachable, 2)


def pending_promise() -> PromiseResult:
    return PromiseResult(PromiseStatus.PENDING, TODAY + datetime.timedelta(days=2), Decimal("0"), "pending")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"promise": pending_promise()}, "promise_pending"),
        ({"plan": PlanResult(True, "kept")}, "plan_kept"),
        ({"open_flags": ("dispute",)}, "dispute_open"),
        ({"open_flags": ("hardship",)}, "hardship_open"),
    ],
)
def test_rule_3_fails_on_each_pause(eligible, numbers, change, code) -> None:
    result = evaluate(replace(eligible, **change), numbers).results[2]
    assert not result.passed
    assert result.numbers["pause"] == [code]


def test_rule_3_passes_with_a_broken_plan_and_a_kept_promise(eligible, numbers) -> None:
    kept = PromiseResult(PromiseStatus.KEPT, days_ago(3), Decimal("100"), "kept")
    facts = replace(eligible, promise=kept, plan=PlanResult(False, "missed", (days_ago(5),)))
    assert verdict(facts, numbers, 3)


@pytest.mark.parametrize(
    "change",
    [
        {"contact_of_borrower": False},
        {"consent_basis": ""},
        {"consent_recorded": False},
        {"contact_opted_out": True},
    ],
)
def test_rule_4_fails_without_registration_consent_or_after_opt_out(eligible, numbers, change) -> None:
    assert not verdict(replace(eligible, **change), numbers, 4)


def test_rule_5_fails_when_another_request_is_open(eligible, numbers) -> None:
    assert not verdict(replace(eligible, other_open_requests=1), numbers, 5)
    assert verdict(replace(eligible, other_open_requests=0), numbers, 5)


def test_rule_6_one_message_per_contact_per_7_days(eligible, numbers) -> None:
    assert not verdict(replace(eligible, contact_message_dates=(days_ago(6),)), numbers, 6)
    assert verdict(replace(eligible, contact_message_dates=(days_ago(7),)), numbers, 6)


def test_rule_6_at_most_three_different_contacts_per_30_days(eligible, numbers) -> None:
    three_others = ((1, days_ago(20)), (2, days_ago(10)), (3, days_ago(29)))
    assert not verdict(replace(eligible, borrower_family_messages=three_others), numbers, 6)
    one_aged_out = ((1, days_ago(20)), (2, days_ago(10)), (3, days_ago(30)))
    assert verdict(replace(eligible, borrower_family_messages=one_aged_out), numbers, 6)
    # Messages to this same contact (older than 7 days) do not count as another contact.
    with_self = ((1, days_ago(20)), (2, days_ago(10)), (7, days_ago(9)))
    assert verdict(replace(eligible, borrower_family_messages=with_self), numbers, 6)


def test_rule_6_once_only_profile_refuses_a_second_contact_ever(eligible, numbers) -> None:
    once = replace_numbers(numbers, contact_once_only=True)
    assert not verdict(replace(eligible, contact_message_dates=(days_ago(300),)), once, 6)
    assert verdict(eligible, once, 6)


@pytest.mark.parametrize(
    "change",
    [
        {"template_audience": "borrower"},
        {"template_approved": False},
        {"template_current": False},
        {"firewall_findings": (("amount", "5000元"),)},
    ],
)
def test_rule_7_needs_an_approved_current_family_template_that_passes_the_firewall(eligible, numbers, change) -> None:
    result = evaluate(replace(eligible, **change), numbers).results[6]
    assert not result.passed


def test_every_failed_rule_is_reported_not_just_the_first(eligible, numbers) -> None:
    facts = replace(eligible, dpd=10, contact_opted_out=True)
    evaluation = evaluate(facts, numbers)
    assert [r.rule for r in evaluation.failed] == [1, 4]
    rule, failed = gettext("Rule"), evaluation.failed
    assert evaluation.failure_summary() == "; ".join(f"{rule} {r.rule}: {r.reason}" for r in failed)
    assert evaluation.as_json()["eligible"] is False
