"""/team/: the charts and tables of twelve months, each figure linking to its accounts, a CSV export, and a fixed
number of queries whatever the size of the book."""

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.models import Interaction
from collections_app.team.figures import month_shift, month_start
from collections_app.team.snapshots import team_snapshot_take
from tests.collections_app.team.conftest import Teams
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def links(body: str, figure: str) -> dict[str, str]:
    """The dashboard's links to the accounts behind its `figure` figures, by their query string's key and month."""
    found = {}
    for href in re.findall(r'href="(/team/accounts/\?[^"]+)"', body):
        url = unescape(href)
        if f"figure={figure}&" in url:
            key = unquote(re.search(r"key=([^&]+)", url)[1])
            month = re.search(r"month=([0-9-]+)", url)[1]
            found[f"{key}@{month}"] = url
    return found


def listed(client: Client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {account.pk for account, _bucket in response.context["rows"]}


def test_the_dashboard_draws_its_charts_and_every_figure_leads_to_its_accounts(
    lead_client: Client, teams: Teams, officer, other_officer
) -> None:
    today = lender_today()
    month = month_start(today)
    last_month_end = month - datetime.timedelta(days=1)
    late = make_account(officer, dpd=40, today=last_month_end)  # 31-60 at last month's end
    current = make_account(other_officer, dpd=-5, today=last_month_end)
    make_account(teams.outsider, dpd=40, today=last_month_end)
    team_snapshot_take(day=last_month_end)
    Interaction.objects.create(account=late, officer=officer, outcome="refused", occurred_at=late.updated_at)
    team_snapshot_take(day=today)  # today's call
    team_snapshot_take(day=month_shift(month, 1) - datetime.timedelta(days=1))  # this month's end: late is 61-90

    response = lead_client.get("/team/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") == 4 and "<script" not in body
    buckets = links(body, "bucket")
    previous = month_shift(month, -1).strftime("%Y-%m")
    assert listed(lead_client, buckets[f"31-60@{previous}"]) == {late.pk}
    assert listed(lead_client, buckets[f"current@{previous}"]) == {current.pk}
    assert listed(lead_client, links(body, "roll")[f"31-60>61-90@{month:%Y-%m}"]) == {late.pk}
    assert listed(lead_client, links(body, "calls")[f"attempts@{month:%Y-%m}"]) == {late.pk}
    assert listed(lead_client, links(body, "calls")[f"connected@{month:%Y-%m}"]) == {late.pk}
    roll_row = response.context["dash"].roll_rows[-1]
    assert roll_row.cells[2].percent == 100.0  # every 31-60 account rolled into 61-90


def test_one_officers_dashboard_counts_only_their_accounts(
    lead_client: Client, teams: Teams, officer, other_officer
) -> None:
    today = lender_today()
    mine = make_account(officer, dpd=40)
    make_account(other_officer, dpd=40)
    team_snapshot_take(day=today)
    team_view = lead_client.get("/team/").context["dash"]
    own_view = lead_client.get("/team/", {"officer": officer.username}).context["dash"]
    month = month_start(today)
    assert team_view.figures.get(month, "bucket", "31-60").count == 2
    assert own_view.figures.get(month, "bucket", "31-60").count == 1
    own_link = links(lead_client.get("/team/", {"officer": officer.username}).content.decode(), "bucket")
    assert listed(lead_client, own_link[f"31-60@{month:%Y-%m}"]) == {mine.pk}


def test_the_csv_export_lists_each_officers_figures_and_is_audited(lead_client: Client, teams: Teams, officer) -> None:
    make_account(officer, dpd=40, outstanding=Decimal("1234.50"))
    make_account(teams.outsider, dpd=40)
    team_snapshot_take(day=lender_today())
    response = lead_client.get("/team/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["officer"] for row in rows} == {officer.username}
    bucket = next(row for row in rows if row["kind"] == "bucket")
    assert (bucket["key"], bucket["count"], bucket["amount"]) == ("31-60", "1", "1234.50")
    event = AuditEvent.objects.get(action="export", object_type="officermonthfigure")
    assert (event.role, event.detail["rows"]) == ("team_lead", len(rows))


def test_a_figure_no_dashboard_shows_is_a_400(lead_client: Client, teams: Teams) -> None:
    month = lender_today().strftime("%Y-%m")
    for query in (
        {"figure": "salary", "key": "x", "month": month},
        {"figure": "bucket", "key": "none", "month": month},
        {"figure": "bucket", "key": "current", "month": "1999-01"},
        {"figure": "bucket", "key": "current", "month": "soon"},
    ):
        assert lead_client.get("/team/accounts/", query).status_code == 400, query


def dashboard_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/team/").status_code == 200
    return len(queries)


def test_the_dashboard_query_count_does_not_grow_with_the_book(
    lead_client: Client, teams: Teams, officer, other_officer
) -> None:
    today = lender_today()
    for dpd in (-2, 15, 45):
        make_account(officer, dpd=dpd)
    team_snapshot_take(day=today)
    lead_client.get("/team/")  # the session's first request writes once
    small = dashboard_queries(lead_client)
    for n in range(60):
        make_account((officer, other_officer, teams.outsider)[n % 3], dpd=n * 4 - 10)
    team_snapshot_take(day=today)
    team_snapshot_take(day=month_start(today) - datetime.timedelta(days=1))
    assert dashboard_queries(lead_client) == small
    assert small <= 10
