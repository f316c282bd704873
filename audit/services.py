"""Writes of the audit log: the single entry point for events, sealing, and recording verify runs."""

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from audit.chain import SealResult, VerifyResult, seal
from audit.context import current_context
from audit.models import AuditEvent, VerificationRun
from audit.sinks import CheckpointSink

logger = logging.getLogger(__name__)


class AuditWriteError(Exception):
    """An audit event could not be written; the caller must not show the data."""


def _insert(**values: Any) -> AuditEvent:
    """One INSERT ... RETURNING: the whole cost of an event to the request that writes it."""
    return AuditEvent.objects.create(**values)


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

    `persons` are `borrower:<id>` / `contact:<id>`; `fields` are field names, never values. The event
    is written unsealed, in one round trip and without any chain-wide lock; the sealer chains it.
    """
    context = current_context()
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, actor_username = actor.pk, actor.get_username()
    elif context is not None:
        actor_id, actor_username = context.user_id, context.username
    else:
        actor_id, actor_username = None, ""
    try:
        return _insert(
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
        logger.exception("audit event %r could not be written", action)
        raise AuditWriteError(str(exc)) from exc


def audit_chain_seal(*, sink: CheckpointSink | None = None) -> SealResult:
    """Seal every pending event into the chain and write a signed checkpoint (one sealer at a time)."""
    result = seal(sink=sink)
    if result.sealed:
        logger.info("audit: sealed %d events, tree size %d", result.sealed, result.tree_size)
    return result


def verification_run_record(*, result: VerifyResult, started_at: datetime.datetime) -> VerificationRun:
    """Keep the outcome of one verify run for /audit/verify/."""
    with transaction.atomic():
        run = VerificationRun(
            started_at=started_at,
            ok=result.ok,
            events_checked=result.events,
            checkpoints_checked=result.checkpoints,
            first_bad_seq=result.first_bad_seq,
            bad_checkpoints=result.bad_checkpoints,
            summary="\n".join(result.reasons)[:10_000],
        )
        run.full_clean()
        run.save()
    return run
