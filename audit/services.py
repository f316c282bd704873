"""The single entry point that writes audit events."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from audit.context import current_context
from audit.models import AuditEvent


class AuditWriteError(Exception):
    """An audit event could not be written; the caller must not show the data."""


def audit_record(
    *,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    role: str = "",
    object_type: str = "",
    object_id: int | str = "",
    persons: Iterable[str] = (),
    fields: Iterable[str] = (),
    purpose: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event in the current transaction; raise AuditWriteError if it cannot be written.

    `persons` are `borrower:<id>` / `contact:<id>`; `fields` are field names, never values.
    """
    context = current_context()
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, actor_username = actor.pk, actor.get_username()
    elif context is not None:
        actor_id, actor_username = context.user_id, context.username
    else:
        actor_id, actor_username = None, ""
    try:
        return AuditEvent.objects.create(
            actor_id=actor_id,
            actor_username=actor_username,
            role=role,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            persons=sorted(set(persons)),
            fields=sorted(set(fields)),
            purpose=purpose,
            outcome=outcome,
            request_id=context.request_id if context else "",
            ip=context.ip if context else None,
            detail=detail or {},
        )
    except Exception as exc:  # noqa: BLE001 - any failure must stop the caller from showing data
        raise AuditWriteError(str(exc)) from exc
