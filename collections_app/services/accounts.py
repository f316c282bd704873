"""Writes of the collections domain; each runs in one transaction with its audit event."""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER
from audit.record import audit_record, person_key
from collections_app.account_rules import RevealPurpose, RevealTarget, promise_terms_errors
from collections_app.dpd import lender_today
from collections_app.models import (
    Borrower,
    CallTask,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    PromiseToPay,
    UserPreference,
)
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.call_tasks import call_task_set_closed, call_tasks_cancel_not_due

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
                persons=[person_key("borrower", account.borrower_id)],
                detail={"from_officer_id": previous_id, "to_officer_id": new_id},
            )
            changed += 1
    return changed


def user_language_set(*, user: AbstractBaseUser, language: str) -> None:
    """Remember the user's UI language."""
    with transaction.atomic():
        UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def _borrower_person(account: LoanAccount) -> str:
    return person_key("borrower", account.borrower_id)


def interaction_log(
    *,
    account: LoanAccount,
    officer: AbstractBaseUser,
    outcome: str,
    note: str = "",
    channel: str = Interaction.Channel.PHONE,
    occurred_at: datetime.datetime | None = None,
) -> Interaction:
    """Record a contact attempt or conversation on an account the officer works."""
    with transaction.atomic():
        interaction = Interaction(
            account=account,
            officer=officer,
            outcome=outcome,
            note=note.strip(),
            channel=channel,
            occurred_at=occurred_at or timezone.now(),
        )
        interaction.full_clean()
        interaction.save()
        audit_record(
            action="create",
            actor=officer,
            role=CASE_OFFICER,
            object_type="interaction",
            object_id=interaction.pk,
            persons=[_borrower_person(account)],
            detail={"account_id": account.pk, "outcome": outcome, "channel": channel},
        )
        if channel == Interaction.Channel.PHONE:
            # The call the ladder asked for was made: its task, and any older one still open, is done.
            call_day = min(lender_today(interaction.occurred_at), lender_today())
            for task in CallTask.objects.select_for_update().filter(
                account=account, status=CallTask.Status.OPEN, due_date__lte=call_day
            ):
                call_task_set_closed(
                    task=task,
                    officer=officer,
                    account=account,
                    status=CallTask.Status.DONE,
                    detail={"interaction_id": interaction.pk},
                )
    return interaction


def promise_create(
    *, account: LoanAccount, officer: AbstractBaseUser, promised_date: datetime.date, amount: Decimal
) -> PromiseToPay:
    """Record a borrower's promise to pay `amount` by `promised_date`: within the profile's horizon, at most
    what is outstanding."""
    with transaction.atomic():
        # Locked: the outstanding balance the amount is checked against must not change before the write.
        locked = LoanAccount.objects.select_for_update().get(pk=account.pk)
        policy = policy_version_for_account(locked)
        if errors := promise_terms_errors(
            promised_date=promised_date,
            amount=amount,
            outstanding=locked.outstanding,
            today=lender_today(),
            horizon_days=policy.promise_horizon_days,
        ):
            raise ValidationError(errors)
        promise = PromiseToPay(account=account, created_by=officer, promised_date=promised_date, amount=amount)
        promise.full_clean()
        promise.save()
        audit_record(
            action="create",
            actor=officer,
            role=CASE_OFFICER,
            object_type="promisetopay",
            object_id=promise.pk,
            persons=[_borrower_person(account)],
            detail={"account_id": account.pk, "promised_date": promised_date.isoformat(), "amount": str(amount)},
        )
        call_tasks_cancel_not_due(reason="promise", account_ids=[account.pk], actor=officer)
    return promise


def flag_open(*, account: LoanAccount, officer: AbstractBaseUser, kind: str, reason: str) -> Flag:
    """Open a dispute or hardship flag with a reason; one open flag of each kind per account."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required.")})
    try:
        with transaction.atomic():
            # Lock the account so two officers opening the same kind at once get one flag and one clear error.
            LoanAccount.objects.select_for_update().filter(pk=account.pk).first()
            if Flag.objects.filter(account=account, kind=kind, closed_at__isnull=True).exists():
                raise ValidationError({"kind": _("A flag of this kind is already open on this account.")})
            flag = Flag(account=account, kind=kind, opened_reason=reason, opened_by=officer, opened_at=timezone.now())
            flag.full_clean()
            flag.save()
            audit_record(
                action="flag_opened",
                actor=officer,
                role=CASE_OFFICER,
                object_type="flag",
                object_id=flag.pk,
                persons=[_borrower_person(account)],
                detail={"account_id": account.pk, "kind": kind},
            )
            call_tasks_cancel_not_due(reason="flag", account_ids=[account.pk], actor=officer)
    except IntegrityError as exc:
        raise ValidationError({"kind": _("A flag of this kind is already open on this account.")}) from exc
    return flag


def flag_close(*, flag: Flag, officer: AbstractBaseUser, reason: str) -> Flag:
    """Close an open flag with a reason."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required.")})
    with transaction.atomic():
        locked = Flag.objects.select_for_update().select_related("account").get(pk=flag.pk)
        if not locked.is_open:
            raise ValidationError(_("This flag is already closed."))
        locked.closed_reason = reason
        locked.closed_by = officer
        locked.closed_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["closed_reason", "closed_by", "closed_at"])
        audit_record(
            action="flag_closed",
            actor=officer,
            role=CASE_OFFICER,
            object_type="flag",
            object_id=locked.pk,
            persons=[_borrower_person(locked.account)],
            detail={"account_id": locked.account_id, "kind": locked.kind},
        )
    return locked


def personal_value_reveal(
    *,
    account: LoanAccount,
    person: Borrower | Contact,
    target: RevealTarget,
    purpose: str,
    actor: AbstractBaseUser,
    role: str = CASE_OFFICER,
) -> str:
    """Record the reveal of one full personal value for a stated purpose, then return the value."""
    if purpose not in RevealPurpose.values:
        raise ValidationError({"purpose": _("Choose a valid purpose.")})
    if isinstance(person, Contact):
        if person.borrower_id != account.borrower_id or target.person_type != "contact":
            raise ValidationError({"field": _("This contact does not belong to this account.")})
        revealed_person = person_key("contact", person.pk)
    else:
        if person.pk != account.borrower_id or target.person_type != "borrower":
            raise ValidationError({"field": _("This borrower does not belong to this account.")})
        revealed_person = person_key("borrower", person.pk)
    with transaction.atomic():
        # The event is written (and committed) before the value leaves: fail closed if it cannot be.
        audit_record(
            action="reveal",
            actor=actor,
            role=role,
            object_type="loanaccount",
            object_id=account.pk,
            persons=[revealed_person],
            fields=[target.field],
            purpose=purpose,
        )
    return getattr(person, target.attribute)
