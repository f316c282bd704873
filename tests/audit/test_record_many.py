"""audit_record_many: the bulk form of the entry point writes the same events as audit_record, in chunks."""

import pytest

from audit.models import AuditEvent
from audit.record import AuditWriteError, audit_record, audit_record_many
from tests.audit.helpers import audit_mark, events_since

pytestmark = pytest.mark.django_db

COLUMNS = ("actor_id", "actor_username", "role", "action", "object_type", "object_id", "persons", "fields", "detail")


def test_many_events_across_chunks_match_what_audit_record_writes() -> None:
    event = {
        "action": "create",
        "object_type": "loanaccount",
        "object_id": 7,
        "persons": ["contact:2", "borrower:1", "borrower:1"],
        "fields": ["borrower.phone", "borrower.name"],
        "detail": {"source": "import"},
    }
    single = audit_record(**event)
    mark = audit_mark()
    assert audit_record_many([event] * 5, chunk_size=2) == 5
    written = events_since(mark)
    assert len(written) == 5
    single = AuditEvent.objects.get(pk=single.pk)
    for row in written:
        assert [getattr(row, column) for column in COLUMNS] == [getattr(single, column) for column in COLUMNS]
        assert row.seq is None  # unsealed, for the sealer to chain


def test_nothing_to_write_is_no_round_trip(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert audit_record_many([]) == 0


def test_an_event_that_cannot_be_written_raises_audit_write_error() -> None:
    with pytest.raises(AuditWriteError):
        audit_record_many([{"action": "x" * 200}])
