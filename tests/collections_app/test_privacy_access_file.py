"""The access file of a fulfilled access request: the person's data and their access report in one JSON download,
for auditors only, never on screen, each download recorded first as a reveal with purpose data_subject_access."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from collections_app.models import DataSubjectRequest, Interaction, Message
from collections_app.services.complaints import complaint_file
from collections_app.services.privacy import privacy_request_decide, privacy_request_file
from tests.collections_app.messaging.messaging_support import family_version
from tests.conftest import signed_in
from tests.factories import make_account, make_borrower, make_contact, make_payment

pytestmark = pytest.mark.django_db

BORROWER_NAME = "鼹鼷廿卅"
BORROWER_PHONE = "+8613971829364"
CONTACT_NAME = "鸊鷉丙丁"
CONTACT_PHONE = "+8615862937415"
FAMILY_BODY = "您好，请转告您的家人尽快与我们联系。回复TD退订"
BORROWER_BODY = "您的账单已到期，请及时还款。"


@pytest.fixture
def case(officer: User, approver: User):
    borrower = make_borrower(name=BORROWER_NAME, phone=BORROWER_PHONE)
    account = make_account(officer, borrower=borrower, outstanding=Decimal("4321.00"))
    contact = make_contact(borrower, name=CONTACT_NAME, phone=CONTACT_PHONE)
    make_payment(account, Decimal("100.00"), reference="PAY-CANARY-1")
    template = family_version(officer, approver)
    for audience, recipient, body, person, version in (
        (Message.Audience.BORROWER, BORROWER_PHONE, BORROWER_BODY, None, None),
        (Message.Audience.FAMILY, CONTACT_PHONE, FAMILY_BODY, contact, template),
    ):
        Message.objects.create(
            borrower=borrower,
            account=account,
            contact=person,
            audience=audience,
            channel=Message.Channel.SMS,
            recipient=recipient,
            body=body,
            idempotency_key=f"access-{audience}",
            template_version=version,
        )
    Interaction.objects.create(
        account=account,
        officer=officer,
        contact=contact,
        outcome="no_answer",
        note="借款人欠款4321元",
        occurred_at=account.updated_at,
    )
    complaint_file(
        account=account,
        officer=officer,
        complainant=f"contact:{contact.pk}",
        channel="phone",
        category="conduct",
        text="别再打给我",
    )
    # An officer reveals the contact's phone: the access report must show who, when, which field and why.
    signed_in(officer).post(
        f"/cases/{account.pk}/reveal/", {"field": f"contact.{contact.pk}.phone", "purpose": "call_contact"}
    )
    return account, contact


def _fulfilled(account, officer: User, auditor: User, subject: str) -> DataSubjectRequest:
    request = privacy_request_file(
        account=account, actor=officer, role="case_officer", subject=subject, kind="access", text="请给我一份我的数据。"
    )
    return privacy_request_decide(request=request, auditor=auditor, decision="fulfil", reason="Identity verified.")


def _download(auditor: User, request: DataSubjectRequest) -> dict:
    response = signed_in(auditor).get(f"/privacy/requests/{request.pk}/access-file/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content)


def test_a_contacts_file_holds_their_data_and_access_report_and_the_download_is_an_audited_reveal(
    case, officer: User, auditor: User
) -> None:
    account, contact = case
    request = _fulfilled(account, officer, auditor, f"contact:{contact.pk}")
    document = _download(auditor, request)
    data = document["data"]
    assert document["subject"] == {"type": "contact", "id": f"contact:{contact.pk}"}
    assert (data["contact"]["name"], data["contact"]["phone"]) == (CONTACT_NAME, CONTACT_PHONE)
    assert [m["body"] for m in data["messages"]] == [FAMILY_BODY]
    assert [c["text"] for c in data["complaints"]] == ["别再打给我"]
    assert [i["outcome"] for i in data["interactions"]] == ["no_answer"]
    # Nothing of the borrower's debt: not the account, not the officer's note, not the borrower's messages.
    raw = json.dumps(document, ensure_ascii=False)
    for value in (account.account_number, "4321", BORROWER_BODY, BORROWER_NAME, BORROWER_PHONE):
        assert value not in raw
    # The access report: the officer's reveal of the contact's phone, with its purpose.
    reveals = [row for row in document["access_report"] if row["action"] == "reveal"]
    assert [(r["actor"], r["purpose"], r["fields"]) for r in reveals] == [
        (officer.username, "call_contact", f"contact.{contact.pk}.phone")
    ]
    event = AuditEvent.objects.filter(action="reveal", actor_id=auditor.pk).get()
    assert (event.purpose, event.persons, event.object_type, event.object_id) == (
        "data_subject_access",
        [f"contact:{contact.pk}"],
        "privacyrequest",
        str(request.pk),
    )
    assert "contact.phone" in event.fields
    assert CONTACT_NAME not in str(event.detail)


def test_a_borrowers_file_holds_the_accounts_payments_and_messages(case, officer: User, auditor: User) -> None:
    account, _contact = case
    document = _download(auditor, _fulfilled(account, officer, auditor, "borrower"))
    data = document["data"]
    assert (data["borrower"]["name"], data["borrower"]["phone"]) == (BORROWER_NAME, BORROWER_PHONE)
    [listed] = data["accounts"]
    assert (listed["account_number"], listed["outstanding"]) == (account.account_number, "4321.00")
    assert [p["reference"] for p in listed["payments"]] == ["PAY-CANARY-1"]
    assert [m["body"] for m in data["messages"]] == [BORROWER_BODY]
    # The contact's messages and complaint are the contact's data, not the borrower's.
    raw = json.dumps(document, ensure_ascii=False)
    assert FAMILY_BODY not in raw and CONTACT_PHONE not in raw
    # The report names the events about the borrower: the fulfilled request among them.
    assert "privacy_request_fulfilled" in {row["action"] for row in document["access_report"]}


def test_the_file_is_never_on_screen_and_only_for_a_fulfilled_access_request(
    case, officer: User, auditor: User
) -> None:
    account, contact = case
    pending = privacy_request_file(
        account=account, actor=officer, role="case_officer", subject=f"contact:{contact.pk}", kind="access", text="副本"
    )
    client = signed_in(auditor)
    assert client.get(f"/privacy/requests/{pending.pk}/access-file/").status_code == 404
    fulfilled = _fulfilled(account, officer, auditor, f"contact:{contact.pk}")
    page = client.get(f"/privacy/requests/{fulfilled.pk}/").content.decode()
    assert f"/privacy/requests/{fulfilled.pk}/access-file/" in page
    for value in (CONTACT_NAME, CONTACT_PHONE, FAMILY_BODY):
        assert value not in page
    assert signed_in(officer).get(f"/privacy/requests/{fulfilled.pk}/access-file/").status_code == 403
    refused = privacy_request_file(
        account=account, actor=officer, role="case_officer", subject="borrower", kind="access", text="副本"
    )
    privacy_request_decide(request=refused, auditor=auditor, decision="refuse", reason="Identity not verified.")
    assert client.get(f"/privacy/requests/{refused.pk}/access-file/").status_code == 404
    assert not AuditEvent.objects.filter(action="reveal", actor_id=auditor.pk).exists()
