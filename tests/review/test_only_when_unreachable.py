"""`family_only_when_unreachable` (the cn floor): under cn-default a refusal or broken promises no longer make an
account eligible, only failed attempts do; a profile with it off (a test-made uk profile) still counts them."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from collections_app.models import Interaction, PolicyProfile, PromiseToPay
from collections_app.services.profiles import policy_version_create
from review.selectors import eligibility_evaluate
from tests.factories import make_account, make_contact, make_portfolio
from tests.review.conftest import add_failed_attempts, make_family_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def uk_portfolio():
    """A portfolio under a test-made uk profile, whose version counts refusals and broken promises."""
    profile = PolicyProfile.objects.create(code="uk-test", name="uk test", kind="uk")
    version = policy_version_create(profile=profile, changes={"firewall_mode": "uk-conc", "lender_name": "Test Lender"})
    assert version.family_only_when_unreachable is False
    return make_portfolio("uk-test-book", profile="uk-test")


def refused(account, officer: User) -> None:
    Interaction.objects.create(
        account=account,
        officer=officer,
        outcome=Interaction.Outcome.REFUSED,
        occurred_at=timezone.now() - datetime.timedelta(days=2),
    )


def broke_two_promises(account, officer: User) -> None:
    for days_ago in (40, 20):
        promise = PromiseToPay.objects.create(
            account=account,
            promised_date=timezone.localdate() - datetime.timedelta(days=days_ago),
            amount=Decimal("100"),
            created_by=officer,
        )
        PromiseToPay.objects.filter(pk=promise.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days_ago + 5)
        )


def rule_2(account):
    evaluation, _preview, version = eligibility_evaluate(
        account=account,
        contact=make_contact(account.borrower),
        template_version=make_family_template(f"family-{account.pk}").current_version,
    )
    return evaluation.results[1], version


@pytest.mark.parametrize("history", [refused, broke_two_promises], ids=["refusal", "broken-promises"])
def test_under_cn_default_a_refusal_or_broken_promises_do_not_make_the_borrower_unreachable(officer, history) -> None:
    account = make_account(officer, dpd=45)
    history(account, officer)
    with translation.override("en"):
        result, version = rule_2(account)
    assert version.profile.code == "cn-default" and version.family_only_when_unreachable
    assert not result.passed
    assert "refusals and broken promises do not count" in result.reason


@pytest.mark.parametrize("history", [refused, broke_two_promises], ids=["refusal", "broken-promises"])
def test_a_profile_with_it_off_still_counts_them(officer, uk_portfolio, history) -> None:
    account = make_account(officer, dpd=45, portfolio=uk_portfolio)
    history(account, officer)
    result, version = rule_2(account)
    assert version.profile.code == "uk-test"
    assert result.passed and result.numbers["only_unreachable"] is False


def test_under_cn_default_failed_attempts_still_make_the_borrower_unreachable(officer) -> None:
    account = make_account(officer, dpd=45)
    add_failed_attempts(account, officer)
    refused(account, officer)
    result, _version = rule_2(account)
    assert result.passed and result.numbers["failed_attempts"] == 5
