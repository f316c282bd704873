"""The chain head's Merkle frontier is what the next checkpoint's root is computed from: a seal checks it
against the checkpoint it last signed, and refuses to sign on from a frontier that no longer gives it."""

import pytest

from audit.chain.seal import ChainError, seal
from audit.chain.verify import verify
from audit.models import AuditEvent, ChainHead
from audit.notes import checkpoint_open
from audit.record import audit_record
from tests.audit.conftest import new_key_pair

pytestmark = pytest.mark.django_db


def test_a_seal_refuses_a_frontier_that_does_not_give_the_signed_root(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    first = seal()
    frontier = bytes(ChainHead.objects.get().frontier)
    ChainHead.objects.filter(id=1).update(frontier=bytes(len(frontier)))
    event = audit_record(action="view", object_type="loanaccount", object_id=2)
    with pytest.raises(ChainError, match="frontier"):
        seal()
    assert AuditEvent.objects.get(id=event.id).seq is None
    assert sorted(path.name for path in audit_keys.iterdir()) == [first.checkpoint]
    assert verify().ok


def test_a_seal_refuses_a_frontier_of_the_wrong_length(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    ChainHead.objects.filter(id=1).update(frontier=bytes(96))  # three subtree roots for a tree of 2
    audit_record(action="view", object_type="loanaccount", object_id=2)
    with pytest.raises(ChainError, match="frontier is damaged"):
        seal()


def test_a_seal_goes_on_from_an_intact_frontier(audit_keys) -> None:
    for object_id in range(3):
        audit_record(action="view", object_type="loanaccount", object_id=object_id)
        seal()
    assert verify().ok


def test_a_seal_goes_on_after_the_signing_key_is_rotated(audit_keys, settings) -> None:
    # security.md: seal under the old key, then deploy the new pair; the last checkpoint is the old key's.
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    audit_record(action="view", object_type="loanaccount", object_id=2)
    result = seal()
    assert result.sealed == 2
    assert checkpoint_open((audit_keys / result.checkpoint).read_text()).tree_size == 4  # under the new key
