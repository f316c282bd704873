"""The dry run of a policy change counts what the Python rules and the ladder's own run give on the same data:
accounts that become eligible or ineligible for family contact, messages the ladder would add or drop today. It
writes nothing and runs a fixed number of queries whatever the size of the book."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from collections_app.messaging.ladder import escalation_run
from collections_app.models import LoanAccount, Message, MessageTemplate, PolicyProfile, PolicyVersion
from collections_app.services.profiles import policy_version_create
from review.dry_run import SAMPLE_SIZE, policy_dry_run
from tests.factories import make_account, make_portfolio
from tests.review.conftest import make_family_template
from tests.review.eligibility_cases import CASES, NOW, TODAY, build, eligible_in_python, policy_with

pytestmark = pytest.mark.django_db

# A proposal that moves both ways: family contact from DPD 45 (DPD 30-44 drop out), four failed attempts on two
# days (four attempts now count), a shorter in-app run-up and other SMS days (the ladder gains and loses).
PROPOSAL = {
    "family_min_dpd": 45,
    "failed_attempts_min": 4,
    "failed_attempt_days_min": 2,
    "in_app_from_dpd": 3,
    "reminder_days": [-3, -2, -1, 0],
    "sms_days": [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 30],
}
# Ladder accounts around the changed days, beside the eligibility cases (DPD 29 to 45, and paid).
LADDER_DPDS = (-3, -2, -1, 0, 1, 2, 3, 4, 5, 10)


def cn_default() -> PolicyProfile:
    return PolicyProfile.objects.get(code="cn-default")


def ladder_writes(changes: dict | None) -> set[tuple[int, str, str]]:
    """What `run_escalation` writes today under the version in force, or under `changes` approved; rolled back."""
    # The run looks its version up at the first version's own time (the test database's creation, after NOW): a
    # version approved with `changes` takes effect then too, being later in number.
    first = cn_default().versions.get(version=1)
    with transaction.atomic():
        if changes:
            policy_version_create(profile=cn_default(), changes=changes, effective_from=first.effective_from)
        escalation_run(today=TODAY, at=first.effective_from)
        written = set(
            Message.objects.filter(audience=Message.Audience.BORROWER).values_list(
                "account_id", "channel", "template_version__template__code"
            )
        )
        transaction.set_rollback(True)
    return written


@pytest.fixture
def book(officer: User) -> dict[str, LoanAccount]:
    with time_machine.travel(NOW, tick=False):
        template = make_family_template()
        accounts = {name: build(spec, officer, template) for name, spec in CASES.items()}
        accounts |= {f"ladder-{dpd}": make_account(officer, dpd=dpd, today=TODAY) for dpd in LADDER_DPDS}
        # One borrower, two accounts: under the proposal the pre-due notice of one takes the other's in-app place.
        two = accounts["ladder-2"].borrower
        accounts["ladder-2-same-borrower-at-minus-2"] = make_account(officer, dpd=-2, today=TODAY, borrower=two)
        # An account of another profile: outside the dry run of cn-default.
        make_account(officer, dpd=45, today=TODAY, portfolio=make_portfolio("us-book", profile="us-regf"))
    return accounts


# The same with other contact rules too (the dry run then reads each side's askable contacts on its own).
STRICTER_CONTACTS = {**PROPOSAL, "contact_once_only": True, "contact_interval_days": 14}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("proposal", [PROPOSAL, STRICTER_CONTACTS], ids=["proposal", "stricter-contacts"])
def test_the_dry_runs_counts_equal_the_python_rules_and_the_ladders_run(book, proposal) -> None:
    template = MessageTemplate.objects.get(code="family-test")
    current, proposed = cn_default().current_version, policy_with(**proposal)
    accounts = LoanAccount.objects.filter(portfolio__policy_profile=cn_default())
    now_eligible = {a.pk for a in accounts if eligible_in_python(a, current, template)}
    new_eligible = {a.pk for a in accounts if eligible_in_python(a, proposed, template)}
    become, cease = new_eligible - now_eligible, now_eligible - new_eligible
    assert book["four-attempts"].pk in become and book["dpd-30"].pk in cease  # the cases flip both ways

    result = policy_dry_run(profile=cn_default(), proposed=proposed, now=NOW)

    assert (result.accounts, result.eligible_now, result.eligible_proposed) == (
        accounts.count(),
        len(now_eligible),
        len(new_eligible),
    )
    assert result.become_eligible.count == len(become) and set(result.become_eligible.sample) <= become
    assert result.become_ineligible.count == len(cease) and set(result.become_ineligible.sample) <= cease
    assert result.become_ineligible.sample == tuple(sorted(cease)[:SAMPLE_SIZE])
    before, after = ladder_writes(None), ladder_writes(proposal)
    added, dropped = after - before, before - after
    assert added and dropped
    # The borrower's in-app message moves from one account (and stage) to the other: one added, one dropped.
    assert (book["ladder-2"].pk, "in_app", "ladder-overdue-in_app") in dropped
    assert (book["ladder-2-same-borrower-at-minus-2"].pk, "in_app", "ladder-pre-due-in_app") in added
    assert (result.messages_added.count, result.messages_dropped.count) == (len(added), len(dropped))
    assert set(result.messages_added.sample) <= {account for account, _, _ in added}
    assert set(result.messages_dropped.sample) <= {account for account, _, _ in dropped}
    for channel, (n_added, n_dropped) in result.messages_by_channel.items():
        assert n_added == len([row for row in added if row[1] == channel])
        assert n_dropped == len([row for row in dropped if row[1] == channel])


@time_machine.travel(NOW, tick=False)
def test_the_same_version_changes_nothing_and_nothing_is_written(book) -> None:
    counts = [model.objects.count() for model in (Message, AuditEvent, PolicyVersion)]
    result = policy_dry_run(profile=cn_default(), proposed=policy_with(), now=NOW)
    assert result.eligible_now == result.eligible_proposed > 0
    assert (result.become_eligible.count, result.become_ineligible.count) == (0, 0)
    assert (result.messages_added.count, result.messages_dropped.count) == (0, 0)
    assert [model.objects.count() for model in (Message, AuditEvent, PolicyVersion)] == counts


@time_machine.travel(NOW, tick=False)
def test_the_dry_run_answers_the_same_after_todays_run(book) -> None:
    before = policy_dry_run(profile=cn_default(), proposed=policy_with(**PROPOSAL), now=NOW)
    escalation_run(today=TODAY)
    after = policy_dry_run(profile=cn_default(), proposed=policy_with(**PROPOSAL), now=NOW)
    assert after == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the query count of the set-based statements")
def test_the_dry_run_runs_a_fixed_number_of_queries_whatever_the_book(officer: User) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            policy_dry_run(profile=cn_default(), proposed=policy_with(**PROPOSAL))
        return len(captured)

    make_account(officer, dpd=40)
    small = queries()
    for dpd in range(-3, 60):
        make_account(officer, dpd=dpd)
    assert queries() == small
    assert small <= 30  # the two counting statements, the ladder's template look-ups, the session settings


def test_a_proposed_version_of_another_profile_is_refused() -> None:
    other = PolicyVersion.objects.get(profile__code="us-regf")
    other.pk = None
    with pytest.raises(ValueError, match="another profile"):
        policy_dry_run(profile=cn_default(), proposed=other, now=NOW)


def test_an_unsaved_version_without_a_profile_is_taken_as_the_profiles() -> None:
    proposed = PolicyVersion(family_min_dpd=30)
    result = policy_dry_run(profile=cn_default(), proposed=proposed, now=NOW + datetime.timedelta(hours=1))
    assert proposed.profile == cn_default() and result.accounts == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner settings")
def test_the_dry_runs_planner_settings_end_with_it_inside_a_callers_transaction() -> None:
    with transaction.atomic():
        policy_dry_run(profile=cn_default(), proposed=policy_with(**PROPOSAL), now=NOW)
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_nestloop")
            assert cursor.fetchone()[0] == "on"
