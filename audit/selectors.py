"""Reads of the audit log, for auditors only (`audit.permissions`), with keyset pagination."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, F, Func, IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from audit.forms import AuditFilter
from audit.models import AuditEvent, DetachRequest, LegalHold, VerificationRun
from audit.permissions import user_can_audit

PAGE_SIZE = 50
EXPORT_CHUNK = 2_000
# The detail keys of a compliance exception (see `audit.forms.COMPLIANCE_EXCEPTION`), shown and exported.
EXCEPTION_RULES = "rules"
EXCEPTION_DETAIL_KEYS = (EXCEPTION_RULES, "profile_version")


def _require_auditor(user: AbstractBaseUser | AnonymousUser) -> None:
    if not user_can_audit(user):
        raise PermissionDenied


def _array_holds(queryset: QuerySet[AuditEvent], lookup: str, sqlite_array: str, value: str) -> QuerySet[AuditEvent]:
    """Events whose JSON array at `lookup` (SQLite: the `json_each` arguments `sqlite_array`) holds `value`."""
    # Two bodies because the ORM has no one: Django's JSON `contains` is PostgreSQL's only (no benchmark).
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{lookup}__contains": [value]})
    # `sqlite_array` is one of this module's constants, never input; the value is a parameter.
    exists = RawSQL(  # noqa: S611
        f"EXISTS (SELECT 1 FROM json_each({sqlite_array}) WHERE json_each.value = %s)",  # noqa: S608
        [value],
        output_field=BooleanField(),
    )
    return queryset.filter(exists)


def _with_person(queryset: QuerySet[AuditEvent], person: str) -> QuerySet[AuditEvent]:
    """Events naming `person`; on PostgreSQL a containment the GIN index on `persons` answers."""
    return _array_holds(queryset, "persons", "audit_auditevent.persons", person)


def _with_rule(queryset: QuerySet[AuditEvent], rule: str) -> QuerySet[AuditEvent]:
    """Events whose detail lists `rule` among the rules broken (compliance exceptions)."""
    return _array_holds(queryset, f"detail__{EXCEPTION_RULES}", f"audit_auditevent.detail, '$.{EXCEPTION_RULES}'", rule)


def audit_events_filtered(*, user: AbstractBaseUser | AnonymousUser, audit_filter: AuditFilter) -> QuerySet[AuditEvent]:
    """Every event matching the filter, for an auditor; unordered."""
    _require_auditor(user)
    queryset = AuditEvent.objects.all()
    if audit_filter.actor:
        queryset = queryset.filter(actor_username=audit_filter.actor)
    if audit_filter.action:
        queryset = queryset.filter(action=audit_filter.action)
    if audit_filter.object:
        object_type, _, object_id = audit_filter.object.partition(":")
        queryset = queryset.filter(object_type=object_type, object_id=object_id)
    if audit_filter.event is not None:
        queryset = queryset.filter(id=audit_filter.event)
    if audit_filter.person:
        queryset = _with_person(queryset, audit_filter.person)
    if audit_filter.rule:
        queryset = _with_rule(queryset, audit_filter.rule)
    if since := audit_filter.since():
        queryset = queryset.filter(occurred_at__gte=since)
    if until := audit_filter.until():
        queryset = queryset.filter(occurred_at__lt=until)
    return queryset


@dataclass(frozen=True)
class Page:
    """One keyset page, newest first; `next_before` is the cursor of the following page, if any."""

    events: list[AuditEvent]
    next_before: int | None


class PersonsCount(Func):
    """How many persons an event names, counted in the database (the page shows the count, not the list)."""

    output_field = IntegerField()

    def __init__(self) -> None:
        super().__init__(F("persons"))

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, function="json_array_length", **extra_context)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, function="jsonb_array_length", **extra_context)


def audit_event_page(
    *,
    user: AbstractBaseUser | AnonymousUser,
    audit_filter: AuditFilter,
    before: int | None = None,
    size: int = PAGE_SIZE,
    with_detail: bool = False,
) -> Page:
    """One page of matching events with ids below `before`, newest first (no OFFSET: constant cost per page),
    each with its `persons_count`; the persons themselves when the filter names one event or `with_detail`.

    The detail is loaded only `with_detail`. Callers bound the filter to the months it asks for
    (`AuditFilter.within_months`), so that the query reads only those months (and, partitioned, only their
    partitions) however long the log has grown.
    """
    deferred = [] if with_detail else ["detail"]
    if audit_filter.event is None and not with_detail:
        deferred.append("persons")
    queryset = audit_events_filtered(user=user, audit_filter=audit_filter).defer(*deferred)
    queryset = queryset.annotate(persons_count=PersonsCount())
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    events = list(queryset.order_by("-id")[: size + 1])
    if len(events) > size:
        return Page(events[:size], events[size - 1].id)
    return Page(events, None)


@dataclass(frozen=True)
class ExportBounds:
    """The rows an export covers: matching events with ids up to `last_id`, and how many there are."""

    first_id: int | None
    last_id: int | None
    rows: int


EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "role",
    "action",
    "object",
    "person",
    "fields",
    "purpose",
    "outcome",
    "request_id",
    "ip",
)


def audit_export_bounds(*, user: AbstractBaseUser | AnonymousUser, audit_filter: AuditFilter) -> ExportBounds:
    """Fix an export's upper keyset bound now, so its rows and its recorded count describe the same set."""
    from django.db.models import Count, Max, Min

    summary = audit_events_filtered(user=user, audit_filter=audit_filter).aggregate(
        first_id=Min("id"), last_id=Max("id"), rows=Count("id")
    )
    return ExportBounds(summary["first_id"], summary["last_id"], summary["rows"])


def detail_cell(value: object) -> str:
    """One detail value as an export cell: a list joined with `;`, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def audit_export_rows(
    *,
    user: AbstractBaseUser | AnonymousUser,
    audit_filter: AuditFilter,
    bounds: ExportBounds,
    detail_keys: Sequence[str] = (),
) -> Iterator[tuple[object, ...]]:
    """The exported rows in id order, as EXPORT_COLUMNS and then each of `detail_keys` (values, never personal
    data: the log holds none)."""
    if bounds.last_id is None:
        return
    queryset = (
        audit_events_filtered(user=user, audit_filter=audit_filter)
        .filter(id__lte=bounds.last_id)
        .order_by("id")
        .values_list(
            "seq",
            "occurred_at",
            "actor_username",
            "role",
            "action",
            "object_type",
            "object_id",
            "persons",
            "fields",
            "purpose",
            "outcome",
            "request_id",
            "ip",
            *(("detail",) if detail_keys else ()),
        )
    )
    for (
        seq,
        at,
        actor,
        role,
        action,
        otype,
        oid,
        persons,
        fields,
        purpose,
        outcome,
        request_id,
        ip,
        *detail,
    ) in queryset.iterator(chunk_size=EXPORT_CHUNK):
        details = tuple(detail_cell(detail[0].get(key)) for key in detail_keys) if detail else ()
        yield (
            seq if seq is not None else "",
            at.isoformat(),
            actor,
            role,
            action,
            f"{otype}:{oid}" if otype else "",
            ";".join(persons),
            ";".join(fields),
            purpose,
            outcome,
            request_id,
            ip or "",
            *details,
        )


def verification_latest(*, user: AbstractBaseUser | AnonymousUser, kind: str | None = None) -> VerificationRun | None:
    """The most recent verify run (of `kind`, when given), for an auditor."""
    _require_auditor(user)
    runs = VerificationRun.objects.order_by("-id")
    return (runs.filter(kind=kind) if kind else runs).first()


def verification_recent(*, user: AbstractBaseUser | AnonymousUser, limit: int = 20) -> list[VerificationRun]:
    """The latest verify runs of either kind, newest first, for an auditor."""
    _require_auditor(user)
    return list(VerificationRun.objects.order_by("-id")[:limit])


def legal_holds_standing(*, user: AbstractBaseUser | AnonymousUser) -> list[LegalHold]:
    """The legal holds not lifted, newest first, for an auditor."""
    _require_auditor(user)
    return list(LegalHold.objects.filter(lift__isnull=True).order_by("-id"))


def legal_holds_lifted(*, user: AbstractBaseUser | AnonymousUser, limit: int = 20) -> list[LegalHold]:
    """The most recently lifted legal holds, with their lifts, for an auditor."""
    _require_auditor(user)
    return list(LegalHold.objects.filter(lift__isnull=False).select_related("lift").order_by("-lift__id")[:limit])


def held_persons() -> set[str]:
    """Every person a standing legal hold covers (for the detach of a month, which no user drives)."""
    return set(LegalHold.objects.filter(lift__isnull=True).values_list("person", flat=True))


def detach_requests(*, user: AbstractBaseUser | AnonymousUser, limit: int = 50) -> list[DetachRequest]:
    """The latest detach requests with their decisions, newest first, for an auditor."""
    _require_auditor(user)
    return list(DetachRequest.objects.select_related("decision").order_by("-id")[:limit])
