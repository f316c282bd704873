"""Every admin page that shows personal or audit data is audited; a search leaves its shape, never its value."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User

from audit.admin_mixins import AuditedAdmin, search_kind
from audit.record import audit_record, person_key
from tests.audit.helpers import audit_mark, event_text, events_since
from tests.conftest import signed_in
from tests.factories import make_account, make_borrower

pytestmark = pytest.mark.django_db

PHONE = "+8613971829364"
ID_NUMBER = "11010519491231002X"

# The admins that show neither personal nor audit data (configuration and role names), each with its reason.
NOT_AUDITED = {
    "auth.Group": "role names and their permissions",
    "collections_app.Portfolio": "portfolio codes and names",
    "collections_app.MessageTemplate": "template codes and names",
    "collections_app.TemplateVersion": "template texts, with placeholders, never a person's value",
    "collections_app.PolicyProfile": "policy profile codes",
    "collections_app.PolicyVersion": "policy numbers",
}


def test_every_admin_is_audited_unless_it_shows_no_personal_or_audit_data() -> None:
    registered = {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}
    unaudited = {label for label, model_admin in registered.items() if not isinstance(model_admin, AuditedAdmin)}
    assert unaudited == set(NOT_AUDITED)
    for label in ("review.FamilyContactRequest", "audit.AuditEvent", "collections_app.CallTask", "auth.User"):
        assert isinstance(registered[label], AuditedAdmin), label


@pytest.mark.parametrize(
    ("term", "kind"),
    [
        (PHONE, "phone"),
        ("13971829364", "phone"),
        ("139 7182 9364", "phone"),
        ("+1 (202) 555-0142", "phone"),
        (ID_NUMBER, "id_number"),
        ("110105491231002", "id_number"),
        ("DEMO-E1", "text"),
        ("王", "text"),
    ],
)
def test_a_search_term_is_reduced_to_its_shape(term: str, kind: str) -> None:
    assert search_kind(term) == kind


@pytest.mark.parametrize(("term", "kind"), [(PHONE, "phone"), (ID_NUMBER, "id_number")])
def test_an_admin_search_by_phone_or_id_number_records_the_search_never_the_value(
    admin_user: User, officer: User, term: str, kind: str
) -> None:
    borrower = make_borrower(phone=PHONE, id_number=ID_NUMBER)
    make_account(officer, borrower=borrower)
    client = signed_in(admin_user)
    mark = audit_mark()
    response = client.get("/admin/collections_app/borrower/", {"q": term})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    (event,) = events_since(mark)
    assert event.action == "list" and event.detail["search"] == kind
    assert event.persons == [person_key("borrower", borrower.pk)]
    text = event_text(event)
    for fragment in (term, term[-8:], term.removeprefix("+86")):
        assert fragment not in text


def test_a_list_without_a_search_records_none(admin_user: User) -> None:
    client = signed_in(admin_user)
    mark = audit_mark()
    assert client.get("/admin/collections_app/borrower/").status_code == 200
    (event,) = events_since(mark)
    assert "search" not in event.detail


@pytest.mark.parametrize(
    "url",
    [
        "/admin/audit/auditevent/",
        "/admin/audit/chainentry/",
        "/admin/audit/verificationrun/",
        "/admin/collections_app/calltask/",
        "/admin/review/familycontactrequest/",
        "/admin/auth/user/",
    ],
)
def test_reading_audit_and_personal_data_in_the_admin_is_an_event(admin_user: User, url: str) -> None:
    client = signed_in(admin_user)
    mark = audit_mark()
    assert client.get(url, {"q": "13971829364"}).status_code == 200
    (event,) = events_since(mark)
    assert (event.action, event.actor_id, event.role) == ("list", admin_user.pk, "admin")
    assert event.detail["search"] == "phone" and "13971829364" not in event_text(event)


def test_an_audit_events_page_is_an_event_naming_its_persons(admin_user: User, officer: User) -> None:
    borrower = make_borrower()
    seen = audit_record(action="view", actor=officer, persons=[person_key("borrower", borrower.pk)])
    client = signed_in(admin_user)
    mark = audit_mark()
    assert client.get(f"/admin/audit/auditevent/{seen.pk}/change/").status_code == 200
    (event,) = events_since(mark)
    assert (event.action, event.object_type, event.object_id) == ("view", "auditevent", str(seen.pk))
    assert event.persons == [person_key("borrower", borrower.pk)]
