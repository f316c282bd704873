"""The officer's and the approver's pages: outcomes 302/200/403/404/409, masking and audit events."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.services.accounts import account_assign
from review.models import FamilyContactRequest
from review.selectors import family_contact_requests_for_account
from review.services import approver_all_portfolios_grant, approver_portfolio_grant, family_contact_request_decide
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_portfolio
from tests.review.conftest import add_failed_attempts, file_request

pytestmark = pytest.mark.django_db
Status = FamilyContactRequest.Status
JUSTIFICATION = "Five unanswered calls this week; family contact needed."


def new_url(case) -> str:
    return f"/cases/{case.account.pk}/family-contact/new/"


def form_data(case, **extra: str) -> dict[str, str]:
    return {"contact": str(case.contact.pk), "template": str(case.template.pk), "justification": JUSTIFICATION} | extra


def test_filing_an_eligible_request_redirects_to_its_page(officer_client, case) -> None:
    response = officer_client.post(new_url(case), form_data(case))
    assert response.status_code == 302, response.content.decode()[-3000:]
    request = FamilyContactRequest.objects.get()
    assert response["Location"] == f"/cases/{case.account.pk}/family-contact/{request.pk}/"
    page = officer_client.get(response["Location"])
    assert page.status_code == 200
    assert case.contact.phone not in page.content.decode()


def test_the_check_button_shows_rules_and_the_exact_message_without_filing(officer_client, case) -> None:
    response = officer_client.post(new_url(case), form_data(case, preview="1"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-rule="') == 7
    assert "95188" in body and "回复TD退订" in body
    assert not FamilyContactRequest.objects.exists()


def test_an_ineligible_request_answers_200_with_the_failed_rule_and_writes_nothing(
    officer, officer_client, case
) -> None:
    low = make_account(officer, dpd=12)
    contact = make_contact(low.borrower)
    add_failed_attempts(low, officer)
    data = {"contact": str(contact.pk), "template": str(case.template.pk), "justification": JUSTIFICATION}
    response = officer_client.post(f"/cases/{low.pk}/family-contact/new/", data)
    assert response.status_code == 200
    assert "12" in response.content.decode() and "30" in response.content.decode()
    assert 'class="fail" data-rule="1"' in response.content.decode()
    assert not FamilyContactRequest.objects.exists()


def test_a_short_justification_answers_200_with_the_error(officer_client, case) -> None:
    response = officer_client.post(new_url(case), form_data(case, justification="too short"))
    assert response.status_code == 200
    assert response.context["form"].errors["justification"]
    assert not FamilyContactRequest.objects.exists()


def test_a_contact_of_another_borrower_is_refused(officer, officer_client, case) -> None:
    stranger = make_contact(make_account(None, dpd=45).borrower)
    response = officer_client.post(new_url(case), form_data(case, contact=str(stranger.pk)))
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]


def test_filing_is_404_outside_the_caseload_and_403_without_the_role(other_officer, approver, case) -> None:
    assert signed_in(other_officer).post(new_url(case), form_data(case)).status_code == 404
    assert signed_in(approver).post(new_url(case), form_data(case)).status_code == 403
    assert not FamilyContactRequest.objects.exists()


def test_withdraw_redirects_then_answers_409_once_decided(officer_client, submitted, case, approver) -> None:
    url = f"/cases/{case.account.pk}/family-contact/{submitted.pk}/withdraw/"
    family_contact_request_decide(request_id=submitted.pk, decision="reject", reason="Not yet", actor=approver)
    assert officer_client.post(url).status_code == 409
    submitted.refresh_from_db()
    assert submitted.status == Status.REJECTED


def test_the_requester_sees_the_decision_and_its_reason(officer_client, submitted, case, approver) -> None:
    family_contact_request_decide(
        request_id=submitted.pk, decision="reject", reason="Call twice more first", actor=approver
    )
    page = officer_client.get(f"/cases/{case.account.pk}/family-contact/{submitted.pk}/").content.decode()
    assert "Call twice more first" in page and "carol" in page


def test_a_reassigned_accounts_requests_move_with_it(officer, other_officer, submitted, case) -> None:
    account_assign(accounts=[case.account], officer=other_officer)
    url = f"/cases/{case.account.pk}/family-contact/{submitted.pk}/"
    assert signed_in(officer).get(url).status_code == 404
    assert signed_in(other_officer).get(url).status_code == 200
    assert list(family_contact_requests_for_account(other_officer, case.account)) == [submitted]
    assert list(family_contact_requests_for_account(officer, case.account)) == []


def test_the_account_page_and_caseload_show_the_decision_and_its_reason(
    officer_client, approver, submitted, case
) -> None:
    family_contact_request_decide(
        request_id=submitted.pk, decision="reject", reason="Call twice more first", actor=approver
    )
    account_page = officer_client.get(f"/cases/{case.account.pk}/").content.decode()
    assert "Call twice more first" in account_page
    assert f"/cases/{case.account.pk}/family-contact/{submitted.pk}/" in account_page
    caseload = officer_client.get("/cases/").content.decode()
    assert f"/cases/{case.account.pk}/family-contact/{submitted.pk}/" in caseload


# --- the approver -------------------------------------------------------------------------------------------------


def test_the_queue_is_for_approvers_only(officer_client, approver) -> None:
    assert officer_client.get("/review/").status_code == 403
    assert signed_in(approver).get("/review/").status_code == 200


def test_the_queue_lists_oldest_first_highlights_overdue_and_is_audited(officer, approver, family_template) -> None:
    from tests.review.conftest import Case

    requests = []
    for _ in range(3):
        account = make_account(officer, dpd=45)
        add_failed_attempts(account, officer)
        requests.append(file_request(officer, Case(account, make_contact(account.borrower), family_template)))
    FamilyContactRequest.objects.filter(pk=requests[2].pk).update(
        requested_at=timezone.now() - datetime.timedelta(hours=30)
    )
    response = signed_in(approver).get("/review/")
    rows = response.context["rows"]
    assert [row.pk for row in rows] == [requests[2].pk, requests[0].pk, requests[1].pk]
    assert [row.overdue for row in rows] == [True, False, False]
    assert response.context["data"].total == 3 and response.context["data"].overdue == 1
    assert 'class="overdue"' in response.content.decode()
    event = AuditEvent.objects.filter(action="list", object_type="familycontactrequest").get()
    assert f"borrower:{requests[0].account.borrower_id}" in event.persons


def test_queue_filters_by_age_and_officer(officer, approver, submitted) -> None:
    client = signed_in(approver)
    assert client.get("/review/?age=overdue").context["data"].total == 0
    assert client.get("/review/?age=fresh").context["data"].total == 1
    assert client.get("/review/?officer=alice").context["data"].total == 1
    assert client.get("/review/?officer=bob").context["data"].total == 0
    assert client.get("/review/?bucket=31-60").context["data"].total == 1
    assert client.get("/review/?bucket=61-90").context["data"].total == 0


def test_the_queue_runs_a_fixed_number_of_queries(officer, approver, family_template) -> None:
    from tests.review.conftest import Case

    client = signed_in(approver)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/review/").status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for _ in range(n):
            account = make_account(officer, dpd=45)
            add_failed_attempts(account, officer)
            file_request(officer, Case(account, make_contact(account.borrower), family_template))

    add(1)
    one = count()
    add(6)
    assert count() == one


def test_the_review_page_shows_both_evaluations_masked_and_is_audited(approver, submitted, case) -> None:
    response = signed_in(approver).get(f"/review/{submitted.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["evaluation_now"]["eligible"] is True
    assert body.count('data-rule="') == 14  # as filed and now
    assert case.contact.phone not in body and case.account.borrower.phone not in body
    assert case.account.borrower.name not in body
    assert 'name="decision"' in body
    event = AuditEvent.objects.get(action="view", object_type="familycontactrequest")
    assert f"contact:{case.contact.pk}" in event.persons and "contact.phone" in event.fields


def test_approve_redirects_and_a_second_decision_answers_409_with_the_winner(
    approver, second_approver, submitted
) -> None:
    response = signed_in(approver).post(f"/review/{submitted.pk}/decide/", {"decision": "approve", "reason": ""})
    assert response.status_code == 302
    late = signed_in(second_approver).post(f"/review/{submitted.pk}/decide/", {"decision": "reject", "reason": "No"})
    assert late.status_code == 409
    assert "carol" in late.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED and submitted.decided_by == approver


def test_rejecting_without_a_reason_answers_200_with_the_error(approver, submitted) -> None:
    response = signed_in(approver).post(f"/review/{submitted.pk}/decide/", {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_a_user_with_both_roles_sees_their_own_request_marked_without_a_form_and_a_forged_post_is_403(
    officer, case
) -> None:
    officer.groups.add(Group.objects.get(name="risk_approver"))
    approver_all_portfolios_grant(user=officer)  # scope fails closed: a new approver needs a grant
    request = file_request(officer, case)
    client = signed_in(officer)
    queue = client.get("/review/").content.decode()
    assert "own-request" in queue
    page = client.get(f"/review/{request.pk}/").content.decode()
    assert 'name="decision"' not in page and "own-request" in page
    forged = client.post(f"/review/{request.pk}/decide/", {"decision": "approve", "reason": ""})
    assert forged.status_code == 403
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and request.decided_by is None


def test_an_approver_limited_to_other_portfolios_gets_404(approver, submitted) -> None:
    approver_portfolio_grant(user=approver, portfolio=make_portfolio("north"))
    client = signed_in(approver)
    assert client.get(f"/review/{submitted.pk}/").status_code == 404
    assert client.post(f"/review/{submitted.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert client.get("/review/").context["data"].total == 0
    approver_portfolio_grant(user=approver, portfolio=submitted.account.portfolio)
    assert client.get(f"/review/{submitted.pk}/").status_code == 200


def test_the_caseload_helper_gives_each_accounts_newest_request_and_only_in_scope(
    officer, other_officer, submitted, case, approver
) -> None:
    from review.selectors import family_contact_latest_by_account

    family_contact_request_decide(request_id=submitted.pk, decision="reject", reason="Wait a week", actor=approver)
    latest = family_contact_latest_by_account(officer, [case.account.pk])
    assert latest[case.account.pk].pk == submitted.pk
    assert latest[case.account.pk].decision_reason == "Wait a week"
    assert family_contact_latest_by_account(other_officer, [case.account.pk]) == {}


def test_only_family_templates_whose_newest_version_is_approved_are_offered(officer_client, case) -> None:
    from collections_app.models import MessageTemplate, TemplateVersion
    from tests.review.conftest import make_family_template

    # Ids of templates and versions drift apart, as in a long-lived database.
    filler = MessageTemplate.objects.create(code="borrower-filler", audience="borrower", channel="sms", name="x")
    for version in (1, 2, 3):
        TemplateVersion.objects.create(template=filler, version=version, body="您好")
    make_family_template("family-other")
    changed = make_family_template("family-changed")
    TemplateVersion.objects.create(template=changed, version=2, body="您好，请致电95188。")
    offered = {t.code for t in officer_client.get(new_url(case)).context["form"].fields["template"].queryset}
    assert offered == {"family-test", "family-other"}
