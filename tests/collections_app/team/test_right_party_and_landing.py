"""A call that reached one of the borrower's contacts is an attempt, not a right-party contact; a team lead signs in
to the team dashboard, which lists the team's flagged customers; the admin records and changes no repayment plan
(maker-checker holds there too)."""

import datetime
import zoneinfo

import pytest

from access.models import Team
from access.roles import TEAM_LEAD
from access.views import landing_url
from collections_app.models import BorrowerFlag, Interaction, OfficerDayActivity, RepaymentPlan
from collections_app.services.borrower_flags import borrower_flag_clear, borrower_flag_set
from collections_app.team.snapshots import officer_day_activity_take
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_plan, make_user

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 5, 12)


def test_a_call_that_reached_a_contact_is_an_attempt_not_a_right_party_contact(officer) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    at = datetime.datetime.combine(DAY, datetime.time(11), tzinfo=SHANGHAI)
    for to in (None, contact):
        Interaction.objects.create(
            account=account, officer=officer, contact=to, outcome=Interaction.Outcome.REFUSED, occurred_at=at
        )
    officer_day_activity_take(day=DAY)
    counted = {row.key: row.count for row in OfficerDayActivity.objects.filter(day=DAY, kind="calls")}
    assert counted == {"attempts": 2, "connected": 1}


def test_a_team_lead_lands_on_the_team_dashboard() -> None:
    assert landing_url(make_user("lena", TEAM_LEAD)) == "/team/"


def test_the_admin_neither_adds_nor_changes_a_plan(admin_user, officer) -> None:
    plan = make_plan(make_account(officer), officer, status=RepaymentPlan.Status.PROPOSED, instalments=[])
    client = signed_in(admin_user)
    assert client.get("/admin/collections_app/repaymentplan/add/").status_code == 403
    page = client.post(f"/admin/collections_app/repaymentplan/{plan.pk}/change/", {"status": "approved"})
    assert page.status_code in (200, 403)
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PROPOSED


def test_a_flagged_customer_is_on_the_leads_list_and_cleared_leaves_it(officer, other_officer) -> None:
    lead = make_user("lena", TEAM_LEAD)
    Team.objects.create(name="north", lead=lead).members.add(officer)
    mine, theirs = make_account(officer), make_account(other_officer)
    for account in (mine, theirs):
        borrower_flag_set(
            borrower=account.borrower, account=account, officer=account.officer, kind="vulnerable", reason="In hospital"
        )
    page = signed_in(lead).get("/team/")
    assert [account.pk for account in page.context["dash"].flagged] == [mine.pk]
    assert f'data-flagged="{mine.pk}"' in page.content.decode()
    flag = BorrowerFlag.objects.get(borrower=mine.borrower)
    borrower_flag_clear(flag=flag, account=mine, officer=officer, reason="Home again")
    assert signed_in(lead).get("/team/").context["dash"].flagged == []
