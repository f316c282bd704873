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


def _insert_sql(fields: Sequence[Any], rows: int) -> str:
    columns = ", ".join(field.column for field in fields)
    marks = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    return f"INSERT INTO {AuditEvent._meta.db_table} ({columns}) VALUES {marks} RETURNING id, occurred_at"  # noqa: S608


def _insert(**values: Any) -> AuditEvent:
    """One INSERT ... RETURNING: the whole cost of an event to the request that writes it.

    Written with a fixed statement rather than `objects.create`: the ORM's save machinery cost about
    three times the CPU of the insert itself, which under a shared interpreter lock limits how many
    events concurrent writers can record.
    """
    fields = [AuditEvent._meta.get_field(name) for name in values]
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(fields, 1), [field.get_db_prep_save(values[field.name], connection) for field in fields]
        )
        event_id, occurred_at = cursor.fetchone()
    if isinstance(occurred_at, str):  # SQLite returns the database default as text, in UTC
        occurred_at = datetime.datetime.fromisoformat(occurred_at).replace(tzinfo=datetime.UTC)
    event = AuditEvent(id=event_id, occurred_at=occurred_at, **values)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def _event_values(
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
) -> dict[str, Any]:
    """The column values of one event: the actor (or the request's user), request id and IP from the context."""
    context = current_context()
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, actor_username = actor.pk, actor.get_username()
    elif context is not None:
        actor_id, actor_username = context.user_id, context.username
    else:
        actor_id, actor_username = None, ""
    return {
        "actor_id": actor_id,
        "actor_username": actor_username,
        "role": role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "persons": sorted(set(persons)),
        "fields": sorted(set(fields)),
        "purpose": purpose,
        "outcome": outcome,
        "request_id": context.request_id if context else "",
        "ip": context.ip if context else None,
        "detail": detail or {},
    }


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
    values = _event_values(
        action=action,
        actor=actor,
        role=role,
        object_type=object_type,
        object_id=object_id,
        persons=persons,
        fields=fields,
        purpose=purpose,
        outcome=outcome,
        detail=detail,
    )
    try:
        return _insert(**values)
    except Exception as exc:  # noqa: BLE001 - any failure must stop the caller from showing data
        logger.exception("audit event %r could not be written", action)
        raise AuditWriteError(str(exc)) from exc


def audit_record_many(events: Iterable[dict[str, Any]], *, chunk_size: int = 500) -> int:
    """Write many events, each given as `audit_record`'s keyword arguments, with one INSERT per chunk.

    For writers that know a whole set of events at once (the importers): the same columns and context
    as `audit_record`, a round trip per `chunk_size` events instead of per event. Returns how many were
    written; raises AuditWriteError (and the caller's transaction must roll back) if any cannot be.
    """
    rows = [_event_values(**event) for event in events]
    if not rows:
        return 0
    fields = [AuditEvent._meta.get_field(name) for name in rows[0]]
    try:
        with connection.cursor() as cursor:
            for start in range(0, len(rows), chunk_size):
                chunk = rows[start : start + chunk_size]
                params = [field.get_db_prep_save(row[field.name], connection) for row in chunk for field in fields]
                cursor.execute(_insert_sql(fields, len(chunk)), params)
    except Exception as exc:  # noqa: BLE001 - the caller must not commit what these events describe
        logger.exception("%d audit events could not be written", len(rows))
        raise AuditWriteError(str(exc)) from exc
    return len(rows)


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
    # The constant columns, from the same rule as a single event; the per-row ones are SQL over `rows`.
    values = _event_values(
        action=action, role=role, object_type=object_type, fields=fields, purpose=purpose, outcome=outcome
    )
    sql = f"""
        INSERT INTO {AuditEvent._meta.db_table} (
            actor_id, actor_username, role, action, object_type, object_id, persons, fields, purpose, outcome,
            request_id, ip, detail
        )
        SELECT %s, %s, %s, %s, %s, ({object_id})::text, {persons}, %s::jsonb, %s, %s, %s, %s::inet, {detail}
        FROM {rows}
    """  # noqa: S608 - the table name comes from model metadata; the expressions are the callers' fixed SQL
    values["fields"] = json.dumps(values["fields"])
    constant = ("actor_id", "actor_username", "role", "action", "object_type", "fields", "purpose", "outcome")
    params = [*(values[name] for name in constant), values["request_id"], values["ip"], *detail_params]
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
