"""The compliance exceptions (calls logged against the contact gate): the auditors' page, its filters, paging and CSV.

The events are written here as the call-logging service writes them: action `compliance_exception`, object
`interaction:<id>`, the rules broken under `detail["rules"]` and the policy version under `profile_version`.
"""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils.translation import gettext, override

from audit.record import audit_record
from audit.selectors import PAGE_SIZE
from collections_app.dpd import lender_today
from tests.audit.helpers import audit_mark, events_since
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LOG_HEADER = "seq,occurred_at,actor,role,action,object,person,fields,purpose,outcome,request_id,ip"


def exception(officer, interaction_id: int, rules: list[str], borrower_id: int = 1) -> None:
    """One compliance exception as the call-logging service records it."""
    audit_record(
        action="compliance_exception",
        actor=officer,
        role="case_officer",
        object_type="interaction",
        object_id=interaction_id,
        persons=[f"borrower:{borrower_id}"],
        detail={"rules": rules, "profile_version": "cn-default v1"},
    )


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


@pytest.fixture
def exceptions(officer, other_officer) -> None:
    exception(officer, 11, ["outside_hours"])
    exception(officer, 12, ["outside_hours", "cap"], borrower_id=2)
    exception(other_officer, 13, ["cap"], borrower_id=3)
    # Neither is an exception, though one names a rule in its detail.
    audit_record(action="view", actor=officer, object_type="interaction", object_id=14, detail={"rules": ["cap"]})
    audit_record(action="update", actor=officer, object_type="interaction", object_id=15)


def shown(response) -> list[str]:
    return [event.object_id for event in response.context["page"].events]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_only_compliance_auditors_see_the_exceptions_and_others_are_recorded_as_denied(officer) -> None:
    mark = audit_mark()
    client = signed_in(officer)
    assert client.get("/audit/exceptions/").status_code == 403
    assert client.get("/audit/exceptions.csv").status_code == 403
    assert len(events_since(mark, action="permission_denied", actor_username="alice")) == 2
    assert Client().get("/audit/exceptions/").status_code == 302


def test_the_page_lists_only_compliance_exceptions_newest_first_with_rules_and_version(
    auditor_client, exceptions
) -> None:
    response = auditor_client.get("/audit/exceptions/")
    assert response.status_code == 200
    assert shown(response) == ["13", "12", "11"]
    content = response.content.decode()
    assert "interaction:12" in content and "<code>outside_hours</code>, <code>cap</code>" in content
    assert "cn-default v1" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rule=outside_hours", ["12", "11"]),
        ("rule=cap", ["13", "12"]),
        ("rule=stale", []),
        ("actor=bob", ["13"]),
        ("actor=alice&rule=cap", ["12"]),
        # The log's own filters do not widen the page to other actions.
        ("action=view", ["13", "12", "11"]),
    ],
)
def test_the_page_filters_by_rule_and_actor(auditor_client, exceptions, query, expected) -> None:
    assert shown(auditor_client.get(f"/audit/exceptions/?{query}")) == expected


def test_the_page_filters_by_date_range_in_the_lender_time_zone(auditor_client, exceptions) -> None:
    today = lender_today()
    yesterday = today - datetime.timedelta(days=1)
    assert shown(auditor_client.get(f"/audit/exceptions/?from={yesterday}&to={today}")) == ["13", "12", "11"]
    assert shown(auditor_client.get(f"/audit/exceptions/?to={yesterday}")) == []
    assert shown(auditor_client.get(f"/audit/exceptions/?from={today + datetime.timedelta(days=1)}")) == []


@pytest.mark.parametrize("query", ["rule=Outside Hours", "rule=" + "a" * 41, "from=2026-13-01", "from=x&to=y"])
def test_a_bad_filter_lists_nothing_and_says_why(auditor_client, exceptions, query) -> None:
    response = auditor_client.get(f"/audit/exceptions/?{query}")
    assert response.context["page"] is None and response.context["form"].errors
    assert auditor_client.get(f"/audit/exceptions.csv?{query}").status_code == 400


def test_viewing_the_exceptions_is_a_list_event_with_its_filter_and_the_persons_shown(
    auditor_client, exceptions
) -> None:
    mark = audit_mark()
    auditor_client.get("/audit/exceptions/?rule=cap")
    (event,) = events_since(mark)
    assert (event.action, event.actor_username, event.role, event.object_type) == (
        "list",
        "dave",
        "compliance_auditor",
        "auditevent",
    )
    assert event.persons == ["borrower:2", "borrower:3"]
    assert event.detail["report"] == "compliance_exceptions" and event.detail["rows"] == 2
    assert event.detail["filter"]["action"] == "compliance_exception" and event.detail["filter"]["rule"] == "cap"


def test_keyset_pages_walk_every_exception_newest_first_without_repeats(auditor_client, officer) -> None:
    for i in range(PAGE_SIZE + 5):
        exception(officer, i, ["cap"])
    first = auditor_client.get("/audit/exceptions/?rule=cap").context["page"]
    assert len(first.events) == PAGE_SIZE and first.next_before is not None
    second = auditor_client.get(f"/audit/exceptions/?rule=cap&before={first.next_before}").context["page"]
    seen = [event.pk for event in first.events + second.events]
    assert second.next_before is None
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == PAGE_SIZE + 5


def test_the_csv_has_the_log_columns_then_rules_and_version_with_the_same_filters(auditor_client, exceptions) -> None:
    response = auditor_client.get("/audit/exceptions.csv?rule=cap")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert ",".join(rows[0]) == LOG_HEADER + ",rules,profile_version"
    assert [(row[2], row[4], row[5], row[12], row[13]) for row in rows[1:]] == [
        ("alice", "compliance_exception", "interaction:12", "outside_hours;cap", "cn-default v1"),
        ("bob", "compliance_exception", "interaction:13", "cap", "cn-default v1"),
    ]


def test_the_csv_neutralises_formulas_in_the_detail(auditor_client, officer) -> None:
    audit_record(
        action="compliance_exception",
        actor=officer,
        object_type="interaction",
        object_id=1,
        detail={"rules": ["cap"], "profile_version": "=HYPERLINK(1)"},
    )
    rows = csv_rows(auditor_client.get("/audit/exceptions.csv"))
    assert rows[1][13] == "'=HYPERLINK(1)"


def test_the_csv_is_an_export_event_recording_its_filter_and_row_count(auditor_client, exceptions) -> None:
    mark = audit_mark()
    rows = csv_rows(auditor_client.get("/audit/exceptions.csv?actor=alice"))
    (event,) = events_since(mark)
    assert (event.action, event.object_type) == ("export", "auditevent")
    assert event.detail["filter"]["action"] == "compliance_exception" and event.detail["filter"]["actor"] == "alice"
    assert event.detail["rows"] == len(rows) - 1 == 2


def test_the_auditors_navigation_links_the_exceptions_and_the_compliance_inbox(auditor_client) -> None:
    content = auditor_client.get("/audit/").content.decode()
    assert 'href="/audit/exceptions/"' in content and 'href="/inbox/compliance/"' in content
    with override("zh-hans"):
        assert gettext("Compliance exceptions") in content and gettext("Compliance inbox") in content
