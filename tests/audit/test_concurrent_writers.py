"""8 concurrent writers while a sealer runs: the chain seals without gaps or forks and verifies."""

import threading

import pytest
from django.db import connections

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.models import AuditEvent
from audit.record import audit_record

WRITERS = 8
EVENTS_EACH = 400


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_and_sealers_leave_one_gap_free_chain_that_verifies(audit_keys) -> None:
    errors: list[BaseException] = []
    writers_done = threading.Event()
    start = threading.Barrier(WRITERS + 2)  # 8 writers and 2 sealers start together

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                audit_record(action="view", object_type="loanaccount", object_id=n * 10_000 + i, fields=["name"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def sealer() -> None:
        # Two sealers racing each other and the writers: the head lock must keep them from forking the chain.
        try:
            start.wait()
            while not writers_done.is_set():
                seal()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    sealers = [threading.Thread(target=sealer), threading.Thread(target=sealer)]
    for thread in threads + sealers:
        thread.start()
    for thread in threads:
        thread.join()
    writers_done.set()
    for thread in sealers:
        thread.join()
    assert errors == []
    seal()

    views = AuditEvent.objects.filter(action="view").count()
    assert views == WRITERS * EVENTS_EACH
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, AuditEvent.objects.count() + 1))  # every event sealed, once, no gaps
    result = verify()
    assert result.ok, result.reasons
    assert result.events == len(seqs)
