"""Writes of borrower flags: an officer sets or clears `represented` or `vulnerable` with a reason, audited.

While a flag is set the contact gate refuses the borrower (and their contacts): a represented borrower is
contacted only through the representative, a vulnerable customer's ladder is paused. Setting one suppresses what
is queued and cancels the open call tasks, in the same transaction, as a cease request does.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER
from audit.record import audit_record, person_key
from collections_app.messaging.status import suppress_pending
from collections_app.models import Borrower, BorrowerFlag, LoanAccount, Message
from collections_app.services.call_tasks import call_tasks_cancel_not_due


def borrower_flag_set(
    *,
    borrower: Borrower,
    account: LoanAccount,
    officer: AbstractBaseUser,
    kind: str,
    reason: str,
    representative: str = "",
) -> BorrowerFlag:
    """Flag the borrower as represented (naming the representative) or vulnerable; one open flag of each kind.

    `account` is the account page it was set on, for the audit event.
    """
    reason, representative = reason.strip(), representative.strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required.")})
    if kind == BorrowerFlag.Kind.REPRESENTED and not representative:
        raise ValidationError({"representative": _("Name the representative and how to reach them.")})
    already = ValidationError({"kind": _("This flag is already set on the borrower.")})
    try:
        with transaction.atomic():
            if BorrowerFlag.objects.filter(borrower=borrower, kind=kind, closed_at__isnull=True).exists():
                raise already
            flag = BorrowerFlag(
                borrower=borrower,
                kind=kind,
                representative=representative if kind == BorrowerFlag.Kind.REPRESENTED else "",
                opened_reason=reason,
                opened_by=officer,
                opened_at=timezone.now(),
            )
            flag.full_clean(validate_constraints=False)
            flag.save()
            _audit(flag, "borrower_flag_set", officer, account)
            # The flag's kind is also the reason code of what it stops (`represented`, `vulnerable`).
            suppress_pending(Message.objects.filter(borrower=borrower), reason=kind, actor=officer)
            call_tasks_cancel_not_due(
                reason=kind, account_ids=borrower.accounts.values_list("pk", flat=True), actor=officer
            )
    except IntegrityError as exc:
        # Another officer set the same flag at the same moment: the partial unique constraint kept one.
        raise already from exc
    return flag


def borrower_flag_clear(
    *, flag: BorrowerFlag, account: LoanAccount, officer: AbstractBaseUser, reason: str
) -> BorrowerFlag:
    """Clear a set flag with a reason; contact is allowed again from then on (nothing suppressed comes back)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required.")})
    with transaction.atomic():
        locked = BorrowerFlag.objects.select_for_update().get(pk=flag.pk)
        if not locked.is_open:
            raise ValidationError(_("This flag is already cleared."))
        locked.closed_reason, locked.closed_by, locked.closed_at = reason, officer, timezone.now()
        locked.full_clean(validate_constraints=False)
        locked.save(update_fields=["closed_reason", "closed_by", "closed_at"])
        _audit(locked, "borrower_flag_cleared", officer, account)
    return locked


def _audit(flag: BorrowerFlag, action: str, officer: AbstractBaseUser, account: LoanAccount) -> None:
    audit_record(
        action=action,
        actor=officer,
        role=CASE_OFFICER,
        object_type="borrowerflag",
        object_id=flag.pk,
        persons=[person_key("borrower", flag.borrower_id)],
        # The reasons and the representative's details stay on the flag: the event keeps ids and the kind.
        detail={"account_id": account.pk, "kind": flag.kind},
    )
