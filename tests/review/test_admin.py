"""The admin cannot create, decide or edit requests (that would bypass the rules); approver scopes are audited."""

import pytest

from audit.models import AuditEvent
from review.models import ApproverPortfolio, FamilyContactRequest
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_admin_shows_requests_read_only(admin_user, submitted) -> None:
    client = signed_in(admin_user)
    assert client.get("/admin/review/familycontactrequest/").status_code == 200
    assert client.get("/admin/review/familycontactrequest/add/").status_code == 403
    change_url = f"/admin/review/familycontactrequest/{submitted.pk}/change/"
    forged = client.post(change_url, {"status": "approved", "decided_by": str(admin_user.pk)})
    assert forged.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == FamilyContactRequest.Status.SUBMITTED and submitted.decided_by is None
    page = client.get(change_url).content.decode()
    assert submitted.contact.phone not in page and submitted.contact.name not in page


def test_limiting_an_approver_to_a_portfolio_in_the_admin_is_audited(admin_user, approver, case) -> None:
    client = signed_in(admin_user)
    portfolio = case.account.portfolio
    response = client.post(
        "/admin/review/approverportfolio/add/", {"user": str(approver.pk), "portfolio": str(portfolio.pk)}
    )
    assert response.status_code == 302
    assert ApproverPortfolio.objects.filter(user=approver, portfolio=portfolio).exists()
    event = AuditEvent.objects.get(action="assignment_changed", object_type="approverportfolio")
    assert event.actor_username == "root" and event.detail["change"] == "granted"
