"""A row keeps only the low 32 bits of the transaction that wrote it, and those come round every 2^32
transactions: a checkpoint's `sealed-xmin` (a 64-bit id and the cluster's identity) vouches for its rows
only in that cluster, and only until then."""

import dataclasses

import pytest

from audit.chain import verify as verify_module
from audit.chain.seal import seal
from audit.chain.store import XID_WRAP, TransactionClock, transaction_id_near
from audit.chain.verify import verify, xmin_segments
from audit.notes import checkpoint_open
from audit.record import audit_record
from tests.audit.conftest import raw


@pytest.mark.parametrize(
    ("low_bits", "near", "expected"),
    [
        (105, 5 * XID_WRAP + 100, 5 * XID_WRAP + 105),  # a subtransaction just after its transaction
        (3, 6 * XID_WRAP - 2, 6 * XID_WRAP + 3),  # across the turn of the 32 bits
        (XID_WRAP - 2, 6 * XID_WRAP + 3, 6 * XID_WRAP - 2),  # and back
        (700, 700, 700),
    ],
)
def test_a_rows_xmin_widens_to_the_nearest_64_bit_transaction_id(low_bits, near, expected) -> None:
    assert transaction_id_near(low_bits, near) == expected


def _sealed_twice(directory) -> tuple[dict, list[int], TransactionClock]:
    for object_id in range(2):
        audit_record(action="view", object_type="loanaccount", object_id=object_id)
        seal()
    checkpoints = {
        checkpoint.tree_size: checkpoint
        for checkpoint in (checkpoint_open(path.read_text()) for path in sorted(directory.iterdir()))
    }
    vouched = [checkpoints[size].extension("sealed-xmin").split(" ") for size in sorted(checkpoints)]
    ((cluster, this_transaction),) = raw(
        "SELECT system_identifier::text, pg_current_xact_id()::text::bigint FROM pg_control_system()"
    )
    assert {fields[2] for fields in vouched} == {cluster}
    ids = [int(fields[1]) for fields in vouched]
    assert all(this_transaction <= transaction_id < this_transaction + XID_WRAP // 2 for transaction_id in ids)
    return checkpoints, ids, TransactionClock(cluster=int(cluster), next_transaction=ids[-1] + 1)


def _xmins(checkpoints: dict, clock: TransactionClock) -> list[bytes | None]:
    return [xmin for _, xmin in xmin_segments(checkpoints, clock)]


@pytest.mark.django_db
@pytest.mark.postgresql_only
def test_each_seal_vouches_for_its_rows_in_this_cluster(audit_keys) -> None:
    checkpoints, (first, second), clock = _sealed_twice(audit_keys)
    assert _xmins(checkpoints, clock) == [first.to_bytes(4, "big"), second.to_bytes(4, "big"), None]
    assert verify().ok and verify().rebuilt == 0


@pytest.mark.django_db
@pytest.mark.postgresql_only
def test_a_vouched_id_counts_only_until_its_low_bits_could_come_round(audit_keys) -> None:
    checkpoints, (first, second), clock = _sealed_twice(audit_keys)
    # 2^32 transactions after the first seal, another may carry its low bits: its rows are rebuilt.
    later = dataclasses.replace(clock, next_transaction=first + XID_WRAP + 1)
    assert _xmins(checkpoints, later) == [None, second.to_bytes(4, "big"), None]


@pytest.mark.django_db
@pytest.mark.postgresql_only
def test_checkpoints_of_another_cluster_vouch_for_nothing(audit_keys) -> None:
    # A database restored from a dump is a new cluster whose counter may give a row the same xmin.
    checkpoints, _, clock = _sealed_twice(audit_keys)
    restored = dataclasses.replace(clock, cluster=clock.cluster + 1)
    assert _xmins(checkpoints, restored) == [None]


@pytest.mark.django_db
@pytest.mark.postgresql_only
def test_verify_in_another_cluster_rebuilds_every_row(audit_keys, monkeypatch) -> None:
    _sealed_twice(audit_keys)
    real_clock = verify_module.transaction_clock
    monkeypatch.setattr(
        verify_module, "transaction_clock", lambda: dataclasses.replace(real_clock(), cluster=real_clock().cluster + 1)
    )
    result = verify()
    assert result.ok and result.rebuilt == result.events == 4


@pytest.mark.django_db
@pytest.mark.postgresql_only
def test_ids_coming_round_during_verify_make_it_rebuild_every_row(audit_keys, monkeypatch) -> None:
    _, _, clock = _sealed_twice(audit_keys)
    # By the end of the stream, 2^32 more transactions have started.
    readings = iter([clock, dataclasses.replace(clock, next_transaction=clock.next_transaction + XID_WRAP)])
    monkeypatch.setattr(verify_module, "transaction_clock", lambda: next(readings))
    result = verify()
    assert result.ok and result.rebuilt == result.events == 4
