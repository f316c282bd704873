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
from audit.record import audit_record, audit_record_many, person_key
from collections_app.account_rules import RevealPurpose, RevealTarget, promise_terms_errors, reveal_purpose_refusal
from collections_app.dpd import lender_today
from collections_app.messaging.contact_facts import CallSubject, call_decisions
from collections_app.messaging.contact_gate import ContactDecision
from collections_app.models import (
    Borrower,
    CallTask,
    Complaint,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    PromiseToPay,
    UserPreference,
)
from collections_app.models.complaints import PENDING_STATUSES as COMPLAINTS_PENDING
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.call_tasks import call_task_set_closed, call_tasks_cancel_not_due

WORK_PERMISSION = "work_loanaccount"


def work_permission() -> Permission:
    """The object permission that puts an account in an officer's caseload."""
    return Permission.objects.get(content_type__app_label="collections_app", codename=WORK_PERMISSION)


# Ids per statement when reassigning (bind parameters are limited).
ASSIGN_CHUNK = 5000


def account_assign(
    *,
    accounts: Iterable[LoanAccount],
    officer: AbstractBaseUser | None,
    actor: AbstractBaseUser | None = None,
    role: str = "",
) -> int:
    """Assign accounts to `officer` (None: unassign); returns how many changed hands.

    Everything the account owns follows it, in one transaction: the old officer's object permission goes and
    the new one's comes, and the open phone-call tasks and the complaints still to be answered move to the new
    officer (unassigned, a complaint keeps its owner until someone takes the account). Family-contact requests
    and repayment plans belong to the account itself (the caseload scope finds them through it), so the new
    officer sees them and the old one no longer does. One `assignment_changed` event per account.
    """
    permission = work_permission()
    new_id = officer.pk if officer is not None else None
    ids = sorted({account.pk for account in accounts})
    events: list[dict[str, object]] = []
    with transaction.atomic():
        for start in range(0, len(ids), ASSIGN_CHUNK):
            chunk = ids[start : start + ASSIGN_CHUNK]
            changing = LoanAccount.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
            changing = changing.filter(officer__isnull=False) if new_id is None else changing.exclude(officer_id=new_id)
            rows = list(changing.values_list("pk", "officer_id", "borrower_id"))
            moved = [row[0] for row in rows]
            if not moved:
                continue
            LoanAccountUserObjectPermission.objects.filter(content_object_id__in=moved, permission=permission).delete()
            if officer is not None:
                LoanAccountUserObjectPermission.objects.bulk_create(
                    LoanAccountUserObjectPermission(content_object_id=pk, permission=permission, user=officer)
                    for pk in moved
                )
            LoanAccount.objects.filter(pk__in=moved).update(officer=officer)
            CallTask.objects.filter(account_id__in=moved, status=CallTask.Status.OPEN).update(officer=officer)
            if officer is not None:
                Complaint.objects.filter(account_id__in=moved, status__in=COMPLAINTS_PENDING).update(owner=officer)
            events += (
                {
                    "action": "assignment_changed",
                    "actor": actor,
                    "role": role,
                    "object_type": "loanaccount",
                    "object_id": pk,
                    "persons": [person_key("borrower", borrower_id)],
                    "detail": {"from_officer_id": previous_id, "to_officer_id": new_id},
                }
                for pk, previous_id, borrower_id in rows
            )
        audit_record_many(events)
    return len(events)


def user_language_set(*, user: AbstractBaseUser, language: str) -> None:
    """Remember the user's UI language."""
    with transaction.atomic():
        UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def _borrower_person(account: LoanAccount) -> str:
    return person_key("borrower", account.borrower_id)


class CallRefused(ValidationError):
    """The contact gate refuses the call now and no override reason was given; `decision` says why."""

    def __init__(self, decision: ContactDecision) -> None:
        super().__init__([reason.text for reason in decision.reasons], code="contact_gate")
        self.decision = decision


def _call_gate(
    *, account: LoanAccount, contact: Contact | None, moment: datetime.datetime, override_reason: str
) -> ContactDecision:
    """The gate's answer to this call, the borrower locked (two calls at once never both pass a cap)."""
    if contact is not None and contact.borrower_id != account.borrower_id:
        raise ValidationError({"contact": _("This contact is not one of this borrower's contacts.")})
    if override_reason and len(override_reason) < Interaction.OVERRIDE_REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "override_reason": _("An override reason needs at least %(n)d characters.")
                % {"n": Interaction.OVERRIDE_REASON_MIN_LENGTH}
            }
        )
    [decision] = call_decisions([CallSubject.of(account, contact)], now=moment, lock_borrowers=True)
    if not decision.allowed and not override_reason:
        raise CallRefused(decision)
    return decision


def _compliance_exception(
    interaction: Interaction, decision: ContactDecision, officer: AbstractBaseUser, persons: list[str]
) -> None:
    """The audit event of a call made against the gate: the rules broken and the profile version."""
    audit_record(
        action="compliance_exception",
        actor=officer,
        role=CASE_OFFICER,
        object_type="interaction",
        object_id=interaction.pk,
        persons=persons,
        detail={
            "account_id": interaction.account_id,
            "contact_id": interaction.contact_id,
            "channel": interaction.channel,
            "rules": list(decision.codes),
            "reasons": [reason.text for reason in decision.reasons],
            "profile_version": decision.policy_version,
            "policy_version_id": decision.policy_version_id,
        },
    )


def interaction_log(
    *,
    account: LoanAccount,
    officer: AbstractBaseUser,
    outcome: str,
    note: str = "",
    channel: str = Interaction.Channel.PHONE,
    occurred_at: datetime.datetime | None = None,
    contact: Contact | None = None,
    override_reason: str = "",
) -> Interaction:
    """Record a contact attempt or conversation on an account the officer works, with the borrower or `contact`.

    A phone call is put to the contact gate at its moment: one the gate refuses raises CallRefused (nothing is
    written) unless `override_reason` (at least 20 characters) says why it was made anyway; it is then written
    with that reason and a `compliance_exception` event.
    """
    override_reason = override_reason.strip()
    moment = occurred_at or timezone.now()
    with transaction.atomic():
        decision = None
        if channel == Interaction.Channel.PHONE:
            decision = _call_gate(account=account, contact=contact, moment=moment, override_reason=override_reason)
        elif contact is not None and contact.borrower_id != account.borrower_id:
            raise ValidationError({"contact": _("This contact is not one of this borrower's contacts.")})
        exception = decision is not None and not decision.allowed
        interaction = Interaction(
            account=account,
            officer=officer,
            contact=contact,
            outcome=outcome,
            note=note.strip(),
            channel=channel,
            occurred_at=moment,
            # Kept only for a call made against the gate: the exception's own words.
            override_reason=override_reason if exception else "",
        )
        interaction.full_clean()
        interaction.save()
        persons = [_borrower_person(account)] + ([person_key("contact", contact.pk)] if contact else [])
        audit_record(
            action="create",
            actor=officer,
            role=CASE_OFFICER,
            object_type="interaction",
            object_id=interaction.pk,
            persons=persons,
            detail={
                "account_id": account.pk,
                "outcome": outcome,
                "channel": channel,
                "contact_id": interaction.contact_id,
            },
        )
        if exception:
            _compliance_exception(interaction, decision, officer, persons)
        if channel == Interaction.Channel.PHONE and contact is None:
            _close_call_tasks(interaction, account, officer)
    return interaction


def _close_call_tasks(interaction: Interaction, account: LoanAccount, officer: AbstractBaseUser) -> None:
    """The call the ladder asked for was made to the borrower: its task, and any older one still open, is done."""
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


def promise_create(
    *, account: LoanAccount, officer: AbstractBaseUser, promised_date: datetime.date, amount: Decimal
) -> PromiseToPay:
    """Record a borrower's promise to pay `amount` by `promised_date`: within the profile's horizon, at most
    what is outstanding."""
    with transaction.atomic():
        # Locked: the outstanding balance the amount is checked against must not change before the write.
        locked = LoanAccount.objects.select_for_update().get(pk=account.pk)
        policy = policy_version_for_account(locked, at=timezone.now())
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
    """Record the reveal of one full personal value for a stated purpose, then return the value.

    The purpose must be one the account's policy version in force allows for this field (account_rules); otherwise a
    ValidationError on `purpose`, and nothing is revealed or recorded.
    """
    if purpose not in RevealPurpose.values:
        raise ValidationError({"purpose": _("Choose a valid purpose.")})
    policy = policy_version_for_account(account, at=timezone.now())
    if refusal := reveal_purpose_refusal(policy=policy, target=target, purpose=purpose):
        raise ValidationError({"purpose": refusal})
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
