"""The SQL form of family-contact eligibility (`review.eligibility_sql`) agrees with the Python rules account by
account: each case alone on one rule's edge under every policy variant, then random combinations (Hypothesis)."""

import pytest
import time_machine
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_app.models import LoanAccount, MessageTemplate
from review.eligibility_sql import family_contact_eligible_q
from tests.review.conftest import make_family_template
from tests.review.eligibility_cases import (
    CASES,
    FIVE_ON_THREE_DAYS,
    NOW,
    REFUSED,
    TODAY,
    VARIANTS,
    ContactSpec,
    Spec,
    build,
    eligible_in_python,
    policy_with,
)

pytestmark = pytest.mark.django_db


def eligible_in_sql(accounts: list[LoanAccount], policy) -> set[int]:
    ids = [account.pk for account in accounts]
    return set(
        LoanAccount.objects.filter(pk__in=ids)
        .filter(family_contact_eligible_q(policy, TODAY))
        .values_list("pk", flat=True)
    )


def disagreements(accounts: dict[str, LoanAccount], template: MessageTemplate) -> dict[str, list[str]]:
    """Per policy variant, the cases on which SQL and Python disagree."""
    found = {}
    for variant, values in VARIANTS.items():
        policy = policy_with(**values)
        in_sql = eligible_in_sql(list(accounts.values()), policy)
        wrong = [
            name
            for name, account in accounts.items()
            if (account.pk in in_sql) != eligible_in_python(account, policy, template)
        ]
        if wrong:
            found[variant] = wrong
    return found


@time_machine.travel(NOW, tick=False)
def test_each_case_agrees_with_the_python_rules_under_every_variant(officer: User) -> None:
    template = make_family_template()
    accounts = {name: build(spec, officer, template) for name, spec in CASES.items()}
    assert disagreements(accounts, template) == {}
    # The cases do reach both answers, under the default numbers and across the variants.
    default = eligible_in_sql(list(accounts.values()), policy_with())
    assert accounts["eligible"].pk in default and accounts["refusal"].pk not in default
    assert accounts["refusal"].pk in eligible_in_sql(
        [accounts["refusal"]], policy_with(family_only_when_unreachable=False)
    )


CONTACTS = st.builds(
    ContactSpec,
    consent=st.booleans(),
    opted_out=st.booleans(),
    open_request=st.booleans(),
    messaged_days_ago=st.lists(st.integers(0, 40), max_size=2).map(tuple),
)
CALLS = st.lists(
    st.tuples(
        st.integers(0, 16), st.sampled_from([0, 10, 23]), st.sampled_from(["no_answer", "wrong_number", REFUSED])
    ),
    max_size=7,
).map(tuple)
SPECS = st.builds(
    Spec,
    dpd=st.sampled_from([None, 10, 29, 30, 31, 60]),
    calls=st.one_of(CALLS, st.just(FIVE_ON_THREE_DAYS)),
    promises=st.lists(st.tuples(st.integers(-5, 65), st.integers(0, 10), st.booleans()), max_size=3).map(
        lambda rows: tuple((promised, promised + made, paid) for promised, made, paid in rows)
    ),
    kept_plan=st.booleans(),
    open_flag=st.booleans(),
    contacts=st.lists(CONTACTS, max_size=2).map(tuple),
    other_contacts_messaged=st.integers(0, 3),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(SPECS, min_size=1, max_size=4))
def test_random_accounts_agree_with_the_python_rules(officer: User, specs: list[Spec]) -> None:
    with time_machine.travel(NOW, tick=False):
        template = MessageTemplate.objects.filter(code="family-test").first() or make_family_template()
        accounts = {f"random-{n}": build(spec, officer, template) for n, spec in enumerate(specs)}
        assert disagreements(accounts, template) == {}
