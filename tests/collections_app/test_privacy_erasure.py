"""A contact's deletion or objection, fulfilled by an auditor: the contact is erased in place (contacts_erase), the
words and corrected values of their requests with them, no value of theirs is left in any table, and the request
records what was done; a correction's values are not kept once decided and handed over."""

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from collections_app.models import CoreCorrection, DataSubjectRequest
from collections_app.services.erasure import ERASED_TEXT, borrowers_erase
from collections_app.services.privacy import privacy_request_decide, privacy_request_file
from tests.collections_app.test_contact_erasure import CANARY_NAME, CANARY_PHONE, canaries_found
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def _file(account, officer: User, subject: str, kind: str, text: str, **kw) -> DataSubjectRequest:
    return privacy_request_file(
        account=account, actor=officer, role="case_officer", subject=subject, kind=kind, text=text, **kw
    )


@pytest.mark.postgresql_only
@pytest.mark.parametrize("kind", ["deletion", "objection"])
def test_a_contacts_deletion_or_objection_erases_them_everywhere_and_records_it(
    officer: User, auditor: User, kind: str
) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower, name=CANARY_NAME, phone=CANARY_PHONE)
    other = make_contact(account.borrower)
    words = f"我是{CANARY_NAME}，电话{CANARY_PHONE}，请删除我的信息，不要再联系我。"
    request = _file(account, officer, f"contact:{contact.pk}", kind, words)
    # A correction of theirs still pending when the deletion is fulfilled: its new values go too.
    _file(account, officer, f"contact:{contact.pk}", "correction", "名字错了", correction={"contact.name": CANARY_NAME})
    assert canaries_found()
    response = signed_in(auditor).post(
        f"/privacy/requests/{request.pk}/decide/",
        {"decision": "fulfil", "reason": "PIPL art. 47: no legal basis left."},
    )
    assert response.status_code == 303
    assert canaries_found() == []
    contact.refresh_from_db()
    other.refresh_from_db()
    assert contact.name == "" and contact.erased_at is not None
    assert other.erased_at is None and other.name
    request.refresh_from_db()
    assert (request.status, request.text) == ("fulfilled", ERASED_TEXT)
    assert request.outcome["done"] == ["contact_erased", "request_words_erased"]
    assert request.outcome["erased"]["contacts"] == 1
    erased = AuditEvent.objects.get(action="personal_data_erased")
    assert (erased.object_type, erased.object_id, erased.detail) == (
        "contact",
        str(contact.pk),
        {"reason": f"privacy_request:{request.pk}"},
    )
    assert AuditEvent.objects.filter(action="privacy_request_fulfilled", object_id=str(request.pk)).exists()
    # No request can be filed for the erased contact any more.
    again = signed_in(officer).post(
        "/privacy/requests/new/",
        {"account": account.pk, "subject": f"contact:{contact.pk}", "kind": "access", "text": "again"},
    )
    assert again.status_code == 200 and "subject" in again.context["form"].errors
    # The account page no longer lists the erased contact's deletion, and shows no value of theirs.
    page = signed_in(officer).get(f"/cases/{account.pk}/").content.decode()
    assert CANARY_NAME not in page and CANARY_PHONE[-4:] + "<" not in page


def test_a_corrections_values_are_not_kept_once_decided_and_handed_over(
    officer: User, auditor: User, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    settings.CORE_LENDING_CORRECTIONS = f"file:{tmp_path}"
    account = make_account(officer)
    refused = _file(account, officer, "borrower", "correction", "名字错了", correction={"borrower.name": "新名甲"})
    privacy_request_decide(request=refused, auditor=auditor, decision="refuse", reason="Not the account holder.")
    fulfilled = _file(account, officer, "borrower", "correction", "名字错了", correction={"borrower.name": "新名乙"})
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_decide(request=fulfilled, auditor=auditor, decision="fulfil", reason="Verified.")
    for request in (refused, fulfilled):
        request.refresh_from_db()
        assert request.correction == {"borrower.name": ERASED_TEXT}
    assert CoreCorrection.objects.get().fields == {"borrower.name": ERASED_TEXT}
    # The core system has the value; the detail page says the app no longer keeps it.
    assert "新名乙" in next(tmp_path.glob("correction-*.json")).read_text()
    page = signed_in(auditor).get(f"/privacy/requests/{fulfilled.pk}/").content.decode()
    assert "新名" not in page


def test_a_borrowers_erasure_blanks_the_words_and_reasons_of_every_request_on_their_accounts(
    officer: User, auditor: User
) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    own = _file(account, officer, "borrower", "access", "请把我的资料发给我。")
    privacy_request_decide(request=own, auditor=auditor, decision="refuse", reason="Identity not verified yet.")
    theirs = _file(account, officer, f"contact:{contact.pk}", "access", "我是他的母亲。")
    borrowers_erase(borrower_ids=[account.borrower_id], actor=None, reason="retention")
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert (own.text, own.decision_reason, theirs.text) == (ERASED_TEXT, ERASED_TEXT, ERASED_TEXT)
