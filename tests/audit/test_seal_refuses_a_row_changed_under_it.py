"""A pending event changed by another transaction while the seal waits for it stops the seal.

The seal numbers pending rows, then updates exactly those row versions and stores the entry built from the
version it wrote. A row someone else rewrote in between (a superuser with the triggers off) is no longer
that version: the seal skips it and stops (the numbers it returns have a hole, or, when the row was the last
of its batch, an event it listed is missing) rather than chain around it or store an entry of columns it
did not see.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection, connections

from audit.chain.seal import ChainError, seal
from audit.models import AuditEvent, ChainEntry
from audit.record import audit_record


def _seal_waits_on_a_lock(probe: psycopg.Connection) -> bool:
    return bool(
        probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%%FROM audit_seal_batch(%%'"  # the seal's UPDATE runs in the owner's function
        ).fetchone()[0]
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.postgresql_only  # row locks a second writer waits on; SQLite lets one writer in at a time
@pytest.mark.parametrize("rewritten", ["first", "last of its batch"])
def test_a_row_rewritten_while_the_seal_waits_for_it_stops_the_seal(audit_keys, rewritten) -> None:
    events = [audit_record(action="view", object_type="loanaccount", object_id=n) for n in (1, 2)]
    # Batches of two: the second event ends the first batch, the seal's own checkpoint event is the next.
    rewritten_id = events[0].id if rewritten == "first" else events[1].id
    connection.ensure_connection()
    params = connection.get_connection_params()
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            seal(batch_size=2)
        except BaseException as exc:  # noqa: BLE001 - examined by the test
            errors.append(exc)
        finally:
            connections.close_all()

    with psycopg.connect(**params) as tamper, psycopg.connect(**params, autocommit=True) as probe:
        tamper.execute("SET session_replication_role = replica")
        tamper.execute("UPDATE audit_auditevent SET action = 'list' WHERE id = %s", [rewritten_id])
        thread = threading.Thread(target=sealer)
        thread.start()
        deadline = time.monotonic() + 20
        while not _seal_waits_on_a_lock(probe):
            assert time.monotonic() < deadline, "the seal never waited for the rewritten row"
            time.sleep(0.02)
        tamper.commit()
        thread.join(timeout=20)
    assert len(errors) == 1 and isinstance(errors[0], ChainError)
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()
    assert not ChainEntry.objects.exists()
