"""Correction requests: the app corrects what it relies on (a contact's name, relationship, time zone) and forwards
every corrected field to the core lending system, which alone changes core data (names, ID numbers, balances,
phones); each forwarded correction is recorded and handed over once, after commit (`CORE_LENDING_CORRECTIONS`)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from collections_app.models import CoreCorrection, DataSubjectRequest
from collections_app.privacy.core_lending import core_corrections_forward
from collections_app.services.privacy import privacy_request_decide
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db

NEW_NAME = "王新名"
NEW_ID = "11010519491231002X"


def _file(client, account, subject: str, **values: str):
    data = {"account": account.pk, "subject": subject, "kind": "correction", "text": "我的信息登记错了。"}
    return client.post("/privacy/requests/new/", data | values)


def _fulfil(auditor: User, request: DataSubjectRequest, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(auditor).post(
            f"/privacy/requests/{request.pk}/decide/", {"decision": "fulfil", "reason": "Checked against the file."}
        )
    assert response.status_code == 303


def test_a_borrowers_core_data_is_forwarded_and_recorded_not_changed_here(
    officer: User, auditor: User, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.CORE_LENDING_CORRECTIONS = f"file:{tmp_path}"
    account = make_account(officer, outstanding=Decimal("5000.00"))
    borrower = account.borrower
    old_name, old_id = borrower.name, borrower.id_number
    response = _file(
        signed_in(officer),
        account,
        "borrower",
        new_borrower_name=NEW_NAME,
        new_borrower_id_number=NEW_ID,
        new_account_outstanding="4800",
    )
    assert response.status_code == 303
    request = DataSubjectRequest.objects.get()
    assert request.correction == {
        "borrower.name": NEW_NAME,
        "borrower.id_number": NEW_ID,
        "account.outstanding": "4800.00",
    }
    filed = AuditEvent.objects.get(action="privacy_request_received")
    assert filed.detail["fields"] == ["account.outstanding", "borrower.id_number", "borrower.name"]
    _fulfil(auditor, request, django_capture_on_commit_callbacks)
    borrower.refresh_from_db()
    account.refresh_from_db()
    assert (borrower.name, borrower.id_number, account.outstanding) == (old_name, old_id, Decimal("5000.00"))
    correction = CoreCorrection.objects.get()
    assert correction.forwarded_at is not None and correction.forwarded_to == f"file:correction-{correction.pk}.json"
    document = json.loads((tmp_path / f"correction-{correction.pk}.json").read_text())
    assert document == {
        "correction_id": correction.pk,
        "request_id": request.pk,
        "account_number": account.account_number,
        "borrower_ref": borrower.external_ref,
        "subject": "borrower",
        "contact_phone": None,
        "fields": {"borrower.name": NEW_NAME, "borrower.id_number": NEW_ID, "account.outstanding": "4800.00"},
    }
    request.refresh_from_db()
    assert request.outcome["done"] == ["forwarded_to_core"]
    assert request.outcome["core_correction_id"] == correction.pk
    # Ids and field names in the log, never the values.
    for event in AuditEvent.objects.filter(action__startswith="privacy_request_"):
        assert NEW_NAME not in json.dumps(event.detail, ensure_ascii=False) and NEW_ID not in str(event.detail)


def test_a_contacts_name_is_corrected_here_and_forwarded_and_the_phone_only_forwarded(
    officer: User, auditor: User, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.CORE_LENDING_CORRECTIONS = f"file:{tmp_path}"
    account = make_account(officer)
    contact = make_contact(account.borrower)
    old_phone = contact.phone
    response = _file(
        signed_in(officer),
        account,
        f"contact:{contact.pk}",
        new_contact_name=NEW_NAME,
        new_contact_relationship="sibling",
        new_contact_phone="+8613700000001",
    )
    assert response.status_code == 303
    _fulfil(auditor, DataSubjectRequest.objects.get(), django_capture_on_commit_callbacks)
    contact.refresh_from_db()
    assert (contact.name, contact.relationship, contact.phone) == (NEW_NAME, "sibling", old_phone)
    update = AuditEvent.objects.get(action="update", object_type="contact")
    assert (update.persons, sorted(update.fields)) == (
        [f"contact:{contact.pk}"],
        ["contact.name", "contact.relationship"],
    )
    assert NEW_NAME not in json.dumps(update.detail, ensure_ascii=False)
    [written] = tmp_path.glob("correction-*.json")
    document = json.loads(written.read_text())
    assert (document["subject"], document["contact_phone"]) == ("contact", old_phone)
    assert document["fields"] == {
        "contact.name": NEW_NAME,
        "contact.relationship": "sibling",
        "contact.phone": "+8613700000001",
    }
    outcome = DataSubjectRequest.objects.get().outcome
    assert outcome["done"] == ["corrected_in_app", "forwarded_to_core"]
    assert outcome["corrected_fields"] == ["contact.name", "contact.relationship"]


def test_a_hand_over_that_failed_is_retried_and_goes_once(
    officer: User, auditor: User, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.CORE_LENDING_CORRECTIONS = f"file:{blocked}"
    account = make_account(officer)
    assert _file(signed_in(officer), account, "borrower", new_borrower_name=NEW_NAME).status_code == 303
    _fulfil(auditor, DataSubjectRequest.objects.get(), django_capture_on_commit_callbacks)
    correction = CoreCorrection.objects.get()
    assert correction.forwarded_at is None
    settings.CORE_LENDING_CORRECTIONS = f"file:{tmp_path / 'outbox'}"
    assert core_corrections_forward() == 1
    assert core_corrections_forward() == 0
    assert (tmp_path / "outbox" / f"correction-{correction.pk}.json").exists()


def test_the_console_transport_records_where_it_went(
    officer: User, auditor: User, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CORE_LENDING_CORRECTIONS = "console"
    account = make_account(officer)
    assert _file(signed_in(officer), account, "borrower", new_borrower_phone="+8613700000002").status_code == 303
    request = DataSubjectRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_decide(request=request, auditor=auditor, decision="fulfil", reason="Verified.")
    assert CoreCorrection.objects.get().forwarded_to == "console"


@pytest.mark.parametrize(
    ("subject", "values", "field"),
    [
        ("borrower", {"new_borrower_phone": "13800000000"}, "new_borrower_phone"),
        ("borrower", {"new_borrower_id_number": "110105194912310021"}, "new_borrower_id_number"),
        ("borrower", {"new_account_outstanding": "-5"}, "new_account_outstanding"),
        ("borrower", {"new_account_outstanding": "lots"}, "new_account_outstanding"),
        ("borrower", {"new_contact_name": NEW_NAME}, "new_contact_name"),
        ("contact", {"new_borrower_name": NEW_NAME}, "new_borrower_name"),
        ("contact", {"new_contact_relationship": "landlord"}, "new_contact_relationship"),
        ("contact", {"new_contact_timezone": "Mars/Olympus"}, "new_contact_timezone"),
        ("contact", {"new_contact_name": "名" * 101}, "new_contact_name"),
        ("contact", {}, "__all__"),
    ],
)
def test_a_bad_correction_answers_200_with_the_field_error_and_writes_nothing(
    officer: User, subject: str, values: dict, field: str
) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    named = "borrower" if subject == "borrower" else f"contact:{contact.pk}"
    response = _file(signed_in(officer), account, named, **values)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not DataSubjectRequest.objects.exists()
