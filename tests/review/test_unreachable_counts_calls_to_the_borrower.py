"""Rule 2 ("the borrower cannot be reached") counts unanswered calls to the borrower, never calls to a contact."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from collections_app.models import Interaction
from review.selectors import eligibility_evaluate
from tests.factories import make_account, make_contact
from tests.review.conftest import make_family_template

pytestmark = pytest.mark.django_db


def rule_2(account, contact, template) -> bool:
    evaluation, _preview, _version = eligibility_evaluate(
        account=account, contact=contact, template_version=template.current_version
    )
    return evaluation.results[1].passed


def test_unanswered_calls_to_a_contact_do_not_make_the_borrower_unreachable(officer: User) -> None:
    account = make_account(officer, dpd=45)
    sister = make_contact(account.borrower)
    template = make_family_template()
    now = timezone.now()

    def unanswered(contact=None) -> None:
        for days_ago in (1, 1, 3, 5, 5):
            Interaction.objects.create(
                account=account,
                officer=officer,
                contact=contact,
                outcome=Interaction.Outcome.NO_ANSWER,
                occurred_at=now - datetime.timedelta(days=days_ago, hours=1),
            )

    unanswered(sister)
    assert not rule_2(account, sister, template)
    unanswered()
    assert rule_2(account, sister, template)
