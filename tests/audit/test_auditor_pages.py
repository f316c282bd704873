"""The auditor's pages: filters, keyset pages, CSV export, the verify page and a person's access report."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEvent
from audit.record import audit_record
from collections_app.dpd import lender_today
from tests.audit.helpers import audit_mark, events_since
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

HEADER = "seq,occurred_at,actor,role,action,object,person,fields,purpose,outcome,request_id,ip"


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


@pytest.fixture
def some_events(officer, other_officer) -> None:
    audit_record(
        action="view", actor=officer, object_type="loanaccount", object_id=1, persons=["borrower:1"], fields=["name"]
    )
    audit_record(
        action="reveal",
        actor=officer,
        object_type="loanaccount",
        object_id=1,
        persons=["borrower:1"],
        fields=["phone"],
        purpose="call_borrower",
    )
    audit_record(
        action="view",
        actor=other_officer,
        object_type="loanaccount",
        object_id=2,
        persons=["borrower:2", "contact:9"],
        fields=["name"],
    )
    audit_record(action="update", actor=officer, object_type="=cmd|' /C calc'!A0", object_id=3)


def test_only_compliance_auditors_see_the_log_and_others_are_recorded_as_denied(officer) -> None:
    mark = audit_mark()
    for path in (
        "/audit/",
        "/audit/export.csv",
        "/audit/verify/",
        "/audit/person/borrower/1/",
        "/audit/person/borrower/1.csv",
    ):
        assert signed_in(officer).get(path).status_code == 403
    assert len(events_since(mark, action="permission_denied", actor_username="alice")) == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=alice", {"view:1", "reveal:1", "update:3"}),
        ("action=view", {"view:1", "view:2"}),
        ("person=contact:9", {"view:2"}),
        ("person=borrower:1", {"view:1", "reveal:1"}),
        ("object=loanaccount:2", {"view:2"}),
        ("actor=alice&action=reveal", {"reveal:1"}),
    ],
)
def test_the_log_filters_by_actor_action_person_and_object(auditor_client, some_events, query, expected) -> None:
    response = auditor_client.get(f"/audit/?{query}")
    assert response.status_code == 200
    shown = {f"{e.action}:{e.object_id}" for e in response.context["page"].events if e.action != "list"}
    assert shown == expected


def test_the_log_filters_by_date_range_in_the_lender_time_zone(auditor_client, some_events) -> None:
    today = lender_today()
    # Tomorrow is the last date a query may name (DOMAIN.md's date bounds).
    tomorrow = today + datetime.timedelta(days=1)
    assert (
        len(auditor_client.get(f"/audit/?from={today - datetime.timedelta(days=1)}&action=view").context["page"].events)
        == 2
    )
    assert auditor_client.get(f"/audit/?from={tomorrow}&action=view").context["page"].events == []
    assert auditor_client.get(f"/audit/?to={today - datetime.timedelta(days=2)}").context["page"].events == []


def test_a_bad_filter_answers_400_with_errors_and_lists_nothing(auditor_client, some_events) -> None:
    response = auditor_client.get("/audit/?person=borrower:abc")
    assert response.status_code == 400
    assert response.context["page"] is None and "person" in response.context["form"].errors


def test_keyset_pages_walk_the_whole_log_newest_first_without_repeats(auditor_client) -> None:
    for i in range(120):
        audit_record(action="view", object_type="loanaccount", object_id=i)
    seen: list[int] = []
    query = "/audit/?action=view"
    while True:
        page = auditor_client.get(query).context["page"]
        seen += [event.pk for event in page.events]
        if page.next_before is None:
            break
        query = f"/audit/?action=view&before={page.next_before}"
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 120


def test_viewing_the_log_is_itself_a_list_event_with_its_filter_and_the_persons_shown(
    auditor_client, some_events
) -> None:
    mark = audit_mark()
    auditor_client.get("/audit/?person=borrower:1")
    (event,) = events_since(mark)
    assert (event.action, event.actor_username, event.role) == ("list", "dave", "compliance_auditor")
    assert event.persons == ["borrower:1"] and event.fields == []
    assert event.detail["filter"]["person"] == "borrower:1" and event.detail["rows"] == 2


def test_the_export_has_the_contract_columns_and_neutralises_formulas(auditor_client, some_events) -> None:
    response = auditor_client.get("/audit/export.csv?actor=alice")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert ",".join(rows[0]) == HEADER
    objects = [row[5] for row in rows[1:]]
    assert objects == ["loanaccount:1", "loanaccount:1", "'=cmd|' /C calc'!A0:3"]
    reveal = rows[2]
    assert reveal[4] == "reveal" and reveal[6] == "borrower:1" and reveal[7] == "phone" and reveal[8] == "call_borrower"


def test_the_export_is_an_event_recording_filter_bounds_and_row_count(auditor_client, some_events) -> None:
    matching = list(AuditEvent.objects.filter(actor_username="alice").order_by("id").values_list("id", flat=True))
    mark = audit_mark()
    rows = csv_rows(auditor_client.get("/audit/export.csv?actor=alice"))
    (event,) = events_since(mark)
    assert event.action == "export"
    assert event.detail["filter"]["actor"] == "alice"
    assert event.detail["bounds"] == {"first_id": matching[0], "last_id": matching[-1]}
    assert event.detail["rows"] == len(rows) - 1 == 3
    assert event.persons == []  # the export records its filter and bounds, not every row


def test_the_access_report_lists_every_access_to_one_person_with_fields_and_purpose(
    auditor_client, some_events
) -> None:
    mark = audit_mark()
    response = auditor_client.get("/audit/person/borrower/1/")
    assert response.status_code == 200
    assert [e.action for e in response.context["page"].events] == ["reveal", "view"]
    (event,) = events_since(mark)
    assert (event.action, event.object_type, event.object_id, event.persons) == (
        "list",
        "borrower",
        "1",
        ["borrower:1"],
    )
    rows = csv_rows(auditor_client.get("/audit/person/contact/9.csv"))
    assert ",".join(rows[0]) == HEADER
    assert [(row[2], row[4], row[7]) for row in rows[1:]] == [("bob", "view", "name")]
    export = events_since(mark, action="export")[0]
    assert (export.object_type, export.object_id, export.detail["rows"]) == ("contact", "9", 1)


def test_the_verify_page_shows_the_last_run_and_when(auditor_client, audit_keys) -> None:
    assert "verify_audit" in auditor_client.get("/audit/verify/").content.decode()
    audit_record(action="view")
    call_command("audit_checkpoint")
    call_command("verify_audit")
    response = auditor_client.get("/audit/verify/")
    # Sealed: the auditor's role grant (the database's group trigger records it), their login, their first look
    # at this page, the event above and the seal's own event.
    assert response.context["run"].ok and response.context["run"].events_checked == 5
    assert 'id="verification-result"' in response.content.decode()
