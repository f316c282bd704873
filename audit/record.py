"""The single entry point of the audit log: every event is written through `audit_record` (one event),
`audit_record_many` (a known set of events) or `audit_events_sql` (one event per row of a set-based
statement), in the caller's transaction, unsealed. All three write the columns of `EVENT_COLUMNS`, with
the actor, request id and IP taken from the request context by the same rule.
"""

import datetime
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.utils.crypto import salted_hmac

from audit.context import current_context
from audit.encoding import EVENT_COLUMNS
from audit.models import AuditEvent

logger = logging.getLogger(__name__)

# The kinds of person an event can name, as `<kind>:<id>` in its `persons`.
PERSON_KINDS = ("borrower", "contact")


def person_key(kind: str, object_id: int) -> str:
    """The key naming one person in an event's `persons`: `borrower:<id>` or `contact:<id>`."""
    if kind not in PERSON_KINDS:
        raise ValueError(f"an audited person is a borrower or a contact, not {kind!r}")
    return f"{kind}:{int(object_id)}"


def person_key_sql(kind: str, id_column: str) -> str:
    """The SQL form of `person_key` over an id column (a trusted column name, never user input)."""
    if kind not in PERSON_KINDS:
        raise ValueError(f"an audited person is a borrower or a contact, not {kind!r}")
    return f"'{kind}:' || {id_column}"


def keyed_hash(value: str, *, purpose: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY, salted by `purpose`) of a value an event must not hold.

    The same value gives the same hash, so repeats still show (one username tried a hundred times), while the
    log never holds the value itself and nobody without the key can test guesses against it.
    """
    return salted_hmac(f"audit.{purpose}", value, algorithm="sha256").hexdigest()


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
    values = {
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
    return {column: values[column] for column in EVENT_COLUMNS}


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
    values = _event_values(
        action=action, role=role, object_type=object_type, fields=fields, purpose=purpose, outcome=outcome
    )
    # Per-row columns are SQL over `rows`; every other column is a parameter from the same rule as a single event.
    per_row = {"object_id": f"({object_id})::text", "persons": persons, "detail": detail}
    casts = {"fields": "%s::jsonb", "ip": "%s::inet"}
    values["fields"] = json.dumps(values["fields"])
    expressions = [per_row[column] if column in per_row else casts.get(column, "%s") for column in EVENT_COLUMNS]
    constant = [values[column] for column in EVENT_COLUMNS if column not in per_row]
    sql = (
        f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608 - fixed SQL
        f"SELECT {', '.join(expressions)} FROM {rows}"
    )
    params = [*constant, *detail_params]
    return sql, params
