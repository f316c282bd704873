"""Writes of the audit log: the single entry point for events, sealing, and recording verify runs."""

import datetime
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction

from audit.chain import SealResult, VerifyResult, seal
from audit.context import current_context
from audit.models import AuditEvent, VerificationRun
from audit.sinks import CheckpointSink

logger = logging.getLogger(__name__)


class AuditWriteError(Exception):
    """An audit event could not be written; the caller must not show the data."""


def _insert(**values: Any) -> AuditEvent:
    """One INSERT ... RETURNING: the whole cost of an event to the request that writes it.

    Written with a fixed statement rather than `objects.create`: the ORM's save machinery cost about
    three times the CPU of the insert itself, which under a shared interpreter lock limits how many
    events concurrent writers can record.
    """
    fields = [AuditEvent._meta.get_field(name) for name in values]
    sql = (
        f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(field.column for field in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id, occurred_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_save(values[field.name], connection) for field in fields])
        event_id, occurred_at = cursor.fetchone()
    if isinstance(occurred_at, str):  # SQLite returns the database default as text, in UTC
        occurred_at = datetime.datetime.fromisoformat(occurred_at).replace(tzinfo=datetime.UTC)
    event = AuditEvent(id=event_id, occurred_at=occurred_at, **values)
    event._state.adding = False
    event._state.db = connection.alias
    return event


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


def audit_events_sql(
    *,
    rows: str,
    action: str,
    object_type: str,
    object_id: str,
    persons: str,
    detail: str = "'{}'::jsonb",
    detail_params: Sequence[object] = (),
    role: str = "",
    fields: Iterable[str] = (),
    purpose: str = "",
    outcome: str = "ok",
) -> tuple[str, list[object]]:
    """SQL and parameters writing one unsealed event per row of `rows`: the set-based twin of `audit_record`.

    For PostgreSQL statements that change many rows at once (the relay, escalation): `rows` names a
    relation of the caller's statement, usually a data-modifying CTE's RETURNING, and `object_id`,
    `persons` (a jsonb array of `borrower:<id>` / `contact:<id>`, sorted) and `detail` (jsonb, whose
    `%s` take `detail_params`) are SQL expressions over it. Actor, request id and IP come from the
    current context as in `audit_record`. The result is an `INSERT ... SELECT`, to be placed as a CTE
    or as the statement's last part, so the events commit with the change they describe.
    """
    context = current_context()
    sql = f"""
        INSERT INTO {AuditEvent._meta.db_table} (
            actor_id, actor_username, role, action, object_type, object_id, persons, fields, purpose, outcome,
            request_id, ip, detail
        )
        SELECT %s, %s, %s, %s, %s, ({object_id})::text, {persons}, %s::jsonb, %s, %s, %s, %s::inet, {detail}
        FROM {rows}
    """  # noqa: S608 - the table name comes from model metadata; the expressions are the callers' fixed SQL
    params = [
        context.user_id if context else None,
        context.username if context else "",
        role,
        action,
        object_type,
        json.dumps(sorted(set(fields))),
        purpose,
        outcome,
        context.request_id if context else "",
        context.ip if context else None,
        *detail_params,
    ]
    return sql, params


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
