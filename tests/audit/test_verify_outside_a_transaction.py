"""verify_audit as the nightly task runs it, outside any transaction: the events are checked against the chain
on a second connection while the chain is hashed, and what that check finds is reported all the same."""

import pytest

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.record import audit_record
from tests.audit.conftest import raw, triggers_disabled

# The second connection, and the rebuilt counts (rows whose xmin changed), are PostgreSQL's alone: on SQLite
# verify checks the events on its own connection and rebuilds every row.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgresql_only]


def build_chain() -> None:
    for i in range(6):
        audit_record(action="view", object_type="loanaccount", object_id=i, fields=["name"])
        if i % 3 == 2:
            seal()


def test_an_intact_chain_verifies(audit_keys) -> None:
    build_chain()
    result = verify()
    assert result.ok and result.events == 8 and result.rebuilt == 0


def test_an_event_renumbered_behind_the_chain_is_found(audit_keys) -> None:
    build_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET seq = 9 WHERE seq = 8")
    assert verify().first_bad_seq == 8


def test_an_edited_event_is_rebuilt_and_found(audit_keys) -> None:
    build_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET action = 'list' WHERE seq = 3")
    result = verify()
    assert (result.first_bad_seq, result.rebuilt) == (3, 1)
