"""Four eyes on access: one superuser requests, a second approves; nobody acts on themselves (issue 16)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.html import escape
from django.utils.translation import gettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AccessChange, Team
from access.roles import CASE_OFFICER, RISK_APPROVER, TEAM_LEAD, user_roles
from audit.models import AuditEvent
from review.models import ApproverPortfolio
from tests.conftest import signed_in
from tests.factories import make_portfolio, make_superuser, make_user

pytestmark = pytest.mark.django_db

NEW = "/access/changes/new/"


def superuser(username: str) -> User:
    return make_superuser(username)


@pytest.fixture
def admins() -> tuple[User, User, User]:
    """Three active superusers: a change taking one away still leaves two."""
    return superuser("root"), superuser("root2"), superuser("root3")


def request_change(client: Client, **data: str) -> object:
    return client.post(NEW, data)


def decide(client: Client, change_id: int, decision: str = "approve", reason: str = "checked with the manager"):
    return client.post(f"/access/changes/{change_id}/decide/", {"decision": decision, "reason": reason})


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_role_grant_is_in_force_only_after_the_second_administrators_approval(admins) -> None:
    root, root2, _ = admins
    olga = make_user("olga", CASE_OFFICER)
    response = request_change(signed_in(root), user="olga", change="grant_role", role=RISK_APPROVER)
    assert response.status_code == 302
    change = AccessChange.objects.get()
    assert change.status == "pending" and RISK_APPROVER not in user_roles(fresh(olga))
    assert AuditEvent.objects.filter(action="access_change_requested", object_id=str(change.pk)).exists()
    assert signed_in(root2).get("/access/changes/").status_code == 200

    assert decide(signed_in(root2), change.pk).status_code == 302
    change.refresh_from_db()
    assert change.status == "approved" and change.decided_by == root2
    assert RISK_APPROVER in user_roles(fresh(olga))
    assert change.before["roles"] == [CASE_OFFICER] and change.after["roles"] == [CASE_OFFICER, RISK_APPROVER]
    approved = AuditEvent.objects.get(action="access_change_approved")
    assert approved.detail["before"]["roles"] == [CASE_OFFICER]
    assert approved.detail["after"]["roles"] == [CASE_OFFICER, RISK_APPROVER]
    # The service's own event, with its actor; the database trigger stayed silent for it.
    granted = AuditEvent.objects.get(action="role_granted", detail__role=RISK_APPROVER)
    assert granted.actor_id == root2.pk and granted.detail["access_change"] == change.pk
    assert not AuditEvent.objects.filter(action="role_granted", detail__group=RISK_APPROVER).exists()


def test_a_self_grant_is_refused(admins) -> None:
    root = admins[0]
    response = request_change(signed_in(root), user="root", change="set_staff", value="false")
    assert response.status_code == 200
    assert escape(gettext("Nobody may request an access change about themselves.")) in response.content.decode()
    assert not AccessChange.objects.exists()


def test_a_self_request_is_refused_by_the_database(admins) -> None:
    from django.db import IntegrityError, transaction

    root = admins[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessChange.objects.create(user=root, kind="set_staff", value=False, requested_by=root)


def test_the_requester_cannot_decide(admins) -> None:
    root, root2, _ = admins
    make_user("olga", CASE_OFFICER)
    request_change(signed_in(root), user="olga", change="grant_role", role=RISK_APPROVER)
    change = AccessChange.objects.get()
    assert decide(signed_in(root), change.pk).status_code == 403
    change.refresh_from_db()
    assert change.status == "pending"
    assert AuditEvent.objects.filter(action="permission_denied", object_type="accesschange").exists()


def test_the_subject_cannot_decide_a_change_about_themselves(admins) -> None:
    root, root2, root3 = admins
    request_change(signed_in(root), user="root2", change="set_staff", value="false")
    change = AccessChange.objects.get()
    assert decide(signed_in(root2), change.pk).status_code == 403
    assert decide(signed_in(root3), change.pk).status_code == 302
    assert not fresh(root2).is_staff


def test_a_decision_on_a_decided_change_answers_409(admins) -> None:
    root, root2, root3 = admins
    make_user("olga", CASE_OFFICER)
    request_change(signed_in(root), user="olga", change="grant_role", role=TEAM_LEAD)
    change = AccessChange.objects.get()
    assert decide(signed_in(root2), change.pk, "reject", "not in the plan").status_code == 302
    assert decide(signed_in(root3), change.pk).status_code == 409
    change.refresh_from_db()
    assert change.status == "rejected" and change.decided_by == root2
    assert TEAM_LEAD not in user_roles(fresh(User.objects.get(username="olga")))
    assert AuditEvent.objects.filter(action="access_change_rejected").count() == 1


def test_the_pages_are_for_superusers_only(admins) -> None:
    client = signed_in(make_user("olga", CASE_OFFICER))
    assert client.get("/access/changes/").status_code == 403
    assert request_change(client, user="root", change="deactivate").status_code == 403
    assert not AccessChange.objects.exists()


def test_invalid_input_answers_200_and_writes_nothing(admins) -> None:
    client = signed_in(admins[0])
    make_user("olga", CASE_OFFICER)
    for data in (
        {"user": "nobody", "change": "deactivate"},
        {"user": "olga", "change": "grant_role", "role": ""},
        {"user": "olga", "change": "grant_portfolio", "portfolio": "no-such"},
        {"user": "olga", "change": "add_to_team", "team": "no-such"},
        {"user": "olga", "change": "set_staff", "value": "maybe"},
        {"user": "olga", "change": "fly"},
    ):
        assert request_change(client, **data).status_code == 200, data
    assert not AccessChange.objects.exists()
    assert not AuditEvent.objects.filter(action="access_change_requested").exists()


def test_two_active_superusers_must_remain() -> None:
    root, root2 = superuser("root"), superuser("root2")
    for data in ({"change": "deactivate"}, {"change": "set_superuser", "value": "false"}):
        response = request_change(signed_in(root), user="root2", **data)
        assert response.status_code == 200
        assert escape(gettext("At least two active superusers must remain.")) in response.content.decode()
    assert not AccessChange.objects.exists()
    # With a third, one of them may go: the requester, the decider and the subject are three different people,
    # so an approval always leaves the requester and the decider.
    root3 = superuser("root3")
    assert request_change(signed_in(root), user="root2", change="deactivate").status_code == 302
    assert decide(signed_in(root3), AccessChange.objects.get().pk).status_code == 302
    assert not fresh(root2).is_active
    assert User.objects.filter(is_superuser=True, is_active=True).count() == 2


def test_a_superuser_may_not_be_granted_a_role_nor_a_role_holder_made_superuser(admins) -> None:
    root = admins[0]
    make_user("carol", RISK_APPROVER)
    client = signed_in(root)
    assert request_change(client, user="root2", change="grant_role", role=RISK_APPROVER).status_code == 200
    assert request_change(client, user="carol", change="set_superuser", value="true").status_code == 200
    assert not AccessChange.objects.exists()


def test_portfolio_team_flag_and_credential_kinds_apply(admins) -> None:
    root, root2, _ = admins
    # An address to send the password-reset link to (tests/access/test_credential_reset.py).
    carol = make_user("carol", RISK_APPROVER, email="carol@example.com")
    make_portfolio("cn-consumer")
    team = Team.objects.create(name="East", lead=make_user("lena", TEAM_LEAD))
    TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    StaticDevice.objects.create(user=carol, name="recovery")
    steps = [
        {"change": "grant_portfolio", "portfolio": "cn-consumer"},
        {"change": "add_to_team", "team": "East"},
        {"change": "set_staff"},
        {"change": "reset_password"},
        {"change": "reset_mfa"},
        {"change": "deactivate"},
    ]
    for data in steps:
        assert request_change(signed_in(root), user="carol", **data).status_code == 302, data
        change = AccessChange.objects.latest("pk")
        assert decide(signed_in(root2), change.pk).status_code == 302, data
    carol = fresh(carol)
    assert ApproverPortfolio.objects.filter(user=carol, portfolio__code="cn-consumer").exists()
    assert list(team.members.all()) == [carol]
    assert carol.is_staff and not carol.has_usable_password() and not carol.is_active
    assert not TOTPDevice.objects.filter(user=carol).exists() and not StaticDevice.objects.filter(user=carol).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"password_reset", "mfa_reset", "user_deactivated", "assignment_changed"} <= actions
    for data in (
        {"change": "revoke_portfolio", "portfolio": "cn-consumer"},
        {"change": "remove_from_team", "team": "East"},
        {"change": "reactivate"},
    ):
        request_change(signed_in(root), user="carol", **data)
        decide(signed_in(root2), AccessChange.objects.latest("pk").pk)
    assert not ApproverPortfolio.objects.filter(user=carol).exists()
    assert not team.members.exists() and fresh(carol).is_active


def test_an_administrator_with_a_change_to_decide_lands_on_the_access_changes(admins) -> None:
    from access.views import landing_url

    root, root2, _ = admins
    assert landing_url(root2) == "/admin/"
    make_user("olga", CASE_OFFICER)
    request_change(signed_in(root), user="olga", change="grant_role", role=RISK_APPROVER)
    assert landing_url(root2) == "/access/changes/"
    assert landing_url(root) == "/admin/"  # the requester has nothing to decide


def test_an_overlong_reason_is_a_field_error_and_decides_nothing(admins) -> None:
    root, root2, _ = admins
    make_user("olga", CASE_OFFICER)
    request_change(signed_in(root), user="olga", change="grant_role", role=TEAM_LEAD)
    change = AccessChange.objects.get()
    response = decide(signed_in(root2), change.pk, "reject", "x" * 1001)
    assert response.status_code == 200
    assert response.context["form"].has_error("reason", "max_length")
    change.refresh_from_db()
    assert change.status == AccessChange.Status.PENDING
