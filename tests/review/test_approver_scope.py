"""Approver scope fails closed: no grant, nothing seen; the all-portfolios grant is explicit (issue 17)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from access.models import AccessChange
from access.roles import CASE_OFFICER, RISK_APPROVER
from audit.models import AuditEvent
from review.models import ApproverAllPortfolios, ApproverPortfolio, FamilyContactRequest
from review.selectors import reviewable_requests
from review.services import (
    approver_all_portfolios_grant,
    approver_portfolio_grant,
    approver_portfolio_revoke,
    family_contact_request_decide,
)
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_portfolio, make_superuser, make_user
from tests.review.conftest import Case, add_failed_attempts, file_request

pytestmark = pytest.mark.django_db


def request_in(portfolio_code: str, officer: User, case: Case) -> FamilyContactRequest:
    """A submitted request on a fresh eligible account of `officer` in the named portfolio."""
    account = make_account(officer, dpd=45, portfolio=make_portfolio(portfolio_code))
    add_failed_attempts(account, officer)
    return file_request(officer, Case(account=account, contact=make_contact(account.borrower), template=case.template))


def assert_sees_nothing(user: User, request: FamilyContactRequest) -> None:
    client = signed_in(user)
    queue = client.get("/review/")
    assert queue.status_code == 200 and queue.context["data"].total == 0
    assert client.get(f"/review/{request.pk}/").status_code == 404
    assert client.post(f"/review/{request.pk}/decide/", {"decision": "approve", "reason": ""}).status_code == 404
    request.refresh_from_db()
    assert request.status == FamilyContactRequest.Status.SUBMITTED


def test_an_approver_with_no_grant_sees_nothing_and_is_told_why(submitted, approver) -> None:
    grantless = make_user("gina", RISK_APPROVER, all_portfolios=False)
    assert_sees_nothing(grantless, submitted)
    assert not reviewable_requests(grantless).exists()
    assert 'class="card no-grant' in signed_in(grantless).get("/review/").content.decode()
    assert 'class="card no-grant' not in signed_in(approver).get("/review/").content.decode()


def test_the_admin_neither_grants_nor_revokes_all_portfolios_that_is_an_access_change(admin_user) -> None:
    approver = make_user("gina", RISK_APPROVER, all_portfolios=False)
    client = signed_in(admin_user)
    assert client.post("/admin/review/approverallportfolios/add/", {"user": str(approver.pk)}).status_code == 403
    assert not ApproverAllPortfolios.objects.filter(user=approver).exists()
    grant = approver_all_portfolios_grant(user=approver)
    deleted = client.post(f"/admin/review/approverallportfolios/{grant.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert ApproverAllPortfolios.objects.filter(user=approver).exists()
    assert client.get("/admin/review/approverallportfolios/").status_code == 200


def test_an_approver_whose_last_grant_is_revoked_sees_nothing(submitted, case) -> None:
    approver = make_user("gina", RISK_APPROVER, all_portfolios=False)
    portfolio = case.account.portfolio
    approver_portfolio_grant(user=approver, portfolio=portfolio)
    assert signed_in(approver).get(f"/review/{submitted.pk}/").status_code == 200
    approver_portfolio_revoke(user=approver, portfolio=portfolio)
    assert_sees_nothing(approver, submitted)


def test_an_all_portfolios_grant_sees_every_portfolio_and_a_portfolio_grant_narrows_it(officer, case) -> None:
    north, south = request_in("north", officer, case), request_in("south", officer, case)
    approver = make_user("gina", RISK_APPROVER, all_portfolios=False)
    approver_all_portfolios_grant(user=approver)
    client = signed_in(approver)
    assert client.get("/review/").context["data"].total == 2
    assert client.get(f"/review/{north.pk}/").status_code == 200
    assert client.get(f"/review/{south.pk}/").status_code == 200
    grant = AuditEvent.objects.get(action="assignment_changed", object_type="approverallportfolios")
    assert grant.detail["change"] == "granted" and grant.detail["portfolio"] == "*"

    # Granting one portfolio to an all-portfolios approver narrows them to it (and says so in the audit log).
    approver_portfolio_grant(user=approver, portfolio=north.account.portfolio)
    assert not ApproverAllPortfolios.objects.filter(user=approver).exists()
    assert client.get("/review/").context["data"].total == 1
    assert client.get(f"/review/{south.pk}/").status_code == 404
    narrowed = AuditEvent.objects.get(action="assignment_changed", object_type="approverportfolio")
    assert narrowed.detail["all_portfolios_revoked"] is True

    # The all-portfolios grant replaces the portfolio rows.
    approver_all_portfolios_grant(user=approver)
    assert not ApproverPortfolio.objects.filter(user=approver).exists()
    assert client.get(f"/review/{south.pk}/").status_code == 200
    decided = family_contact_request_decide(request_id=south.pk, decision="reject", reason="Not yet", actor=approver)
    assert decided.decided


def test_the_data_migration_grants_every_portfolio_to_grantless_approvers_only() -> None:
    migration = importlib.import_module("review.migrations.0004_grant_all_portfolios_to_grantless_approvers")
    grantless = make_user("gina", RISK_APPROVER, all_portfolios=False)
    limited = make_user("hugo", RISK_APPROVER, all_portfolios=False)
    ApproverPortfolio.objects.create(user=limited, portfolio=make_portfolio("north"))
    already = make_user("ivan", RISK_APPROVER)
    officer = make_user("olga", CASE_OFFICER)

    migration.grant_all_to_grantless_approvers(apps, None)
    migration.grant_all_to_grantless_approvers(apps, None)  # a second run changes nothing

    holders = set(ApproverAllPortfolios.objects.values_list("user__username", flat=True))
    assert holders == {grantless.username, already.username}
    assert officer.username not in holders
    assert list(ApproverPortfolio.objects.filter(user=limited).values_list("portfolio__code", flat=True)) == ["north"]


def test_the_grant_all_portfolios_access_change_applies_through_reviews_supplier(submitted) -> None:
    root = make_superuser("root")
    root2 = make_superuser("root2")
    approver = make_user("gina", RISK_APPROVER, all_portfolios=False)
    response = signed_in(root).post("/access/changes/new/", {"user": "gina", "change": "grant_all_portfolios"})
    assert response.status_code == 302
    change = AccessChange.objects.get()
    assert not ApproverAllPortfolios.objects.filter(user=approver).exists()  # not before the second approval

    decided = signed_in(root2).post(f"/access/changes/{change.pk}/decide/", {"decision": "approve", "reason": "ok"})
    assert decided.status_code == 302
    change.refresh_from_db()
    assert change.status == "approved"
    assert change.before["all_portfolios"] is False and change.after["all_portfolios"] is True
    assert ApproverAllPortfolios.objects.filter(user=approver).exists()
    assert signed_in(approver).get(f"/review/{submitted.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="assignment_changed", object_type="approverallportfolios")
    assert event.actor_username == "root2"
