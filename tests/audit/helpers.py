"""Helpers for tests that assert audit events, including the later walk over every URL pattern with each role."""

import datetime
from collections.abc import Iterable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from audit.models import AuditEvent
from audit.partitions import is_partitioned, lender_month, partitions_make


def audit_mark() -> int:
    """The id of the newest event now: events written after this have larger ids."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def events_since(mark: int, **filters: object) -> list[AuditEvent]:
    """Events written after `mark`, oldest first, optionally filtered."""
    return list(AuditEvent.objects.filter(id__gt=mark, **filters).order_by("id"))


def event_at(day: datetime.date, **fields: object) -> AuditEvent:
    """An unsealed event that occurred at noon of `day` in the lender's time zone, written directly (as the
    owner may): how an event of an earlier month is made without waiting for one."""
    at = datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_default_timezone())
    if is_partitioned():  # that month's partition, as `audit_partitions` would have made it then
        month = lender_month(at)
        partitions_make(first=month, last=month, using="default")
    values: dict[str, object] = {"action": "view", "persons": [], "fields": [], "detail": {}}
    return AuditEvent.objects.create(occurred_at=at, **{**values, **fields})


def event_text(event: AuditEvent) -> str:
    """Every readable value of an event as one string, to search for personal values that must not be there."""
    parts = [
        event.actor_username,
        event.role,
        event.action,
        event.object_type,
        event.object_id,
        event.purpose,
        event.outcome,
        event.request_id,
        str(event.ip or ""),
        repr(event.persons),
        repr(event.fields),
        repr(event.detail),
    ]
    return "\n".join(parts)


def assert_no_personal_values(events: Iterable[AuditEvent], canaries: Iterable[str]) -> None:
    """Fail if any seeded personal value (name, phone, ID number...) appears in any event."""
    canaries = [value for value in canaries if value]
    for event in events:
        text = event_text(event)
        leaked = [value for value in canaries if value in text]
        assert not leaked, f"event {event.pk} ({event.action}) holds personal values {leaked}"


def iter_url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) for every URL pattern in the project, routes joined from their resolvers."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_url_patterns(entry, route)
        else:
            yield route, entry
