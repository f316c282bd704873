"""Role first, then scope: 403 without the role, 404 for another officer's account, everywhere."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.models import Flag, Interaction, PromiseToPay
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_user

pytestmark = pytest.mark.django_db


def account_urls(account_id: int, flag_id: int = 1) -> list[str]:
    return [
        f"/cases/{account_id}/",
        f"/cases/{account_id}/interactions/new/",
        f"/cases/{account_id}/promises/new/",
        f"/cases/{account_id}/flags/new/",
        f"/cases/{account_id}/flags/{flag_id}/close/",
    ]


def test_anonymous_user_is_sent_to_login() -> None:
    account = make_account()
    for url in ["/cases/", *account_urls(account.pk)]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")
    response = Client().post(f"/cases/{account.pk}/reveal/", {"field": "borrower.name", "purpose": "call_borrower"})
    assert response.status_code == 302


def test_user_without_case_officer_role_gets_403_and_the_denial_is_audited(approver: User) -> None:
    account = make_account(approver)
    client = signed_in(approver)
    for url in ["/cases/", *account_urls(account.pk)]:
        assert client.get(url).status_code == 403, url
    reveal = client.post(f"/cases/{account.pk}/reveal/", {"field": "borrower.name", "purpose": "call_borrower"})
    assert reveal.status_code == 403
    denied = AuditEvent.objects.filter(action="permission_denied", actor_username="carol", outcome="denied")
    assert denied.count() == len(account_urls(account.pk)) + 2
    assert not AuditEvent.objects.filter(action__in=["list", "view", "reveal"]).exists()


def test_superuser_holds_no_role_implicitly(admin_user: User) -> None:
    account = make_account()
    client = signed_in(admin_user)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{account.pk}/").status_code == 403


def test_role_is_checked_before_scope_for_a_missing_account(approver: User) -> None:
    # Without the role the answer is 403 even for an id that does not exist: no probing through 404s.
    assert signed_in(approver).get("/cases/999999/").status_code == 403


def test_officer_cannot_see_other_officers_account_anywhere(officer: User, other_officer: User) -> None:
    theirs = make_account(other_officer)
    flag = Flag.objects.create(
        account=theirs, kind=Flag.Kind.DISPUTE, opened_reason="r", opened_by=other_officer, opened_at=theirs.updated_at
    )
    client = signed_in(officer)
    for url in account_urls(theirs.pk, flag.pk):
        assert client.get(url).status_code == 404, url
    posts = {
        f"/cases/{theirs.pk}/interactions/new/": {"outcome": "no_answer", "channel": "phone", "note": ""},
        f"/cases/{theirs.pk}/promises/new/": {"promised_date": "2099-01-01", "amount": "10"},
        f"/cases/{theirs.pk}/flags/new/": {"kind": "hardship", "reason": "lost job"},
        f"/cases/{theirs.pk}/flags/{flag.pk}/close/": {"reason": "resolved"},
        f"/cases/{theirs.pk}/reveal/": {"field": "borrower.phone", "purpose": "call_borrower"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    assert not Interaction.objects.exists()
    assert not PromiseToPay.objects.exists()
    assert Flag.objects.get(pk=flag.pk).is_open
    assert Flag.objects.count() == 1
    denied = AuditEvent.objects.filter(action="permission_denied", actor_username="alice", outcome="not_found")
    assert denied.count() == len(account_urls(theirs.pk)) + len(posts)
    assert set(denied.values_list("object_id", flat=True)) == {str(theirs.pk)}
    assert not AuditEvent.objects.filter(action__in=["view", "reveal", "create", "flag_closed", "flag_opened"]).exists()


def test_officer_caseload_and_search_do_not_list_other_officers_accounts(officer: User, other_officer: User) -> None:
    mine = make_account(officer, account_number="MINE-0001")
    theirs = make_account(other_officer, account_number="THEIRS-0001")
    client = signed_in(officer)
    page = client.get("/cases/").content.decode()
    assert mine.account_number in page
    assert theirs.account_number not in page
    search = client.get("/cases/", {"q": "THEIRS-0001"})
    assert search.status_code == 200
    assert search.context["caseload"].rows == []
    assert search.context["caseload"].total_count == 0
    assert f'href="/cases/{theirs.pk}/"' not in search.content.decode()
    event = AuditEvent.objects.filter(action="list").latest("id")
    assert f"borrower:{theirs.borrower_id}" not in event.persons


def test_contact_of_another_borrower_is_refused_on_reveal(officer: User, other_officer: User) -> None:
    mine = make_account(officer)
    theirs = make_account(other_officer)
    their_contact = make_contact(theirs.borrower)
    response = signed_in(officer).post(
        f"/cases/{mine.pk}/reveal/", {"field": f"contact.{their_contact.pk}.phone", "purpose": "call_contact"}
    )
    assert response.status_code == 400
    assert their_contact.phone not in response.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_flag_of_another_account_is_404_on_close(officer: User, other_officer: User) -> None:
    mine = make_account(officer)
    theirs = make_account(other_officer)
    their_flag = Flag.objects.create(
        account=theirs, kind=Flag.Kind.HARDSHIP, opened_reason="r", opened_by=other_officer, opened_at=theirs.updated_at
    )
    response = signed_in(officer).post(f"/cases/{mine.pk}/flags/{their_flag.pk}/close/", {"reason": "nope"})
    assert response.status_code == 404
    assert Flag.objects.get(pk=their_flag.pk).is_open


def test_reassigned_account_leaves_the_old_officers_scope(officer: User, other_officer: User) -> None:
    from collections_app.services.accounts import account_assign

    account = make_account(officer)
    assert signed_in(officer).get(f"/cases/{account.pk}/").status_code == 200
    account_assign(accounts=[account], officer=other_officer)
    assert signed_in(officer).get(f"/cases/{account.pk}/").status_code == 404
    assert signed_in(other_officer).get(f"/cases/{account.pk}/").status_code == 200


def test_user_with_another_role_and_an_object_grant_still_gets_403() -> None:
    approver_with_grant = make_user("erin", RISK_APPROVER)
    account = make_account(approver_with_grant)
    assert signed_in(approver_with_grant).get(f"/cases/{account.pk}/").status_code == 403
