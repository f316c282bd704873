"""The admin cannot create, decide or edit requests (that would bypass the rules) nor approver scopes; all audited."""

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


def test_an_approvers_portfolios_are_read_only_in_the_admin_and_its_pages_audited(admin_user, approver, case) -> None:
    """Replaces the direct grant in the admin (issue 16): a portfolio grant is an access change, by two people."""
    client = signed_in(admin_user)
    portfolio = case.account.portfolio
    response = client.post(
        "/admin/review/approverportfolio/add/", {"user": str(approver.pk), "portfolio": str(portfolio.pk)}
    )
    assert response.status_code == 403
    assert not ApproverPortfolio.objects.filter(user=approver, portfolio=portfolio).exists()
    grant = ApproverPortfolio.objects.create(user=approver, portfolio=portfolio)
    url = f"/admin/review/approverportfolio/{grant.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert ApproverPortfolio.objects.filter(pk=grant.pk).exists()
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert client.get("/admin/review/approverportfolio/").status_code == 200
    (event,) = AuditEvent.objects.filter(pk__gt=mark)
    assert (event.action, event.object_type, event.actor_username) == ("list", "approverportfolio", "root")


def test_the_request_pages_are_audited_naming_the_borrower_and_the_contact(admin_user, submitted) -> None:
    client = signed_in(admin_user)
    persons = {f"borrower:{submitted.account.borrower_id}", f"contact:{submitted.contact_id}"}
    for url, action in (
        ("/admin/review/familycontactrequest/", "list"),
        (f"/admin/review/familycontactrequest/{submitted.pk}/change/", "view"),
    ):
        mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        assert client.get(url).status_code == 200
        (event,) = AuditEvent.objects.filter(pk__gt=mark)
        assert event.action == action and event.object_type == "familycontactrequest"
        assert set(event.persons) == persons
