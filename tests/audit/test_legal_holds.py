"""Legal holds: auditors set and lift them (each an audit event naming the person), the tables are append-only,
and the standing holds are what a detach of a month must respect."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from audit.models import LegalHold, LegalHoldLift
from audit.selectors import held_persons
from tests.audit.conftest import refused
from tests.audit.helpers import audit_mark, events_since
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

REASON = "Court order 2026-117: keep every record of this person."


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


def set_hold(client: Client, person: str = "borrower:7", reason: str = REASON):
    return client.post("/audit/holds/", {"person": person, "reason": reason})


def test_an_auditor_sets_a_hold_on_a_person_with_a_reason_and_it_is_recorded(auditor, auditor_client) -> None:
    mark = audit_mark()
    response = set_hold(auditor_client)
    assert (response.status_code, response["Location"]) == (302, "/audit/holds/")
    hold = LegalHold.objects.get()
    assert (hold.person, hold.reason, hold.set_by) == ("borrower:7", REASON, auditor.username)
    (event,) = events_since(mark)
    assert (event.action, event.role, event.object_type, event.object_id, event.persons) == (
        "legal_hold_set",
        "compliance_auditor",
        "legalhold",
        str(hold.pk),
        ["borrower:7"],
    )
    assert REASON not in str(event.detail)  # the reason stays on the hold; the log holds no free text
    assert held_persons() == {"borrower:7"}


@pytest.mark.parametrize(
    ("person", "reason"),
    [("borrower:x", REASON), ("account:7", REASON), ("contact:3", "too short"), ("", REASON), ("contact:3", "")],
)
def test_a_bad_person_or_reason_is_a_field_error_and_sets_nothing(auditor_client, person: str, reason: str) -> None:
    mark = audit_mark()
    response = set_hold(auditor_client, person, reason)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not LegalHold.objects.exists()
    assert not events_since(mark, action="legal_hold_set")


def test_an_auditor_lifts_a_standing_hold_once(auditor, auditor_client) -> None:
    set_hold(auditor_client)
    set_hold(auditor_client, "contact:3")
    hold = LegalHold.objects.get(person="borrower:7")
    mark = audit_mark()
    response = auditor_client.post("/audit/holds/lift/", {"hold": hold.pk, "reason": "The court order was withdrawn."})
    assert response.status_code == 302
    lift = LegalHoldLift.objects.get(hold=hold)
    assert (lift.lifted_by, lift.reason) == (auditor.username, "The court order was withdrawn.")
    (event,) = events_since(mark)
    assert (event.action, event.object_id, event.persons) == ("legal_hold_lifted", str(hold.pk), ["borrower:7"])
    assert held_persons() == {"contact:3"}
    # Lifted already: 409 and nothing new; an unknown hold: 404.
    mark = audit_mark()
    again = auditor_client.post("/audit/holds/lift/", {"hold": hold.pk, "reason": "Lifting it a second time."})
    assert again.status_code == 409
    assert LegalHoldLift.objects.count() == 1 and not events_since(mark, action="legal_hold_lifted")
    unknown = auditor_client.post("/audit/holds/lift/", {"hold": 999_999, "reason": "No such hold here."})
    assert unknown.status_code == 404


def test_the_page_lists_standing_and_lifted_holds_and_is_audited_with_the_persons_shown(auditor_client) -> None:
    set_hold(auditor_client)
    set_hold(auditor_client, "contact:3")
    auditor_client.post(
        "/audit/holds/lift/", {"hold": LegalHold.objects.get(person="contact:3").pk, "reason": "Matter closed now."}
    )
    mark = audit_mark()
    response = auditor_client.get("/audit/holds/")
    assert [hold.person for hold in response.context["standing"]] == ["borrower:7"]
    assert [hold.person for hold in response.context["lifted"]] == ["contact:3"]
    (event,) = events_since(mark)
    assert (event.action, event.object_type, event.persons) == ("list", "legalhold", ["borrower:7", "contact:3"])


def test_only_auditors_see_set_or_lift_holds_and_refusals_are_recorded(officer) -> None:
    client = signed_in(officer)
    mark = audit_mark()
    assert client.get("/audit/holds/").status_code == 403
    assert set_hold(client).status_code == 403
    assert client.post("/audit/holds/lift/", {"hold": 1, "reason": "Not mine to lift at all."}).status_code == 403
    assert [event.action for event in events_since(mark)] == ["permission_denied"] * 3
    assert not LegalHold.objects.exists()


def test_holds_and_lifts_are_append_only(auditor_client) -> None:
    set_hold(auditor_client)
    hold = LegalHold.objects.get()
    assert refused("UPDATE audit_legalhold SET person = 'borrower:8'")
    assert refused("DELETE FROM audit_legalhold")
    LegalHoldLift.objects.create(hold=hold, reason="Lifted in the test.", lifted_by="dave")
    assert refused("UPDATE audit_legalholdlift SET reason = 'changed'")
    assert refused("DELETE FROM audit_legalholdlift")
    with pytest.raises(IntegrityError), transaction.atomic():
        LegalHoldLift.objects.create(hold=hold, reason="A second lift of it.", lifted_by="dave")


@pytest.mark.postgresql_only
def test_the_hold_tables_cannot_be_truncated() -> None:
    assert refused("TRUNCATE audit_legalhold, audit_legalholdlift")
