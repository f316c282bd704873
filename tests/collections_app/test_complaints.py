"""The complaint register: filing and each status step audited, the caseload scope, the deadline from the profile,
overdue complaints first, a contact's unwanted-contact complaint opting their number out, bad input refused."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.messaging.outbox import message_enqueue
from collections_app.models import Complaint, PhoneOptOut, PolicyVersion
from collections_app.services.complaints import complaint_advance, complaint_file
from tests.collections_app.messaging.messaging_support import DAYTIME, family_version, policy
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_portfolio

pytestmark = pytest.mark.django_db

WORDS = "他们每天打我电话三次，我不是借款人。canary-words-91"


def _file(officer: User, account, complainant: str = "borrower", category: str = "conduct", **kw) -> Complaint:
    return complaint_file(
        account=account,
        officer=officer,
        complainant=complainant,
        channel="phone",
        category=category,
        text=WORDS,
        **kw,
    )


def test_filing_from_the_form_records_the_complaint_and_audits_it_without_the_words(officer: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    client = signed_in(officer)
    assert client.get(f"/complaints/new/?account={account.pk}").status_code == 200
    # The form shows the contacts' masked names to choose from: its one view event names the people.
    shown = AuditEvent.objects.get(action="view", object_type="loanaccount")
    assert sorted(shown.persons) == sorted([f"borrower:{account.borrower_id}", f"contact:{contact.pk}"])
    response = client.post(
        "/complaints/new/",
        {
            "account": account.pk,
            "complainant": f"contact:{contact.pk}",
            "channel": "letter",
            "category": "conduct",
            "text": WORDS,
        },
    )
    assert response.status_code == 303
    complaint = Complaint.objects.get()
    assert (complaint.contact, complaint.owner, complaint.status) == (contact, officer, "open")
    assert complaint.deadline == complaint.filed_at + datetime.timedelta(days=15)
    event = AuditEvent.objects.get(action="complaint_open")
    assert sorted(event.persons) == sorted([f"borrower:{account.borrower_id}", f"contact:{contact.pk}"])
    assert WORDS not in str(event.detail)
    # A conduct complaint opts nobody out.
    assert not PhoneOptOut.objects.exists()


def test_each_status_step_is_audited_and_resolving_needs_a_resolution(officer: User) -> None:
    complaint = _file(officer, make_account(officer))
    client = signed_in(officer)
    url = f"/complaints/{complaint.pk}/advance/"
    assert client.post(url, {}).status_code == 303
    response = client.post(url, {"resolution": "  "})
    assert response.status_code == 200 and response.context["failed_form"].errors["resolution"]
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    assert client.post(url, {"resolution": "Calls stopped; apology sent."}).status_code == 303
    assert client.post(url, {}).status_code == 303
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.resolution == "Calls stopped; apology sent."
    steps = AuditEvent.objects.filter(action__startswith="complaint_").order_by("pk")
    actions = list(steps.values_list("action", flat=True))
    assert actions == ["complaint_open", "complaint_in_progress", "complaint_resolved", "complaint_closed"]
    # Closed is the end: a further step is refused on the page, and nothing is written.
    assert client.post(url, {}).status_code == 200
    assert AuditEvent.objects.filter(action__startswith="complaint_").count() == 4


def test_the_uk_deadline_is_eight_weeks() -> None:
    assert PolicyVersion.objects.filter(profile__code="uk-conc").latest("version").complaint_deadline_days == 56
    assert PolicyVersion.objects.filter(profile__code="cn-default").latest("version").complaint_deadline_days == 15
    assert PolicyVersion.objects.filter(profile__code="us-regf").latest("version").complaint_deadline_days == 15


def test_the_deadline_comes_from_the_accounts_profile(officer: User) -> None:
    account = make_account(officer, portfolio=make_portfolio("uk", profile="uk-conc"))
    complaint = _file(officer, account)
    assert complaint.deadline - complaint.filed_at == datetime.timedelta(days=56)


def test_another_officers_account_and_complaint_are_404_and_audited(officer: User, other_officer: User) -> None:
    foreign = make_account(other_officer)
    complaint = _file(other_officer, foreign)
    client = signed_in(officer)
    assert client.get(f"/complaints/new/?account={foreign.pk}").status_code == 404
    response = client.post(
        "/complaints/new/",
        {"account": foreign.pk, "complainant": "borrower", "channel": "sms", "category": "other", "text": "x"},
    )
    assert response.status_code == 404
    assert client.post(f"/complaints/{complaint.pk}/advance/", {}).status_code == 404
    assert AuditEvent.objects.filter(action="permission_denied", actor_id=officer.pk).count() == 3
    assert Complaint.objects.count() == 1 and Complaint.objects.get().status == "open"
    assert WORDS not in client.get("/complaints/").content.decode()


@time_machine.travel(DAYTIME, tick=False)
def test_a_contacts_unwanted_contact_complaint_suppresses_that_numbers_queued_family_message(
    officer: User, approver: User
) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    message = message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience="family",
        channel="sms",
        template_version=family_version(officer, approver),
        policy_version=policy(),
        idempotency_key="complaint-f1",
    )
    assert message.status == "queued"
    response = signed_in(officer).post(
        "/complaints/new/",
        {
            "account": account.pk,
            "complainant": f"contact:{contact.pk}",
            "channel": "phone",
            "category": "unwanted_contact",
            "text": WORDS,
        },
    )
    assert response.status_code == 303
    message.refresh_from_db()
    assert (message.status, message.status_reason) == ("suppressed", "opted_out")
    assert PhoneOptOut.objects.filter(phone=contact.phone, recorded_by=officer).exists()
    assert AuditEvent.objects.filter(action="opt_out").count() == 1


def test_the_borrowers_unwanted_contact_complaint_opts_no_contact_out(officer: User) -> None:
    account = make_account(officer)
    make_contact(account.borrower)
    _file(officer, account, category="unwanted_contact")
    assert not PhoneOptOut.objects.exists()


def test_overdue_complaints_come_first_and_stand_out_on_the_list_and_the_account_page(officer: User) -> None:
    account = make_account(officer)
    now = timezone.now()
    on_time = _file(officer, account, now=now - datetime.timedelta(days=1))
    overdue = _file(officer, account, now=now - datetime.timedelta(days=20))
    late_but_resolved = _file(officer, account, now=now - datetime.timedelta(days=30))
    complaint_advance(complaint=late_but_resolved, officer=officer)
    complaint_advance(complaint=late_but_resolved, officer=officer, resolution="Refund made.")
    client = signed_in(officer)
    listed = client.get("/complaints/").context["complaints"]
    assert [c.pk for c in listed][0] == overdue.pk
    assert {c.pk: c.overdue for c in listed} == {overdue.pk: True, on_time.pk: False, late_but_resolved.pk: False}
    page = client.get(f"/cases/{account.pk}/")
    assert [c.pk for c in page.context["complaints"]][0] == overdue.pk
    assert page.content.decode().count('class="complaint overdue"') == 1
    listing = AuditEvent.objects.filter(action="list", object_type="complaint").latest("pk")
    assert listing.persons == [f"borrower:{account.borrower_id}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("complainant", "contact:999999"),
        ("complainant", "lawyer"),
        ("channel", "fax"),
        ("category", "weather"),
        ("text", ""),
        ("text", "字" * 4001),
    ],
)
def test_bad_input_answers_200_with_field_errors_and_writes_nothing(officer: User, field: str, value: str) -> None:
    account = make_account(officer)
    data = {"account": account.pk, "complainant": "borrower", "channel": "sms", "category": "amount", "text": WORDS}
    response = signed_in(officer).post("/complaints/new/", data | {field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Complaint.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="complaint_").exists()


def test_the_database_holds_the_status_and_the_resolution(officer: User) -> None:
    complaint = _file(officer, make_account(officer))
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(status="resolved", resolved_at=timezone.now())
