"""The auditor's pages require `audit.view_auditevent` held through a group: auditors have it (granted by
access's migration), a superuser and a user holding it directly do not, and every refusal is audited."""

import pytest
from django.contrib.auth.models import Group, Permission

from access.roles import COMPLIANCE_AUDITOR
from audit.permissions import AUDITOR_ROLE, VIEW_AUDIT_LOG, user_can_audit
from tests.audit.helpers import audit_mark, events_since
from tests.conftest import signed_in
from tests.factories import make_user

AUDITOR_PAGES = (
    "/audit/",
    "/audit/export.csv",
    "/audit/verify/",
    "/audit/person/borrower/1/",
    "/audit/person/borrower/1.csv",
)


def test_the_role_recorded_on_auditor_events_is_the_auditor_group() -> None:
    assert AUDITOR_ROLE == COMPLIANCE_AUDITOR


@pytest.mark.django_db
def test_the_auditor_group_holds_the_permission_the_pages_require() -> None:
    app_label, codename = VIEW_AUDIT_LOG.split(".")
    group = Group.objects.get(name=COMPLIANCE_AUDITOR)
    assert group.permissions.filter(content_type__app_label=app_label, codename=codename).exists()


@pytest.mark.django_db
def test_an_auditor_made_by_the_factories_may_audit(auditor) -> None:
    assert user_can_audit(auditor)
    assert signed_in(auditor).get("/audit/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", AUDITOR_PAGES)
def test_a_superuser_holds_no_role_and_is_refused_with_an_audited_403(admin_user, path: str) -> None:
    assert admin_user.has_perm(VIEW_AUDIT_LOG)  # Django's own check would let the superuser in
    mark = audit_mark()
    assert signed_in(admin_user).get(path).status_code == 403
    (denied,) = events_since(mark, action="permission_denied", actor_username="root")
    assert denied.outcome == "denied"
    assert denied.detail == {"path": path, "required_role": COMPLIANCE_AUDITOR}


@pytest.mark.django_db
def test_the_permission_held_directly_rather_than_through_a_group_does_not_count() -> None:
    app_label, codename = VIEW_AUDIT_LOG.split(".")
    user = make_user("erin")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    assert not user_can_audit(user)
    assert signed_in(user).get("/audit/").status_code == 403


@pytest.mark.django_db
def test_an_inactive_auditor_may_not_audit(auditor) -> None:
    auditor.is_active = False
    assert not user_can_audit(auditor)


@pytest.mark.django_db
@pytest.mark.parametrize("path", AUDITOR_PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# Two transactional tests in a row: the second runs after the first's flush and its serialized restore,
# so the grant must come back with the groups. (Written out: tests/conftest.py's hook appends its marker
# after a function's own, where get_closest_marker does not see it.)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("run", [1, 2])
def test_auditors_keep_the_permission_after_a_transactional_flush(run: int) -> None:
    auditor = make_user(f"auditor{run}", COMPLIANCE_AUDITOR)
    assert user_can_audit(auditor)
    assert signed_in(auditor).get("/audit/verify/").status_code == 200
