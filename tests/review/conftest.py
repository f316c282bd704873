"""Fixtures for family-contact tests: an approved family template and an account that is eligible."""

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from access.roles import RISK_APPROVER
from collections_app.models import Contact, Interaction, LoanAccount, Message, MessageTemplate, TemplateVersion
from review.models import FamilyContactRequest
from review.services import family_contact_request_submit
from tests.factories import make_account, make_contact, make_user

FAMILY_BODY = "您好，这里是客服中心。您的一位亲友近期与我们失去联系，烦请转告其尽快致电95188与我们联系，谢谢。"


def make_family_template(code: str = "family-test", body: str = FAMILY_BODY) -> MessageTemplate:
    """An approved family SMS template (written by one user, approved by another approver)."""
    author, _ = User.objects.get_or_create(username="template-author")
    checker = User.objects.filter(username="template-approver").first() or make_user("template-approver", RISK_APPROVER)
    template = MessageTemplate.objects.create(
        code=code, audience=Message.Audience.FAMILY, channel=Message.Channel.SMS, name=code
    )
    TemplateVersion.objects.create(
        template=template, version=1, body=body, created_by=author, approved_by=checker, approved_at=timezone.now()
    )
    return template


def add_failed_attempts(account: LoanAccount, officer: User, now: datetime.datetime | None = None) -> None:
    """Five unanswered calls on three days in the last week: rule 2 holds."""
    now = now or timezone.now()
    for days_ago in (1, 1, 3, 5, 5):
        Interaction.objects.create(
            account=account,
            officer=officer,
            outcome=Interaction.Outcome.NO_ANSWER,
            occurred_at=now - datetime.timedelta(days=days_ago, hours=1),
        )


@dataclass
class Case:
    """An eligible account of the officer with one consenting family contact."""

    account: LoanAccount
    contact: Contact
    template: MessageTemplate


@pytest.fixture
def family_template(db: None) -> MessageTemplate:
    return make_family_template()


@pytest.fixture
def case(officer: User, family_template: MessageTemplate) -> Case:
    account = make_account(officer, dpd=45)
    contact = make_contact(account.borrower)
    add_failed_attempts(account, officer)
    return Case(account=account, contact=contact, template=family_template)


def file_request(officer: User, case: Case, **extra: object) -> FamilyContactRequest:
    """File an eligible request through the service."""
    return family_contact_request_submit(
        account=case.account,
        contact=case.contact,
        template=case.template,
        justification="Five unanswered calls this week; family contact needed.",
        requested_by=officer,
        **extra,
    )


@pytest.fixture
def submitted(officer: User, case: Case) -> FamilyContactRequest:
    return file_request(officer, case)


@pytest.fixture
def second_approver(db: None) -> User:
    return make_user("erin", RISK_APPROVER)
