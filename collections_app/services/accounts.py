"""Writes of the collections domain; each runs in one transaction with its audit event."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db import transaction

from audit.services import audit_record
from collections_app.models import LoanAccount, LoanAccountUserObjectPermission, UserPreference

WORK_PERMISSION = "work_loanaccount"


def work_permission() -> Permission:
    """The object permission that puts an account in an officer's caseload."""
    return Permission.objects.get(content_type__app_label="collections_app", codename=WORK_PERMISSION)


def account_assign(
    *, accounts: Iterable[LoanAccount], officer: AbstractBaseUser | None, actor: AbstractBaseUser | None = None
) -> int:
    """Assign accounts to `officer` (None: unassign): revoke the old officer's permission, grant the new one's."""
    permission = work_permission()
    changed = 0
    with transaction.atomic():
        for account in LoanAccount.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]):
            previous_id = account.officer_id
            new_id = officer.pk if officer is not None else None
            if previous_id == new_id:
                continue
            LoanAccountUserObjectPermission.objects.filter(content_object=account, permission=permission).delete()
            if officer is not None:
                LoanAccountUserObjectPermission.objects.create(
                    content_object=account, permission=permission, user=officer
                )
            LoanAccount.objects.filter(pk=account.pk).update(officer=officer)
            audit_record(
                action="assignment_changed",
                actor=actor,
                object_type="loanaccount",
                object_id=account.pk,
                persons=[f"borrower:{account.borrower_id}"],
                detail={"from_officer_id": previous_id, "to_officer_id": new_id},
            )
            changed += 1
    return changed


def user_language_set(*, user: AbstractBaseUser, language: str) -> None:
    """Remember the user's UI language."""
    with transaction.atomic():
        UserPreference.objects.update_or_create(user=user, defaults={"language": language})
