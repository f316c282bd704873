"""The admin: personal fields masked on lists and forms, every page audited, assignment by a bulk action."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.models import LoanAccountUserObjectPermission
from collections_app.selectors.accounts import loan_accounts_for_user
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_payment, make_user

pytestmark = pytest.mark.django_db


def test_borrower_list_and_change_page_show_personal_fields_masked_and_are_audited(admin_user: User) -> None:
    account = make_account()
    borrower = account.borrower
    client = signed_in(admin_user)
    listing = client.get("/admin/collections_app/borrower/")
    assert listing.status_code == 200
    change = client.get(f"/admin/collections_app/borrower/{borrower.pk}/change/")
    assert change.status_code == 200
    for response in (listing, change):
        content = response.content.decode()
        assert borrower.name not in content
        assert borrower.phone not in content
        assert borrower.id_number not in content
        assert "1101**********4514" in content
    # Personal values are not form inputs: they change by import only.
    assert 'name="name"' not in change.content.decode()
    assert 'name="phone"' not in change.content.decode()
    list_event = AuditEvent.objects.get(action="list", object_type="borrower")
    assert list_event.persons == [f"borrower:{borrower.pk}"]
    assert set(list_event.fields) == {"borrower.name", "borrower.phone", "borrower.id_number"}
    view_event = AuditEvent.objects.get(action="view", object_type="borrower")
    assert view_event.object_id == str(borrower.pk)
    assert view_event.persons == [f"borrower:{borrower.pk}"]
    assert view_event.actor_username == "root"


def test_contact_admin_masks_and_audits_the_contact(admin_user: User) -> None:
    account = make_account()
    contact = make_contact(account.borrower, name="赵大海", phone="+8613711112222")
    client = signed_in(admin_user)
    for url in ("/admin/collections_app/contact/", f"/admin/collections_app/contact/{contact.pk}/change/"):
        content = client.get(url).content.decode()
        assert "赵大海" not in content and "13711112222" not in content
        assert "137****2222" in content
    assert AuditEvent.objects.get(action="list", object_type="contact").persons == [f"contact:{contact.pk}"]
    assert AuditEvent.objects.get(action="view", object_type="contact").persons == [f"contact:{contact.pk}"]


def test_loan_account_list_masks_the_borrower_and_filters_by_bucket(admin_user: User) -> None:
    late = make_account(dpd=45)
    current = make_account(dpd=-1)
    client = signed_in(admin_user)
    response = client.get("/admin/collections_app/loanaccount/", {"bucket": "31-60"})
    content = response.content.decode()
    assert late.account_number in content
    assert current.account_number not in content
    assert late.borrower.name not in content
    event = AuditEvent.objects.get(action="list", object_type="loanaccount")
    assert event.persons == [f"borrower:{late.borrower_id}"]
    assert event.fields == ["borrower.name"]


def test_loan_account_changelist_query_count_does_not_grow_with_rows(admin_user: User) -> None:
    client = signed_in(admin_user)
    make_account()
    with CaptureQueriesContext(connection) as one:
        client.get("/admin/collections_app/loanaccount/")
    for _ in range(30):
        make_account()
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/collections_app/loanaccount/")
    assert len(many) == len(one)


def test_payment_admin_is_read_only_and_audited(admin_user: User) -> None:
    account = make_account()
    payment = make_payment(account, 100)
    client = signed_in(admin_user)
    assert client.get("/admin/collections_app/payment/").status_code == 200
    assert client.get("/admin/collections_app/payment/add/").status_code == 403
    assert client.get(f"/admin/collections_app/payment/{payment.pk}/change/").status_code == 200
    assert AuditEvent.objects.get(action="view", object_type="payment").persons == [f"borrower:{account.borrower_id}"]


def test_bulk_assignment_asks_for_an_officer_then_moves_the_object_permission(
    admin_user: User, officer: User, other_officer: User
) -> None:
    accounts = [make_account(officer) for _ in range(2)]
    make_user("erin", RISK_APPROVER)
    client = signed_in(admin_user)
    selected = {"action": "assign_to_officer", "_selected_action": [a.pk for a in accounts]}
    step = client.post("/admin/collections_app/loanaccount/", selected)
    assert step.status_code == 200
    choices = [choice for choice, _label in step.context["form"].fields["officer"].choices if choice]
    assert {str(c) for c in choices} == {str(officer.pk), str(other_officer.pk)}
    assert not AuditEvent.objects.filter(action="assignment_changed", actor_username="root").exists()

    done = client.post("/admin/collections_app/loanaccount/", {**selected, "apply": "1", "officer": other_officer.pk})
    assert done.status_code == 302
    assert set(loan_accounts_for_user(other_officer)) == set(accounts)
    assert not loan_accounts_for_user(officer).exists()
    events = AuditEvent.objects.filter(action="assignment_changed", actor_username="root")
    assert events.count() == 2
    assert {e.detail["to_officer_id"] for e in events} == {other_officer.pk}
    assert signed_in(officer).get(f"/cases/{accounts[0].pk}/").status_code == 404
    assert signed_in(other_officer).get(f"/cases/{accounts[0].pk}/").status_code == 200


def test_assigning_to_nobody_revokes_the_permission(admin_user: User, officer: User) -> None:
    account = make_account(officer)
    client = signed_in(admin_user)
    response = client.post(
        "/admin/collections_app/loanaccount/",
        {"action": "assign_to_officer", "_selected_action": [account.pk], "apply": "1", "officer": ""},
    )
    assert response.status_code == 302
    assert not LoanAccountUserObjectPermission.objects.filter(content_object=account).exists()
    account.refresh_from_db()
    assert account.officer is None


def test_assignment_to_a_user_without_the_officer_role_is_refused(admin_user: User, officer: User) -> None:
    account = make_account(officer)
    approver = make_user("erin", RISK_APPROVER)
    response = signed_in(admin_user).post(
        "/admin/collections_app/loanaccount/",
        {"action": "assign_to_officer", "_selected_action": [account.pk], "apply": "1", "officer": approver.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["officer"]
    assert list(loan_accounts_for_user(officer)) == [account]


def test_every_collections_model_of_this_module_is_registered() -> None:
    from django.contrib import admin

    from collections_app import models

    for model in (
        models.Borrower,
        models.Contact,
        models.LoanAccount,
        models.Payment,
        models.PromiseToPay,
        models.RepaymentPlan,
        models.Interaction,
        models.Flag,
        models.UserPreference,
        models.Portfolio,
    ):
        assert admin.site.is_registered(model), model
