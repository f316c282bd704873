"""Sealing: gap-free seq from 1 in id order, the stored entry covers every readable column, a checkpoint per seal."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.chain.seal import ChainError, seal
from audit.chain.store import entry_for
from audit.encoding import ENTRY_COLUMNS, GENESIS_HASH, chain_hash, decode_entry, encode_entry
from audit.merkle import leaf_hash, root_from_leaf_hashes
from audit.models import AuditEvent, ChainEntry, ChainHead
from audit.notes import checkpoint_open, checkpoint_sign
from audit.record import audit_record, person_key
from audit.sinks import FilesystemSink
from tests.audit.conftest import raw

pytestmark = pytest.mark.django_db


def record_some(n: int) -> None:
    for i in range(n):
        audit_record(
            action="view",
            object_type="loanaccount",
            object_id=i,
            persons=[person_key("borrower", i), person_key("contact", i)],
            fields=["phone", "name"],
            purpose="call_borrower",
            detail={"n": i, "ratio": 0.5, "note": "中文"},
        )


def test_events_are_written_unsealed_and_sealed_in_id_order_with_gap_free_seq(audit_keys) -> None:
    record_some(5)
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()
    result = seal()
    events = list(AuditEvent.objects.order_by("id"))
    assert [event.seq for event in events] == list(range(1, 7))
    assert events[-1].action == "checkpoint"  # the seal is itself an event, in the tree it checkpoints
    assert (result.sealed, result.tree_size) == (6, 6)


def test_the_entry_holds_every_readable_column_and_the_hash_chains_it(audit_keys) -> None:
    record_some(3)
    seal()
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        chained = ChainEntry.objects.get(seq=event.seq)
        assert chained.event_id == event.id
        document = decode_entry(bytes(chained.entry))
        assert set(document) == {*ENTRY_COLUMNS, "seq", "v"}
        assert document["seq"] == event.seq and document["id"] == event.id
        assert document["action"] == event.action and document["persons"] == event.persons
        assert document["occurred_at"] == event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert document["detail"] == event.detail and document["fields"] == event.fields
        previous = chain_hash(previous, bytes(chained.entry))
        assert bytes(chained.hash) == previous


@pytest.mark.postgresql_only
def test_the_database_and_python_encoders_agree_on_awkward_values(audit_keys) -> None:
    awkward = 'quote " backslash \\ newline \n tab \t nul-ish \x01 del \x7f 中文 emoji \U0001f600 </script>'
    event = audit_record(
        action="view",
        object_type="x",
        object_id=awkward[:60],
        purpose=awkward[:40],
        detail={"b": [1, 2.5, None, True], "a": {"z": awkward, "yy": -3}, "": "empty key"},
    )
    database_entry = entry_for(event.pk, 7)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_auditevent WHERE id = %s",  # noqa: S608
            [event.pk],
        )
        row = dict(zip(ENTRY_COLUMNS, cursor.fetchone(), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT persons::text, fields::text, detail::text, host(ip) FROM audit_auditevent WHERE id = %s", [event.pk]
        )
        row["persons"], row["fields"], row["detail"], row["ip"] = cursor.fetchone()
    assert encode_entry(7, row) == database_entry
    document = decode_entry(database_entry)
    assert document["object_id"] == awkward[:60] and document["detail"]["a"]["z"] == awkward


@pytest.mark.postgresql_only
def test_the_seal_function_stores_the_entry_the_python_and_sql_encoders_give(audit_keys) -> None:
    # The owner's audit_seal_batch (migration 0009) carries its own copy of the SQL encoder: held to both.
    awkward = 'quote " backslash \\ newline \n tab \t 中文 emoji \U0001f600 </script>'
    event = audit_record(
        action="view", object_type="x", object_id=awkward[:60], detail={"a": {"z": awkward}, "b": [1, 2.5, None]}
    )
    seal()
    sealed = AuditEvent.objects.get(id=event.pk)
    stored = bytes(ChainEntry.objects.get(seq=sealed.seq).entry)
    assert stored == entry_for(event.pk, sealed.seq)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_auditevent WHERE id = %s",  # noqa: S608
            [event.pk],
        )
        row = dict(zip(ENTRY_COLUMNS, cursor.fetchone(), strict=True))
        cursor.execute(
            "SELECT persons::text, fields::text, detail::text, host(ip) FROM audit_auditevent WHERE id = %s", [event.pk]
        )
        row["persons"], row["fields"], row["detail"], row["ip"] = cursor.fetchone()
    assert stored == encode_entry(sealed.seq, row)


def test_entry_columns_are_every_column_of_the_table_but_seq_and_the_writing_transaction() -> None:
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert columns - {"seq", "txid"} == set(ENTRY_COLUMNS)


def test_each_seal_writes_a_signed_checkpoint_of_the_whole_tree(audit_keys) -> None:
    record_some(2)
    first = seal()
    record_some(4)
    second = seal()
    assert sorted(path.name for path in audit_keys.iterdir()) == [first.checkpoint, second.checkpoint]
    checkpoint = checkpoint_open((audit_keys / second.checkpoint).read_text())
    entries = [bytes(e) for e in ChainEntry.objects.order_by("seq").values_list("entry", flat=True)]
    assert checkpoint.tree_size == len(entries) == 3 + 5
    assert checkpoint.root == root_from_leaf_hashes([leaf_hash(entry) for entry in entries])
    head = ChainHead.objects.get()
    assert (head.seq, bytes(head.hash)) == (8, bytes(ChainEntry.objects.get(seq=8).hash))


def test_a_seal_with_nothing_pending_seals_nothing_and_writes_no_new_checkpoint(audit_keys) -> None:
    record_some(1)
    seal()
    before = sorted(audit_keys.iterdir())
    result = seal()
    assert result.sealed == 0
    assert sorted(audit_keys.iterdir()) == before
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_a_lost_checkpoint_of_the_tail_is_written_again_by_the_next_seal(audit_keys) -> None:
    record_some(1)
    name = seal().checkpoint
    (audit_keys / name).unlink()
    assert seal().checkpoint == name
    assert (audit_keys / name).exists()


def test_sealing_without_a_signing_key_refuses_and_seals_nothing(settings, tmp_path) -> None:
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    record_some(1)
    with pytest.raises(ImproperlyConfigured):
        seal()
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()


def test_a_head_that_disagrees_with_the_sealed_events_stops_the_sealer(audit_keys) -> None:
    record_some(1)
    seal()
    ChainHead.objects.filter(id=1).update(seq=99)
    record_some(1)
    with pytest.raises(ChainError):
        seal()
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 1


def test_audit_checkpoint_command_seals_and_names_its_checkpoint(audit_keys, capsys) -> None:
    record_some(2)
    call_command("audit_checkpoint")
    out = capsys.readouterr().out
    assert "sealed=3 tree_size=3 checkpoint=checkpoint-000000000003.txt" in out


def test_audit_record_is_one_insert(django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        audit_record(action="view", object_type="loanaccount", object_id=1, fields=["name"])


@pytest.mark.postgresql_only
def test_the_sealer_queue_and_the_person_filter_have_their_indexes() -> None:
    names = {row[0] for row in raw("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent'")}
    assert {"audit_txid_idx", "audit_persons_gin", "audit_occurred_idx", "audit_actor_idx"} <= names


@pytest.mark.postgresql_only
def test_no_index_names_seq_so_the_seal_update_is_hot(audit_keys) -> None:
    definitions = [row[0] for row in raw("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent'")]
    assert not [definition for definition in definitions if "seq" in definition]
    record_some(20)
    # The table is partitioned by month (migration 0011): its partitions count the updates.
    hot_updates = (
        "SELECT coalesce(sum(n_tup_hot_upd), 0) FROM pg_stat_xact_user_tables"
        " WHERE relid IN (SELECT relid FROM pg_partition_tree('audit_auditevent'))"
    )
    before = raw(hot_updates)[0][0]
    seal()
    hot = raw(hot_updates)[0][0]
    assert hot - before >= 19  # of 21: every update is HOT unless a page ran out of room


class _RacingSink(FilesystemSink):
    """A sealer's view of the directory just before another sealer wrote the missing checkpoint."""

    def exists(self, name: str) -> bool:
        return False


def test_a_checkpoint_another_sealer_wrote_first_for_the_same_tree_is_accepted(audit_keys) -> None:
    record_some(2)
    first = seal()
    # A racing sealer found no checkpoint for this tree, signed its own (at another time, so other text),
    # and lost the race to write it: the one already there describes the same tree, so that is no error.
    again = seal(sink=_RacingSink(audit_keys))
    assert (again.sealed, again.checkpoint) == (0, first.checkpoint)
    assert [path.name for path in audit_keys.iterdir() if not path.name.startswith(".")] == [first.checkpoint]


def test_a_checkpoint_of_another_tree_under_the_same_name_is_still_an_error(audit_keys) -> None:
    record_some(2)
    first = seal()
    forged = checkpoint_sign(first.tree_size, bytes(32), bytes(32), timezone.now())
    (audit_keys / first.checkpoint).unlink()
    (audit_keys / first.checkpoint).write_text(forged, encoding="utf-8")
    with pytest.raises(FileExistsError):
        seal(sink=_RacingSink(audit_keys))
