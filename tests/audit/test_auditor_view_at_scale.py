"""The auditor's pages at scale: an event's persons as a count with a link, and keyset pages within the months
asked for (by default the last three), so a page's query reads only those months however long the log is."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from audit.forms import months_back
from audit.record import audit_record, person_key
from tests.audit.helpers import audit_mark, event_at, events_since
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


def today() -> datetime.date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def test_months_back_counts_calendar_months_across_years() -> None:
    assert months_back(datetime.date(2026, 3, 31), 3) == datetime.date(2026, 1, 1)
    assert months_back(datetime.date(2026, 2, 10), 3) == datetime.date(2025, 12, 1)
    assert months_back(datetime.date(2026, 1, 1), 1) == datetime.date(2026, 1, 1)
    assert months_back(datetime.date(2026, 1, 15), 13) == datetime.date(2025, 1, 1)


def test_an_event_naming_fifty_borrowers_is_one_short_row_with_a_count_and_a_link(auditor_client) -> None:
    persons = [person_key("borrower", n) for n in range(1, 51)]
    event = audit_record(action="list", object_type="loanaccount", persons=persons, fields=["name"])
    mark = audit_mark()
    response = auditor_client.get("/audit/?action=list")
    page = response.content.decode()
    row = re.search(rf'<tr data-event="{event.pk}">.*?</tr>', page, re.S).group(0)
    assert "50 人" in row or "50 persons" in row
    assert f'href="/audit/?event={event.pk}"' in row
    assert "borrower:" not in row
    # The page shows no person, so its own event names none.
    (listed,) = events_since(mark)
    assert listed.persons == []


def test_the_link_opens_that_event_with_every_person_it_names_and_records_them(auditor_client) -> None:
    persons = sorted(person_key("borrower", n) for n in range(1, 51))
    event = audit_record(action="list", object_type="loanaccount", persons=persons)
    audit_record(action="view", object_type="loanaccount", object_id=1, persons=["borrower:1"])
    mark = audit_mark()
    response = auditor_client.get(f"/audit/?event={event.pk}")
    assert [shown.pk for shown in response.context["page"].events] == [event.pk]
    listed = re.search(r'<ul id="event-persons">(.*?)</ul>', response.content.decode(), re.S).group(1)
    assert sorted(re.findall(r">(borrower:\d+)</a>", listed)) == persons
    (recorded,) = events_since(mark)
    assert recorded.persons == persons and recorded.detail["filter"]["event"] == event.pk


def test_the_log_page_costs_the_same_queries_whatever_the_events_name(
    auditor_client, django_assert_max_num_queries
) -> None:
    for n in range(60):
        audit_record(action="view", persons=[person_key("borrower", k) for k in range(n)])
    auditor_client.get("/audit/")  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        response = auditor_client.get("/audit/?action=view")
    assert len(response.context["page"].events) == 50


def test_without_a_start_date_the_log_reads_the_last_three_months(auditor_client) -> None:
    start = months_back(today(), 3)
    old = event_at(start - datetime.timedelta(days=3), action="view", persons=["borrower:1"])
    recent = audit_record(action="view", persons=["borrower:1"])
    mark = audit_mark()
    response = auditor_client.get("/audit/?action=view")
    assert [event.pk for event in response.context["page"].events] == [recent.pk]
    assert response.context["window_from"] == start
    (listed,) = events_since(mark)
    assert listed.detail["filter"]["date_from"] == start.isoformat()
    # The last page of the window offers the months before it, other filters kept.
    query = response.context["earlier_query"]
    assert "action=view" in query and f"to={(start - datetime.timedelta(days=1)).isoformat()}" in query
    older = auditor_client.get(f"/audit/?{query}")
    assert [event.pk for event in older.context["page"].events] == [old.pk]
    asked = auditor_client.get(f"/audit/?action=view&from={(start - datetime.timedelta(days=10)).isoformat()}")
    assert [event.pk for event in asked.context["page"].events] == [recent.pk, old.pk]


def test_the_access_report_pages_by_keyset_within_the_months_asked_for(auditor_client) -> None:
    start = months_back(today(), 3)
    old = event_at(start - datetime.timedelta(days=40), action="view", persons=["contact:9"])
    for n in range(70):
        audit_record(action="view", object_type="loanaccount", object_id=n, persons=["contact:9"])
    seen: list[int] = []
    query = "/audit/person/contact/9/"
    while True:
        response = auditor_client.get(query)
        page = response.context["page"]
        seen += [event.pk for event in page.events]
        if page.next_before is None:
            break
        query = f"/audit/person/contact/9/?before={page.next_before}"
    assert len(seen) == len(set(seen)) == 70 and seen == sorted(seen, reverse=True)
    assert old.pk not in seen
    assert response.context["earlier_query"]
    since = (start - datetime.timedelta(days=60)).isoformat()
    until = (start - datetime.timedelta(days=1)).isoformat()
    earlier = auditor_client.get(f"/audit/person/contact/9/?from={since}&to={until}")
    assert [event.pk for event in earlier.context["page"].events] == [old.pk]
