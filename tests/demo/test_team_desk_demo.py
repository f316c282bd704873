"""The demo's team lead's desk: a plan awaits lead1's decision and every chart of /team/ has twelve months to show."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from collections_app.models import AccountMonthSnapshot, RepaymentPlan
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_lead1_finds_a_pending_plan_and_twelve_months_in_every_chart(settings) -> None:
    settings.DEBUG = True  # seed_demo runs only with DEBUG on
    call_command("seed_demo", stdout=None)
    plan = RepaymentPlan.objects.get(status=RepaymentPlan.Status.PROPOSED)
    assert plan.created_by.username == "officer1"
    assert AccountMonthSnapshot.objects.values("month").distinct().count() == 12

    client = signed_in(User.objects.get(username="lead1"))
    response = client.get("/team/")
    assert response.status_code == 200
    dash = response.context["dash"]
    assert [p.pk for p in dash.pending_plans] == [plan.pk]
    for name, chart in dash.charts.items():
        assert not chart.empty, name
    assert all(sum(cell.figure.count for cell in row.cells) for row in dash.bucket_rows)
    assert sum(cell.figure.count for row in dash.roll_rows for cell in row.cells[:-1]) > 0
    assert any(row.cells[-1].percent for row in dash.roll_rows)  # some accounts cured
    assert any(row.cells[0].figure.count for row in dash.activity_rows)  # calls from the demo's history
    assert client.get(f"/team/plans/{plan.pk}/").status_code == 200
