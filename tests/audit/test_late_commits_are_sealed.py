"""An event whose transaction commits after later events were sealed is sealed by the next seal, not lost.

The sealer finds pending events by the transaction that wrote them, from the oldest transaction its
previous seal saw running: an event written by a transaction still open then is found afterwards.
"""

import psycopg
import pytest
from django.db import connection

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.models import AuditEvent, ChainHead
from audit.record import audit_record


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.postgresql_only  # transaction ids and a seal horizon; SQLite has one writer and seals every NULL seq
def test_an_event_committed_after_a_seal_of_later_events_is_sealed_by_the_next_seal(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    connection.ensure_connection()
    late = psycopg.connect(**connection.get_connection_params())
    try:
        late_id = late.execute(
            "INSERT INTO audit_auditevent (action, actor_username, role, object_type, object_id, persons, fields,"
            " purpose, outcome, request_id, detail) VALUES ('view', 'late', '', 'loanaccount', '2', '[]', '[]',"
            " '', 'ok', '', '{}') RETURNING id"
        ).fetchone()[0]
        audit_record(action="view", object_type="loanaccount", object_id=3)  # a higher id, committed first
        first = seal()
        assert not AuditEvent.objects.filter(id=late_id).exists()  # not visible yet
        late_transaction = late.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
        assert ChainHead.objects.get().horizon <= late_transaction
        late.commit()
    finally:
        late.close()
    second = seal()
    late_event = AuditEvent.objects.get(id=late_id)
    assert late_event.seq == first.tree_size + 1  # after the events with higher ids that were sealed first
    assert second.sealed == 2  # the late event and this seal's own checkpoint event
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, second.tree_size + 1))
    assert verify().ok
