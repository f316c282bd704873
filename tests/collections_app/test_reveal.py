"""The reveal: a full value for a stated purpose, never cached, always its own audit event."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import override

from audit.models import AuditEvent
from collections_app.account_rules import (
    REVEALABLE_KINDS,
    reveal_purpose_refusal,
    reveal_purposes_checked,
    reveal_purposes_for,
    reveal_target_parse,
)
from collections_app.models import PolicyProfile
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.accounts import personal_value_reveal
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


# --- purposes per field (issue 17) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "purpose"),
    [
        ("borrower.id_number", "call_contact"),
        ("borrower.id_number", "call_borrower"),
        ("borrower.phone", "call_contact"),
        ("contact.{contact}.phone", "verify_identity"),
        ("contact.{contact}.name", "call_borrower"),
    ],
)
def test_a_purpose_that_does_not_fit_the_field_is_refused(officer: User, field: str, purpose: str) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    field = field.format(contact=contact.pk)
    response = signed_in(officer).post(f"/cases/{account.pk}/reveal/", {"field": field, "purpose": purpose})
    assert response.status_code == 400
    target = reveal_target_parse(field)
    with override("zh-hans"):
        expected = reveal_purpose_refusal(policy=policy_version_for_account(account), target=target, purpose=purpose)
    assert response.json()["error"] == expected
    body = response.content.decode()
    assert account.borrower.id_number not in body and account.borrower.phone not in body and contact.phone not in body
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_the_reveal_service_refuses_a_purpose_that_does_not_fit_the_field(officer: User) -> None:
    account = make_account(officer)
    with pytest.raises(ValidationError) as refused:
        personal_value_reveal(
            account=account,
            person=account.borrower,
            target=reveal_target_parse("borrower.id_number"),
            purpose="call_contact",
            actor=officer,
        )
    assert "purpose" in refused.value.error_dict
    assert not AuditEvent.objects.filter(action="reveal").exists()


@pytest.mark.parametrize("purpose", ["verify_identity", "legal_request", "complaint"])
def test_the_id_number_is_revealed_for_the_purposes_that_fit_it(officer: User, purpose: str) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/reveal/", {"field": "borrower.id_number", "purpose": purpose}
    )
    assert response.status_code == 200 and response.json()["value"] == account.borrower.id_number
    assert AuditEvent.objects.get(action="reveal").purpose == purpose


def test_the_account_page_offers_each_field_only_the_purposes_that_fit_it(officer: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    content = signed_in(officer).get(f"/cases/{account.pk}/").content.decode()
    forms = {
        match[1]: set(re.findall(r'<option value="(\w+)"', match[2]))
        for match in re.finditer(r'name="field" value="([\w.]+)">(.*?)</form>', content, re.DOTALL)
    }
    allowed = reveal_purposes_for(policy_version_for_account(account))
    assert forms["borrower.id_number"] == allowed["borrower.id_number"]
    assert "call_contact" not in forms["borrower.id_number"]
    assert forms[f"contact.{contact.pk}.phone"] == allowed["contact.phone"]


def test_the_purposes_are_checked_when_they_are_set() -> None:
    complete = {kind: {"complaint"} for kind in REVEALABLE_KINDS}
    assert reveal_purposes_checked(complete)["borrower.id_number"] == frozenset({"complaint"})
    for broken in (
        {kind: v for kind, v in complete.items() if kind != "contact.phone"},  # a field left out
        complete | {"borrower.email": {"complaint"}},  # a field that cannot be revealed
        complete | {"borrower.id_number": {"curiosity"}},  # an unknown purpose
        complete | {"borrower.id_number": set()},  # a field nobody may reveal
    ):
        with pytest.raises(ValueError):
            reveal_purposes_checked(broken)
    for profile in PolicyProfile.objects.all():
        assert set(reveal_purposes_for(profile.current_version)) == set(REVEALABLE_KINDS)
