"""The reveal: a full value for a stated purpose, never cached, always its own audit event."""

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "attribute"),
    [("borrower.name", "name"), ("borrower.phone", "phone"), ("borrower.id_number", "id_number")],
)
def test_revealing_a_borrower_field_answers_the_value_and_is_audited(officer: User, field: str, attribute: str) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/reveal/", {"field": field, "purpose": "verify_identity"})
    assert response.status_code == 200
    assert response.json() == {"field": field, "value": getattr(account.borrower, attribute)}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="reveal")
    assert event.fields == [field]
    assert event.purpose == "verify_identity"
    assert event.persons == [f"borrower:{account.borrower_id}"]
    assert event.actor_username == "alice" and event.role == "case_officer"
    assert event.object_type == "loanaccount" and event.object_id == str(account.pk)
    # The log names the field, never the value.
    assert getattr(account.borrower, attribute) not in str(event.detail)


def test_revealing_a_contact_phone_names_the_contact(officer: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    field = f"contact.{contact.pk}.phone"
    response = signed_in(officer).post(f"/cases/{account.pk}/reveal/", {"field": field, "purpose": "call_contact"})
    assert response.status_code == 200
    assert response.json()["value"] == contact.phone
    event = AuditEvent.objects.get(action="reveal")
    assert event.persons == [f"contact:{contact.pk}"]
    assert event.fields == [field]


def test_the_account_page_form_gets_an_html_answer(officer: User) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/reveal/", {"field": "borrower.name", "purpose": "call_borrower", "format": "html"}
    )
    assert response.status_code == 200
    assert account.borrower.name in response.content.decode()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "data",
    [
        {"field": "borrower.email", "purpose": "call_borrower"},
        {"field": "borrower.name", "purpose": "curiosity"},
        {"field": "borrower.name"},
        {"purpose": "call_borrower"},
        {"field": "contact.x.phone", "purpose": "call_contact"},
        {"field": "contact.1.id_number", "purpose": "call_contact"},
        {"field": "contact.999999.phone", "purpose": "call_contact"},
    ],
)
def test_bad_field_or_purpose_is_400_with_a_message_and_no_reveal(officer: User, data: dict[str, str]) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/reveal/", data)
    assert response.status_code == 400
    assert response.json()["error"]
    assert account.borrower.name not in response.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_reveal_answers_only_post(officer: User) -> None:
    account = make_account(officer)
    assert signed_in(officer).get(f"/cases/{account.pk}/reveal/").status_code == 405


def test_the_account_page_offers_a_reveal_form_for_each_masked_value(officer: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    content = signed_in(officer).get(f"/cases/{account.pk}/").content.decode()
    for field in ("borrower.name", "borrower.phone", "borrower.id_number", f"contact.{contact.pk}.name"):
        assert f'name="field" value="{field}"' in content
    assert f'action="/cases/{account.pk}/reveal/"' in content


def test_reveal_fails_closed_when_the_audit_log_cannot_be_written(officer: User, monkeypatch) -> None:
    from audit import record

    account = make_account(officer)
    client = signed_in(officer)

    def broken(**kwargs: object) -> None:
        raise record.AuditWriteError("disk full")

    monkeypatch.setattr("collections_app.services.accounts.audit_record", broken)
    response = client.post(f"/cases/{account.pk}/reveal/", {"field": "borrower.phone", "purpose": "call_borrower"})
    assert response.status_code == 503
    assert account.borrower.phone not in response.content.decode()
