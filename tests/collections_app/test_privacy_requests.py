"""Data-subject requests: filed by an officer for their caseload (or an auditor), decided by an auditor only, each
step audited as privacy_request_<status> with ids; the deadline from the profile; bad input refused; the list puts
pending and overdue requests first; the account page shows the pending ones."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.models import DataSubjectRequest, PolicyVersion
from collections_app.services.privacy import privacy_request_decide, privacy_request_file
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_portfolio, make_user

pytestmark = pytest.mark.django_db

# The page (in the lender's language) says why the filer may not decide.
SOMEONE_ELSE_DECIDES = "须由另一位合规审计员决定"
WORDS = "我想知道你们为什么有我的电话号码。canary-words-57"


def file_request(account, actor: User, subject: str = "borrower", kind: str = "access", **kw) -> DataSubjectRequest:
    """A request filed through the service, as the officer's form does."""
    return privacy_request_file(
        account=account, actor=actor, role="case_officer", subject=subject, kind=kind, text=WORDS, **kw
    )


def test_an_officer_files_a_contacts_request_from_the_account_and_it_is_audited_without_the_words(
    officer: User,
) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    client = signed_in(officer)
    page = client.get(f"/privacy/requests/new/?account={account.pk}")
    assert page.status_code == 200
    shown = AuditEvent.objects.get(action="view", object_type="loanaccount")
    assert sorted(shown.persons) == sorted([f"borrower:{account.borrower_id}", f"contact:{contact.pk}"])
    response = client.post(
        "/privacy/requests/new/",
        {"account": account.pk, "subject": f"contact:{contact.pk}", "kind": "access", "text": WORDS},
    )
    assert response.status_code == 303 and response["Location"] == f"/cases/{account.pk}/"
    request = DataSubjectRequest.objects.get()
    assert (request.contact, request.borrower, request.status, request.filed_by) == (contact, None, "received", officer)
    event = AuditEvent.objects.get(action="privacy_request_received")
    assert event.persons == [f"contact:{contact.pk}"] and event.object_id == str(request.pk)
    assert WORDS not in str(event.detail)
    # The account page lists it among the requests still to be decided.
    detail = client.get(f"/cases/{account.pk}/")
    assert [r.pk for r in detail.context["privacy_requests"]] == [request.pk]
    assert "/privacy/requests/new/?account=" in detail.content.decode()


def test_the_deadline_comes_from_the_accounts_profile(officer: User) -> None:
    account = make_account(officer, portfolio=make_portfolio("uk", profile="uk-conc"))
    version = PolicyVersion.objects.filter(profile__code="uk-conc").latest("version")
    assert version.privacy_request_deadline_days == 15
    PolicyVersion.objects.filter(pk=version.pk).update(privacy_request_deadline_days=30)
    request = file_request(account, officer)
    assert request.deadline - request.received_at == datetime.timedelta(days=30)
    assert request.policy_version_id == version.pk


def test_the_deadline_is_bounded_like_every_count_of_days(officer: User) -> None:
    version = PolicyVersion.objects.filter(profile__code="cn-default").latest("version")
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(privacy_request_deadline_days=31)
    version.privacy_request_deadline_days = 0
    with pytest.raises(Exception, match="privacy_request_deadline_days"):
        version.full_clean()


def test_an_officer_cannot_decide_a_request_an_auditor_can(officer: User, auditor: User) -> None:
    request = file_request(make_account(officer), officer)
    url = f"/privacy/requests/{request.pk}/decide/"
    denied = signed_in(officer).post(url, {"decision": "fulfil", "reason": "Identity verified by phone."})
    assert denied.status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied", actor_id=officer.pk).exists()
    # Nor may the officer read the request's page or the list: they are the auditors'.
    assert signed_in(officer).get(f"/privacy/requests/{request.pk}/").status_code == 403
    assert signed_in(officer).get("/privacy/requests/").status_code == 403
    request.refresh_from_db()
    assert request.status == "received"
    client = signed_in(auditor)
    assert client.post(url, {"decision": "start"}).status_code == 303
    assert client.post(url, {"decision": "fulfil", "reason": "Identity verified by phone."}).status_code == 303
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.outcome["done"]) == (
        "fulfilled",
        auditor,
        ["access_file_ready"],
    )
    actions = list(
        AuditEvent.objects.filter(action__startswith="privacy_request_").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["privacy_request_received", "privacy_request_in_progress", "privacy_request_fulfilled"]
    fulfilled = AuditEvent.objects.get(action="privacy_request_fulfilled")
    assert fulfilled.actor_id == auditor.pk and fulfilled.role == "compliance_auditor"
    assert "Identity verified" not in str(fulfilled.detail)


def test_the_auditor_who_filed_a_request_cannot_decide_it_another_auditor_can(officer: User, auditor: User) -> None:
    request = privacy_request_file(
        account=make_account(officer),
        actor=auditor,
        role="compliance_auditor",
        subject="borrower",
        kind="access",
        text=WORDS,
    )
    url = f"/privacy/requests/{request.pk}/decide/"
    client = signed_in(auditor)
    assert SOMEONE_ELSE_DECIDES in client.get(f"/privacy/requests/{request.pk}/").content.decode()
    for decision in ("fulfil", "refuse"):
        denied = client.post(url, {"decision": decision, "reason": "I checked it myself."})
        assert denied.status_code == 403
        assert SOMEONE_ELSE_DECIDES in denied.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("received", None)
    refusal = AuditEvent.objects.filter(action="permission_denied", actor_id=auditor.pk).first()
    assert refusal is not None
    assert (refusal.object_id, refusal.detail) == (str(request.pk), {"reason": "separation_of_duties"})
    # The database holds it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        DataSubjectRequest.objects.filter(pk=request.pk).update(
            status="refused", decided_by=auditor, decided_at=timezone.now(), decision_reason="Mine."
        )
    second = make_user("erin", "compliance_auditor")
    assert signed_in(second).post(url, {"decision": "fulfil", "reason": "Identity verified."}).status_code == 303
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("fulfilled", second)


def test_a_decided_request_answers_409_and_changes_nothing(officer: User, auditor: User) -> None:
    request = file_request(make_account(officer), officer)
    privacy_request_decide(request=request, auditor=auditor, decision="refuse", reason="Not the account holder.")
    response = signed_in(auditor).post(
        f"/privacy/requests/{request.pk}/decide/", {"decision": "fulfil", "reason": "Changed my mind."}
    )
    assert response.status_code == 409
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("refused", "Not the account holder.")
    assert AuditEvent.objects.filter(action="privacy_request_refused").count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"decision": "fulfil", "reason": "  "}, "reason"),
        ({"decision": "refuse"}, "reason"),
        ({"decision": "approve", "reason": "x"}, "decision"),
        ({"decision": "refuse", "reason": "字" * 4001}, "reason"),
    ],
)
def test_a_bad_decision_answers_200_with_the_field_error(officer: User, auditor: User, data: dict, field: str) -> None:
    request = file_request(make_account(officer), officer)
    response = signed_in(auditor).post(f"/privacy/requests/{request.pk}/decide/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    request.refresh_from_db()
    assert request.status == "received"


def test_a_borrowers_deletion_cannot_be_fulfilled_and_is_refused_with_the_legal_reason(
    officer: User, auditor: User
) -> None:
    request = file_request(make_account(officer), officer, kind="deletion")
    client = signed_in(auditor)
    url = f"/privacy/requests/{request.pk}/decide/"
    response = client.post(url, {"decision": "fulfil", "reason": "Asked twice."})
    assert response.status_code == 200 and "decision" in response.context["form"].errors
    request.refresh_from_db()
    assert request.status == "received"
    reason = "Contract performance and legal obligation: the account is open (PIPL arts. 13, 47)."
    assert client.post(url, {"decision": "refuse", "reason": reason}).status_code == 303
    request.refresh_from_db()
    assert (request.status, request.decision_reason, request.outcome) == ("refused", reason, {"done": ["refused"]})


def test_a_borrowers_objection_records_a_cease_request(officer: User, auditor: User) -> None:
    account = make_account(officer)
    request = file_request(account, officer, kind="objection")
    privacy_request_decide(request=request, auditor=auditor, decision="fulfil", reason="Only required notices.")
    account.borrower.refresh_from_db()
    assert account.borrower.cease_requested_at is not None
    assert AuditEvent.objects.filter(action="cease_requested", actor_id=auditor.pk).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "contact:999999"),
        ("subject", "contact:99999999999999999999999"),
        ("subject", "lawyer"),
        ("kind", "forget_me"),
        ("text", ""),
        ("text", "字" * 4001),
        ("new_borrower_name", "张三"),  # a new value on a request that is not a correction
    ],
)
def test_bad_filing_input_answers_200_with_field_errors_and_writes_nothing(
    officer: User, field: str, value: str
) -> None:
    account = make_account(officer)
    data = {"account": account.pk, "subject": "borrower", "kind": "access", "text": WORDS}
    response = signed_in(officer).post("/privacy/requests/new/", data | {field: value})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors or (field.startswith("new_") and "kind" in errors)
    assert not DataSubjectRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="privacy_request_").exists()


@pytest.mark.parametrize("account", ["abc", "", "99999999999999999999999", "-1"])
def test_a_filing_naming_no_account_answers_404(officer: User, account: str) -> None:
    assert signed_in(officer).get(f"/privacy/requests/new/?account={account}").status_code == 404


def test_an_unknown_status_filter_answers_400(auditor: User) -> None:
    assert signed_in(auditor).get("/privacy/requests/?status=lost").status_code == 400
    assert signed_in(auditor).get("/privacy/requests/?status=received").status_code == 200


def test_another_officers_account_is_404_and_audited(officer: User, other_officer: User) -> None:
    foreign = make_account(other_officer)
    client = signed_in(officer)
    assert client.get(f"/privacy/requests/new/?account={foreign.pk}").status_code == 404
    data = {"account": foreign.pk, "subject": "borrower", "kind": "access", "text": WORDS}
    assert client.post("/privacy/requests/new/", data).status_code == 404
    assert AuditEvent.objects.filter(action="permission_denied", actor_id=officer.pk).count() == 2
    assert not DataSubjectRequest.objects.exists()


def test_an_auditor_files_for_any_account_and_sees_no_name(officer: User, auditor: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower, name="鸊鷉丙丁")
    client = signed_in(auditor)
    page = client.get(f"/privacy/requests/new/?account={account.pk}")
    assert page.status_code == 200 and "鸊" not in page.content.decode()
    response = client.post(
        "/privacy/requests/new/",
        {"account": account.pk, "subject": f"contact:{contact.pk}", "kind": "deletion", "text": WORDS},
    )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 303 and response["Location"] == f"/privacy/requests/{request.pk}/"
    assert (request.filed_by, request.filed_role) == (auditor, "compliance_auditor")
    # By the account number a letter quotes; an officer is not offered that lookup.
    by_number = client.get(f"/privacy/requests/new/?account_number={account.account_number}")
    assert by_number.status_code == 200 and by_number.context["account"] == account
    assert signed_in(officer).get(f"/privacy/requests/new/?account_number={account.account_number}").status_code == 404
    # An account that does not exist: 404, audited in the auditor's role.
    assert client.get("/privacy/requests/new/?account=999999").status_code == 404
    denied = AuditEvent.objects.get(action="permission_denied", actor_id=auditor.pk)
    assert (denied.role, denied.outcome, denied.object_id) == ("compliance_auditor", "not_found", "999999")
    assert client.get("/privacy/requests/new/?account_number=NO-SUCH").status_code == 404
    assert client.get("/privacy/requests/new/?account_number=" + "9" * 65).status_code == 404


def test_the_list_puts_pending_and_overdue_requests_first_and_marks_the_overdue(officer: User, auditor: User) -> None:
    account = make_account(officer)
    now = timezone.now()
    on_time = file_request(account, officer, now=now - datetime.timedelta(days=1))
    overdue = file_request(account, officer, now=now - datetime.timedelta(days=20))
    decided = file_request(account, officer, now=now - datetime.timedelta(days=30))
    privacy_request_decide(request=decided, auditor=auditor, decision="refuse", reason="Duplicate of another.")
    client = signed_in(auditor)
    page = client.get("/privacy/requests/")
    listed = page.context["requests"]
    assert [r.pk for r in listed] == [overdue.pk, on_time.pk, decided.pk]
    assert page.content.decode().count('class="privacy-request overdue"') == 1
    assert WORDS not in page.content.decode()
    listing = AuditEvent.objects.get(action="list", object_type="privacyrequest")
    assert listing.persons == [f"borrower:{account.borrower_id}"]
    refused = client.get("/privacy/requests/?status=refused").context["requests"]
    assert [r.pk for r in refused] == [decided.pk]
    # The officer's account page lists only the two still to be decided, the overdue one first and marked.
    detail = signed_in(officer).get(f"/cases/{account.pk}/")
    assert [r.pk for r in detail.context["privacy_requests"]] == [overdue.pk, on_time.pk]


def test_the_detail_page_shows_the_words_to_the_auditor_and_is_audited(officer: User, auditor: User) -> None:
    account = make_account(officer)
    request = file_request(account, officer)
    page = signed_in(auditor).get(f"/privacy/requests/{request.pk}/")
    assert page.status_code == 200 and WORDS in page.content.decode()
    viewed = AuditEvent.objects.get(action="view", object_type="privacyrequest")
    assert viewed.persons == [f"borrower:{account.borrower_id}"]
    assert "privacyrequest.text" in viewed.fields
    assert signed_in(auditor).get("/privacy/requests/999999/").status_code == 404


def test_the_database_holds_one_subject_the_status_and_the_decision(officer: User, auditor: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    request = file_request(account, officer)
    rows = DataSubjectRequest.objects.filter(pk=request.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(contact=contact)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(borrower=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(status="fulfilled")
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(status="refused", decided_by=auditor, decided_at=timezone.now(), decision_reason="")
