"""What the database holds whoever writes: no superuser in a role; group and flag changes audited (issue 16)."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, connection, transaction

from access.roles import CASE_OFFICER, RISK_APPROVER
from audit.models import AuditEvent
from tests.audit.conftest import audit_keys  # noqa: F401 - the signing keys the seal's checkpoint needs
from tests.factories import make_superuser, make_user

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.postgresql_only


def superuser(username: str = "root") -> User:
    return make_superuser(username)


def test_a_superuser_cannot_join_a_role_group_through_the_orm() -> None:
    root = superuser()
    with pytest.raises(IntegrityError), transaction.atomic():
        root.groups.add(Group.objects.get(name=RISK_APPROVER))
    assert not root.groups.exists()


def test_a_superuser_cannot_join_a_role_group_through_raw_sql() -> None:
    root = superuser()
    group = Group.objects.get(name=RISK_APPROVER)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [root.pk, group.pk])
    assert not root.groups.exists()


def test_a_role_holder_cannot_become_superuser_through_raw_sql() -> None:
    carol = make_user("carol", RISK_APPROVER)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET is_superuser = TRUE WHERE id = %s", [carol.pk])
    carol.refresh_from_db()
    assert not carol.is_superuser


def test_a_superuser_may_join_a_group_that_is_no_role() -> None:
    root = superuser()
    root.groups.add(Group.objects.create(name="newsletter"))
    assert root.groups.count() == 1


@postgresql_only
def test_a_group_change_made_in_the_shell_is_audited() -> None:
    olga = make_user("olga", CASE_OFFICER)
    olga.groups.add(Group.objects.get(name=RISK_APPROVER))
    granted = AuditEvent.objects.filter(action="role_granted", object_id=str(olga.pk)).latest("id")
    assert granted.actor_id is None and granted.seq is None
    assert granted.detail["group"] == RISK_APPROVER and granted.detail["source"] == "database"
    olga.groups.remove(Group.objects.get(name=RISK_APPROVER))
    revoked = AuditEvent.objects.get(action="role_revoked", object_id=str(olga.pk))
    assert revoked.detail == granted.detail | {"db_user": revoked.detail["db_user"]}


@postgresql_only
def test_a_group_change_in_raw_sql_is_audited() -> None:
    olga = make_user("olga")
    group = Group.objects.get(name=RISK_APPROVER)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [olga.pk, group.pk])
    event = AuditEvent.objects.get(action="role_granted", object_id=str(olga.pk))
    assert event.object_type == "user" and event.detail["username"] == "olga"


@postgresql_only
def test_a_flag_change_in_raw_sql_is_audited_with_before_and_after() -> None:
    olga = make_user("olga")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET is_staff = TRUE, last_login = now() WHERE id = %s", [olga.pk])
    event = AuditEvent.objects.get(action="update", object_type="user", object_id=str(olga.pk))
    assert event.fields == ["is_staff"]
    assert event.detail["before"]["is_staff"] is False and event.detail["after"]["is_staff"] is True
    # A change that leaves the flags as they were is no event.
    olga.refresh_from_db()
    olga.save()
    assert AuditEvent.objects.filter(object_type="user", object_id=str(olga.pk)).count() == 1


@postgresql_only
@pytest.mark.usefixtures("audit_keys")
def test_the_events_the_trigger_writes_are_sealed_and_verify(capsys) -> None:
    from django.core.management import call_command

    from audit.chain.seal import seal

    olga = make_user("olga")
    olga.groups.add(Group.objects.get(name=RISK_APPROVER))
    User.objects.filter(pk=olga.pk).update(is_active=False)
    seal()
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    call_command("verify_audit")  # exits 1 (SystemExit) when anything does not verify
    assert capsys.readouterr().out.startswith("ok ")
