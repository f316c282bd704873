"""Writes of phone-call tasks: an officer closes one; a write that ends the need for a call cancels the open ones.

The ladder creates the tasks (`collections_app.messaging.ladder_calls`); these services close them, each
change in the caller's transaction with its `update` audit event.
"""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER
from audit.record import audit_record, audit_record_many, person_key
from collections_app.dpd import lender_today
from collections_app.models import CallTask, LoanAccount
from collections_app.selectors.profiles import call_task_accounts, current_policy_versions

CLOSED_CALL_TASK_STATUSES = (CallTask.Status.DONE, CallTask.Status.CANCELLED)


def call_task_close(*, task: CallTask, officer: AbstractBaseUser, status: str) -> CallTask:
    """Close one open phone-call task as done or cancelled; a task no longer open is refused."""
    if status not in CLOSED_CALL_TASK_STATUSES:
        raise ValidationError({"status": _("Choose done or cancelled.")})
    with transaction.atomic():
        locked = CallTask.objects.select_for_update(of=("self",)).select_related("account").get(pk=task.pk)
        if locked.status != CallTask.Status.OPEN:
            raise ValidationError(_("This call task is already closed."))
        call_task_set_closed(task=locked, officer=officer, account=locked.account, status=status)
    return locked


def call_task_set_closed(
    *,
    task: CallTask,
    officer: AbstractBaseUser,
    account: LoanAccount,
    status: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Close a task locked by the caller, inside the caller's transaction, with its audit event."""
    task.status = status
    task.closed_at = timezone.now()
    # Only the status and its time change: the foreign keys and the one-per-day key need no new look-up.
    task.full_clean(exclude={"account", "officer", "policy_version", "due_date", "dpd"})
    task.save(update_fields=["status", "closed_at"])
    audit_record(
        action="update",
        actor=officer,
        role=CASE_OFFICER,
        object_type="calltask",
        object_id=task.pk,
        persons=[person_key("borrower", account.borrower_id)],
        detail={"account_id": account.pk, "status": status, **(detail or {})},
    )


# Ids per statement when cancelling call tasks (bind parameters are limited).
CANCEL_CHUNK = 5000


def call_tasks_cancel_not_due(
    *,
    reason: str,
    account_ids: Iterable[int] | None = None,
    actor: AbstractBaseUser | None = None,
    role: str = CASE_OFFICER,
    today: datetime.date | None = None,
) -> int:
    """Cancel the open call tasks of accounts the ladder would no longer ask to call; how many were cancelled.

    An account leaves the call list when it is paid, paused (pending promise, kept plan, open flag), its
    borrower asked for communication to cease or stopped calls, or its profile no longer calls at its DPD.
    Each write that can cause one of these calls this for the accounts it touched (`account_ids`), in its
    own transaction; each escalation run calls it for the whole book (None), which also catches a change
    made another way (a plan entered in the admin). Each cancelled task gets an `update` event, in `role` when
    a signed-in actor caused it.
    """
    today = today or lender_today()
    ids = None if account_ids is None else sorted(set(account_ids))
    if ids == []:
        return 0
    chunks = [None] if ids is None else [ids[i : i + CANCEL_CHUNK] for i in range(0, len(ids), CANCEL_CHUNK)]
    now = timezone.now()
    events: list[dict[str, object]] = []
    with transaction.atomic():
        for policy in current_policy_versions(at=now).values():
            still_due = call_task_accounts(policy, today).filter(pk=OuterRef("account_id"))
            for chunk in chunks:
                open_tasks = CallTask.objects.filter(
                    status=CallTask.Status.OPEN, account__portfolio__policy_profile_id=policy.profile_id
                )
                if chunk is not None:
                    open_tasks = open_tasks.filter(account_id__in=chunk)
                stale = list(
                    open_tasks.exclude(Exists(still_due))
                    .select_for_update(of=("self",))
                    .values_list("pk", "account_id", "account__borrower_id")
                )
                for start in range(0, len(stale), CANCEL_CHUNK):
                    CallTask.objects.filter(pk__in=[row[0] for row in stale[start : start + CANCEL_CHUNK]]).update(
                        status=CallTask.Status.CANCELLED, closed_at=now
                    )
                events += (
                    {
                        "action": "update",
                        "actor": actor,
                        "role": role if getattr(actor, "is_authenticated", False) else "",
                        "object_type": "calltask",
                        "object_id": pk,
                        "persons": [person_key("borrower", borrower_id)],
                        "detail": {"account_id": account_id, "status": CallTask.Status.CANCELLED, "reason": reason},
                    }
                    for pk, account_id, borrower_id in stale
                )
        audit_record_many(events)
    return len(events)
