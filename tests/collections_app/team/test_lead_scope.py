"""The team lead's scope: the accounts of the officers in their team; everything else answers 404 (audited)."""

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.audit.helpers import audit_mark, events_since
from tests.collections_app.team.conftest import Teams
from tests.conftest import signed_in
from tests.factories import make_account, make_contact
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template

pytestmark = pytest.mark.django_db


def test_lead_reads_an_account_of_their_team_masked_and_audited(lead_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer, dpd=40)
    mark = audit_mark()
    response = lead_client.get(f"/team/accounts/{account.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert account.account_number in body
    assert account.borrower.name not in body and account.borrower.phone not in body
    assert "/reveal/" not in body
    [event] = events_since(mark, action="view")
    assert (event.role, event.object_id) == ("team_lead", str(account.pk))
    assert f"borrower:{account.borrower_id}" in event.persons


def test_another_teams_account_answers_404_and_is_audited(lead_client: Client, teams: Teams) -> None:
    foreign = make_account(teams.outsider, dpd=40)
    mark = audit_mark()
    assert lead_client.get(f"/team/accounts/{foreign.pk}/").status_code == 404
    [event] = events_since(mark, action="permission_denied")
    assert (event.role, event.object_id, event.outcome) == ("team_lead", str(foreign.pk), "not_found")


def test_an_unassigned_account_or_a_missing_id_is_404_too(lead_client: Client, teams: Teams) -> None:
    unassigned = make_account(None, dpd=40)
    assert lead_client.get(f"/team/accounts/{unassigned.pk}/").status_code == 404
    assert lead_client.get("/team/accounts/999999999/").status_code == 404


def test_the_account_list_holds_only_the_teams_accounts(
    lead_client: Client, teams: Teams, officer, other_officer
) -> None:
    own, colleague, foreign = make_account(officer), make_account(other_officer), make_account(teams.outsider)
    response = lead_client.get("/team/accounts/")
    listed = {account.pk for account, _bucket in response.context["rows"]}
    assert listed == {own.pk, colleague.pk}
    assert foreign.account_number not in response.content.decode()


def test_an_officer_outside_the_team_is_404_on_every_team_page(lead_client: Client, teams: Teams) -> None:
    for url in ("/team/", "/team/accounts/", "/team/export.csv"):
        assert lead_client.get(url, {"officer": teams.outsider.username}).status_code == 404, url


def test_the_other_lead_sees_none_of_this_team(teams: Teams, officer) -> None:
    account = make_account(officer)
    client = signed_in(teams.other_lead)
    assert client.get(f"/team/accounts/{account.pk}/").status_code == 404
    assert account.account_number not in client.get("/team/accounts/").content.decode()


def test_other_roles_get_403_on_the_team_pages(officer_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer)
    for url in ("/team/", "/team/accounts/", f"/team/accounts/{account.pk}/", "/team/export.csv"):
        assert officer_client.get(url).status_code == 403, url
    assert officer_client.post("/team/reassign/", {"accounts": [account.pk], "officer": "bob"}).status_code == 403


def test_a_lead_has_no_officers_caseload_pages(lead_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer)
    assert lead_client.get(f"/cases/{account.pk}/").status_code == 403
    assert lead_client.post(f"/cases/{account.pk}/reveal/", {"field": "borrower.phone"}).status_code == 403


def test_a_lead_never_decides_family_contact(lead_client: Client, teams: Teams, officer) -> None:
    account = make_account(officer, dpd=45)
    add_failed_attempts(account, officer)
    case = Case(account=account, contact=make_contact(account.borrower), template=make_family_template())
    request = file_request(officer, case)
    assert lead_client.get(f"/review/{request.pk}/").status_code == 403
    response = lead_client.post(f"/review/{request.pk}/decide/", {"decision": "approve", "reason": "ok"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "submitted"
    assert AuditEvent.objects.filter(action="permission_denied", actor_username="lena").exists()
