"""The log's query dates run from 2000-01-01 to tomorrow and its cursor stays a bigint: anything else is a 400
with the field's error, never a 500, and `/audit/?to=9999-12-31` (once a 500) is one of them."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.test import Client

from audit.bounds import EARLIEST_DATE, latest_query_date, query_date_error, reported_moment_error
from audit.record import audit_record
from collections_app.dpd import lender_today
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


def test_the_log_answers_400_to_a_to_date_of_9999_12_31(auditor_client: Client) -> None:
    response = auditor_client.get("/audit/?to=9999-12-31")
    assert response.status_code == 400
    assert "to" in response.context["form"].errors
    assert response.context["page"] is None


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=9999-12-31",
        "from=0001-01-01",
        "to=1999-12-31",
        "before=9223372036854775808",
        "before=0",
        "before=" + "9" * 5000,
    ],
)
def test_a_query_out_of_bounds_answers_400_on_the_log_and_its_export(auditor_client: Client, path, query) -> None:
    assert auditor_client.get(f"{path}?{query}").status_code == 400


def test_the_bounds_themselves_are_accepted(auditor_client: Client) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    tomorrow = lender_today() + datetime.timedelta(days=1)
    response = auditor_client.get(f"/audit/?from=2000-01-01&to={tomorrow.isoformat()}&before=9223372036854775807")
    assert response.status_code == 200
    assert [event.object_id for event in response.context["page"].events if event.action == "view"] == ["1"]


def test_the_access_report_answers_400_to_a_cursor_out_of_bounds_and_404_to_an_id_no_database_holds(
    auditor_client: Client,
) -> None:
    assert auditor_client.get("/audit/person/borrower/1/?before=-1").status_code == 400
    assert auditor_client.get("/audit/person/borrower/1/?before=9223372036854775808").status_code == 400
    assert auditor_client.get("/audit/person/borrower/9223372036854775808/").status_code == 404
    assert auditor_client.get("/audit/person/contact/" + "9" * 5000 + ".csv").status_code == 404
    assert auditor_client.get("/audit/person/borrower/1/").status_code == 200


def test_tomorrow_is_the_lenders_tomorrow_late_at_night_in_utc() -> None:
    # 23:30 UTC is 07:30 the next day in Shanghai: the latest query date follows the lender's calendar.
    moment = datetime.datetime(2026, 3, 9, 23, 30, tzinfo=datetime.UTC)
    assert latest_query_date(moment) == datetime.date(2026, 3, 11)
    assert query_date_error(datetime.date(2026, 3, 11), moment) is None
    assert query_date_error(datetime.date(2026, 3, 12), moment) is not None
    assert query_date_error(EARLIEST_DATE, moment) is None
    assert query_date_error(EARLIEST_DATE - datetime.timedelta(days=1), moment) is not None


@time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_a_reported_moment_lies_from_2000_to_five_minutes_from_now() -> None:
    now = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
    assert reported_moment_error(now + datetime.timedelta(minutes=5)) is None
    assert reported_moment_error(now + datetime.timedelta(minutes=5, seconds=1)) is not None
    assert reported_moment_error(datetime.datetime(2000, 1, 1, tzinfo=SHANGHAI)) is None
    assert reported_moment_error(datetime.datetime(1999, 12, 31, 23, 59, tzinfo=SHANGHAI)) is not None
    assert reported_moment_error(datetime.datetime.max.replace(tzinfo=datetime.UTC)) is not None
    assert (
        reported_moment_error(datetime.datetime.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=14))))
        is not None
    )
