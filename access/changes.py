"""Access-change services: one superuser requests, a second, different one approves or rejects.

Each step is one transaction with its audit event; an approval applies the change (access/change_kinds.py)
in that same transaction, so a change is either in force and recorded, or neither.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.change_kinds import access_change_apply, access_change_validate, user_access_state
from access.models import AccessChange, Team
from audit.record import audit_record

Status = AccessChange.Status
DECISIONS = ("approve", "reject")


class AccessChangeConflict(Exception):
    """The change is no longer pending: someone decided it first."""


def user_is_administrator(user: User) -> bool:
    """Whether `user` may request and decide access changes: an active superuser."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _deny(actor: User, why: str, change_id: int | None = None) -> None:
    audit_record(
        action="permission_denied",
        actor=actor,
        outcome="denied",
        object_type="accesschange",
        object_id=change_id or "",
        detail={"why": why},
    )
    raise PermissionDenied(why)


def _target(change: AccessChange) -> dict[str, object]:
    return {
        "user": change.user.get_username(),
        "change": change.kind,
        "role": change.role,
        "portfolio": change.portfolio,
        "team": change.team.name if change.team_id else "",
        "value": change.value,
    }


def access_change_request(
    *,
    actor: User,
    user: User,
    kind: str,
    role: str = "",
    portfolio: str = "",
    team: Team | None = None,
    value: bool | None = None,
) -> AccessChange:
    """File a change about `user`; it does nothing until a second superuser approves it."""
    if not user_is_administrator(actor):
        _deny(actor, "not an administrator")
    if actor.pk == user.pk:
        raise ValidationError({"user": _("Nobody may request an access change about themselves.")})
    change = AccessChange(
        user=user, kind=kind, role=role, portfolio=portfolio, team=team, value=value, requested_by=actor
    )
    access_change_validate(change)
    with transaction.atomic():
        change.before = user_access_state(user)
        change.save()
        audit_record(
            action="access_change_requested",
            actor=actor,
            object_type="accesschange",
            object_id=change.pk,
            detail={**_target(change), "before": change.before},
        )
    return change


def _check_decider(actor: User, change_id: int) -> None:
    # Requester and subject never change, so this is checked before the transaction: the denial's event stays.
    change = AccessChange.objects.get(pk=change_id)
    if actor.pk == change.requested_by_id:
        _deny(actor, "requested it", change.pk)
    if actor.pk == change.user_id:
        _deny(actor, "the change is about them", change.pk)


def access_change_decide(*, actor: User, change_id: int, decision: str, reason: str) -> AccessChange:
    """Approve (apply) or reject a pending change; 403 for its requester or subject, a conflict once decided."""
    if not user_is_administrator(actor):
        _deny(actor, "not an administrator", change_id)
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve or reject.")})
    if decision == "reject" and not reason.strip():
        raise ValidationError({"reason": _("A rejection needs a reason.")})
    _check_decider(actor, change_id)
    with transaction.atomic():
        change = AccessChange.objects.select_for_update().get(pk=change_id)
        if change.status != Status.PENDING:
            raise AccessChangeConflict(change.status)
        if decision == "approve":
            access_change_apply(change, actor)
            change.user.refresh_from_db()
            change.after = user_access_state(change.user)
        change.status = Status.APPROVED if decision == "approve" else Status.REJECTED
        change.decided_by, change.decided_at, change.reason = actor, timezone.now(), reason.strip()
        change.save(update_fields=["status", "decided_by", "decided_at", "reason", "after"])
        audit_record(
            action=f"access_change_{change.status}",
            actor=actor,
            object_type="accesschange",
            object_id=change.pk,
            detail={**_target(change), "reason": change.reason, "before": change.before, "after": change.after},
        )
    return change
