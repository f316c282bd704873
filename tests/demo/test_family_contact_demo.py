"""The family-contact demo: DEMO-E1..E3 eligible, DEMO-N1..N4 each refused for its CONTRACT.md reason."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from collections_app.messaging.render import message_render_preview
from collections_app.models import Contact, LoanAccount, MessageTemplate, PolicyVersion, TemplateVersion
from demo import accounts as collections_demo
from demo.family_contact import seed_family_contact_demo
from review.models import ApproverAllPortfolios, FamilyContactRequest
from review.selectors import eligibility_evaluate
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> dict[str, LoanAccount]:
    collections_demo.seed_users(password=settings.DEMO_PASSWORD)
    seed_family_contact_demo()
    return {
        account.account_number: account for account in LoanAccount.objects.filter(account_number__startswith="DEMO-")
    }


def failed_rules(account: LoanAccount) -> list[set[int]]:
    """For each contact of the account, the rules that fail with the Chinese family template."""
    template = MessageTemplate.objects.get(code="family-callback-zh")
    results = []
    for contact in Contact.objects.filter(borrower=account.borrower):
        evaluation, preview, _ = eligibility_evaluate(
            account=account, contact=contact, template_version=template.current_version
        )
        assert preview.clean, preview.findings
        results.append({r.rule for r in evaluation.failed})
    return results


@pytest.mark.parametrize("number", ["DEMO-E1", "DEMO-E2", "DEMO-E3"])
def test_the_eligible_demo_accounts_are_eligible(seeded, number) -> None:
    assert seeded[number].officer.username == "officer1"
    assert set() in failed_rules(seeded[number])


@pytest.mark.parametrize("number", ["DEMO-E1", "DEMO-E2", "DEMO-E3"])
def test_the_eligible_demo_accounts_are_eligible_because_the_borrower_cannot_be_reached(seeded, number) -> None:
    # cn-default keeps only the unreachable half of rule 2: failed attempts, never a refusal or broken promises.
    account = seeded[number]
    template = MessageTemplate.objects.get(code="family-callback-zh")
    contact = Contact.objects.filter(borrower=account.borrower).first()
    evaluation, _, version = eligibility_evaluate(
        account=account, contact=contact, template_version=template.current_version
    )
    rule_2 = evaluation.results[1]
    assert version.family_only_when_unreachable and rule_2.passed and rule_2.numbers["only_unreachable"]
    assert rule_2.numbers["failed_attempts"] >= version.failed_attempts_min
    assert rule_2.numbers["failed_attempt_days"] >= version.failed_attempt_days_min


@pytest.mark.parametrize(("number", "rule"), [("DEMO-N1", 1), ("DEMO-N2", 3), ("DEMO-N3", 4), ("DEMO-N4", 3)])
def test_each_ineligible_demo_account_fails_only_its_rule(seeded, number, rule) -> None:
    assert seeded[number].officer.username == "officer1"
    assert failed_rules(seeded[number]) == [{rule}]


def test_the_family_templates_are_approved_by_someone_other_than_their_author(seeded) -> None:
    for code in ("family-callback-zh", "family-callback-en"):
        version = MessageTemplate.objects.get(code=code).current_version
        assert version.is_approved and version.approved_by.username == "approver2"
        assert version.created_by.username == "admin"


def test_seeding_twice_changes_nothing(seeded) -> None:
    counted = (LoanAccount, Contact, MessageTemplate, TemplateVersion, FamilyContactRequest, ApproverAllPortfolios)
    before = [model.objects.count() for model in counted]
    seed_family_contact_demo()
    assert [model.objects.count() for model in counted] == before


@pytest.mark.parametrize(
    ("code", "line"), [("family-callback-zh", "回复TD退订"), ("family-callback-en", "Reply STOP to opt out")]
)
def test_each_demo_family_message_ends_with_the_opt_out_line_of_its_language(seeded, code, line) -> None:
    text = message_render_preview(
        template_version=MessageTemplate.objects.get(code=code).current_version,
        borrower=seeded["DEMO-E1"].borrower,
        policy_version=PolicyVersion.objects.filter(profile__code="cn-default").order_by("-version").first(),
    )
    assert text.endswith(line)
    # The contact learns only that we could not reach someone who gave their number, never that that person
    # asked for anything or is family.
    assert "asked" not in text and "family" not in text and "亲友" not in text


def test_each_approver_finds_officer2s_request_and_a_template_version_waiting(seeded) -> None:
    waiting = FamilyContactRequest.objects.get(status="submitted")
    assert waiting.requested_by.username == "officer2" and waiting.account.account_number == "FAM-Q1"
    assert waiting.account.officer.username == "officer2"
    version = TemplateVersion.objects.get(template__code="family-callback-zh-short", approved_at__isnull=True)
    assert version.version == 2 and version.created_by.username == "admin"
    for username in ("approver1", "approver2"):
        client = signed_in(User.objects.get(username=username))
        assert client.get("/review/").context["data"].total == 1, username
        page = client.get("/review/templates/")
        assert [review.version for review, _form in page.context["rows"]] == [version], username
        assert f"/review/templates/{version.pk}/decide/" in page.content.decode()
