"""A chain head restored from another cluster carries a horizon from that cluster's transaction counter,
beyond every transaction of this one: the sealer must not let it hide new events, and moves it back."""

import psycopg
import pytest
from django.db import connection

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.models import AuditEvent, ChainHead
from audit.record import audit_record
from tests.audit.conftest import raw

# Seal horizons are PostgreSQL transaction ids read from pg_current_snapshot(); SQLite has none.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql_only]


def _current_transaction() -> int:
    return raw("SELECT pg_current_xact_id()::text::bigint")[0][0]


def test_an_event_written_under_a_horizon_from_another_cluster_is_sealed(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    ChainHead.objects.filter(id=1).update(horizon=_current_transaction() + 1_000_000)
    event = audit_record(action="reveal", object_type="borrower", object_id=7)
    result = seal()
    assert result.sealed == 2  # the event and the seal's own checkpoint event
    assert AuditEvent.objects.get(id=event.id).seq is not None
    assert ChainHead.objects.get().horizon <= _current_transaction()
    assert verify().ok


def test_a_seal_with_nothing_pending_brings_the_horizon_back(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    ChainHead.objects.filter(id=1).update(horizon=_current_transaction() + 1_000_000)
    result = seal()
    assert result.sealed == 0
    assert 0 < ChainHead.objects.get().horizon <= _current_transaction()


def test_a_horizon_read_in_another_cluster_is_not_trusted_even_when_it_looks_plausible(audit_keys) -> None:
    event = audit_record(action="view", object_type="loanaccount", object_id=1)
    # Other transactions complete, so this cluster's counter is past the event's writer, as after a restore.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        for _ in range(3):
            other.execute("SELECT pg_current_xact_id()")
    writer = AuditEvent.objects.values_list("txid", flat=True).get(id=event.id)
    (cluster,) = raw("SELECT system_identifier FROM pg_control_system()")[0]
    # A head from another cluster whose horizon happens to fall just past the event's writer here.
    ChainHead.objects.update_or_create(id=1, defaults={"horizon": writer + 1, "cluster": cluster + 1})
    assert seal().sealed == 2
    assert AuditEvent.objects.get(id=event.id).seq is not None
    assert ChainHead.objects.get().cluster == cluster
