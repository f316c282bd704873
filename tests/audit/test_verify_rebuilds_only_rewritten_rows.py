"""On PostgreSQL verify rebuilds an entry from its columns only for rows written since their seal.

A seal stamps its rows with its transaction id (xmin) and names that id in the signed checkpoint; any
later write of a row, superuser or not, gives the row a new xmin, so that row is rebuilt and compared.
"""

import pytest
from django.core.management import call_command

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.notes import checkpoint_open
from audit.record import audit_record
from tests.audit.conftest import raw, triggers_disabled

# What is rebuilt is decided by each row's xmin; SQLite has none and rebuilds every row.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql_only]


def sealed_chain(batches: int = 3, each: int = 3) -> None:
    """`batches` seals of `each` events (plus each seal's own checkpoint event)."""
    for batch in range(batches):
        for i in range(each):
            audit_record(action="view", object_type="loanaccount", object_id=batch * each + i, fields=["name"])
        seal()


def test_each_seal_signs_the_xmin_of_the_rows_it_wrote(audit_keys) -> None:
    sealed_chain(batches=2)
    first, second = (checkpoint_open(path.read_text()) for path in sorted(audit_keys.iterdir()))
    assert (first.tree_size, second.tree_size) == (4, 8)
    for checkpoint, first_seq in ((first, 1), (second, 5)):
        start, transaction_id, cluster = checkpoint.extension("sealed-xmin").split(" ")
        assert int(start) == first_seq
        assert raw("SELECT system_identifier::text FROM pg_control_system()") == [(cluster,)]
        for table in ("audit_auditevent", "audit_chainentry"):
            rows = raw(
                f"SELECT DISTINCT xmin::text::bigint FROM {table} WHERE seq BETWEEN %s AND %s",  # noqa: S608
                [first_seq, checkpoint.tree_size],
            )
            assert rows == [(int(transaction_id) % 2**32,)]


def test_an_untouched_chain_is_verified_without_rebuilding_any_entry(audit_keys) -> None:
    sealed_chain()
    result = verify()
    assert result.ok and result.events == 12
    assert result.rebuilt == 0


def test_full_rebuilds_every_entry(audit_keys, capsys) -> None:
    sealed_chain()
    assert verify(full=True).rebuilt == 12
    call_command("verify_audit", "--full")
    assert capsys.readouterr().out == "ok events=12 checkpoints=3 rebuilt=12\n"


def test_only_the_rewritten_row_is_rebuilt_and_its_change_found(audit_keys) -> None:
    sealed_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET purpose = 'collection' WHERE seq = 6")
    result = verify()
    assert (result.rebuilt, result.first_bad_seq) == (1, 6)


@pytest.mark.parametrize("table", ["audit_auditevent", "audit_chainentry"])
def test_a_row_rewritten_with_its_own_values_is_rebuilt_and_holds(audit_keys, table) -> None:
    sealed_chain()
    with triggers_disabled():
        raw(f"UPDATE {table} SET seq = seq WHERE seq = 2")  # noqa: S608
    result = verify()
    assert result.ok and result.rebuilt == 1


def test_rows_whose_checkpoint_names_no_xmin_are_rebuilt(audit_keys) -> None:
    sealed_chain(batches=2)
    # The second seal's checkpoint is lost; the next seal writes it again but cannot vouch for its rows.
    (audit_keys / "checkpoint-000000000008.txt").unlink()
    assert seal().sealed == 0
    assert checkpoint_open((audit_keys / "checkpoint-000000000008.txt").read_text()).extension("sealed-xmin") is None
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET seq = seq WHERE seq = 7")  # a rewrite that changes nothing
    result = verify()
    assert result.ok and result.rebuilt == 4
