"""verify_audit finds every kind of tampering a superuser with the triggers off can do, and bad checkpoints."""

import pytest
from django.core.management import call_command
from django.db import connection

from audit.chain.seal import seal
from audit.chain.store import entry_for
from audit.chain.verify import verify
from audit.encoding import GENESIS_HASH, chain_hash
from audit.models import AuditEvent, ChainEntry, VerificationRun
from audit.record import audit_record, person_key
from tests.audit.conftest import new_key_pair, raw, triggers_disabled

pytestmark = pytest.mark.django_db


def build_chain(n: int = 9) -> None:
    """n events sealed in three seals, so there are checkpoints at several sizes."""
    for i in range(n):
        audit_record(
            action="view", object_type="loanaccount", object_id=i, persons=[person_key("borrower", i)], fields=["name"]
        )
        if i % 3 == 2:
            seal()


def rechain_from(first_seq: int) -> None:
    """Replace every chain entry from `first_seq` on with one rebuilt from its event's columns and rechained,
    as an attacker with the database could (the triggers must be off)."""
    previous = bytes(ChainEntry.objects.get(seq=first_seq - 1).hash)
    rows = raw("SELECT seq, event_id FROM audit_chainentry WHERE seq >= %s ORDER BY seq", [first_seq])
    raw("DELETE FROM audit_chainentry WHERE seq >= %s", [first_seq])
    for seq, event_id in rows:
        entry = entry_for(event_id, seq)
        previous = chain_hash(previous, entry)
        raw(
            "INSERT INTO audit_chainentry (seq, event_id, entry, hash) VALUES (%s, %s, %s, %s)",
            [seq, event_id, entry, previous],
        )


def run_verify(capsys) -> tuple[int, str]:
    try:
        call_command("verify_audit")
    except SystemExit as exc:
        return exc.code, capsys.readouterr().out
    return 0, capsys.readouterr().out


def test_an_intact_chain_verifies_with_exit_0_and_a_summary(audit_keys, capsys) -> None:
    build_chain()
    code, out = run_verify(capsys)
    assert code == 0
    assert out.startswith("ok events=12 checkpoints=3")
    run = VerificationRun.objects.get()
    assert run.ok and run.events_checked == 12


def test_an_edited_column_is_found_at_its_seq(audit_keys, capsys) -> None:
    build_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET action = 'list' WHERE seq = 5")
    code, out = run_verify(capsys)
    assert (code, out.splitlines()[0]) == (1, "first_bad_seq=5")
    assert VerificationRun.objects.get().first_bad_seq == 5


def test_an_edited_json_column_is_found_at_its_seq(audit_keys, capsys) -> None:
    build_chain()
    with triggers_disabled():
        raw("""UPDATE audit_auditevent SET fields = '["name", "phone"]' WHERE seq = 7""")
    assert run_verify(capsys) == (1, "first_bad_seq=7\n")


def test_an_edited_entry_is_found_at_its_seq(audit_keys, capsys) -> None:
    build_chain()
    with triggers_disabled():
        entry = bytearray(ChainEntry.objects.get(seq=4).entry)
        entry[2:3] = b"X"
        raw("UPDATE audit_chainentry SET entry = %s WHERE seq = 4", [bytes(entry)])
    assert run_verify(capsys)[1].splitlines()[0] == "first_bad_seq=4"


@pytest.mark.parametrize("tables", [("audit_auditevent",), ("audit_auditevent", "audit_chainentry")])
def test_a_deleted_event_is_found_as_its_missing_seq(audit_keys, capsys, tables) -> None:
    build_chain()
    with triggers_disabled():
        for table in tables:
            raw(f"DELETE FROM {table} WHERE seq = 6")  # noqa: S608
    assert run_verify(capsys) == (1, "first_bad_seq=6\n")


@pytest.mark.parametrize("tables", [("audit_auditevent",), ("audit_auditevent", "audit_chainentry")])
def test_a_tail_cut_back_behind_the_last_checkpoint_is_found_at_the_first_missing_seq(
    audit_keys, capsys, tables
) -> None:
    build_chain()
    with triggers_disabled():
        for table in tables:
            raw(f"DELETE FROM {table} WHERE seq >= 10")  # noqa: S608
    assert run_verify(capsys) == (1, "first_bad_seq=10\n")


@pytest.mark.parametrize("table", ["audit_auditevent", "audit_chainentry"])
def test_two_swapped_events_are_found_at_the_first_of_them(audit_keys, capsys, table) -> None:
    build_chain()
    with triggers_disabled():
        raw(f"UPDATE {table} SET seq = -seq WHERE seq IN (3, 8)")  # noqa: S608
        raw(f"UPDATE {table} SET seq = CASE seq WHEN -3 THEN 8 ELSE 3 END WHERE seq IN (-3, -8)")  # noqa: S608
    assert run_verify(capsys) == (1, "first_bad_seq=3\n")


def test_an_event_given_a_seq_no_chain_entry_names_is_found_at_that_seq(audit_keys, capsys) -> None:
    build_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET seq = 13 WHERE seq = 12")
    assert run_verify(capsys) == (1, "first_bad_seq=12\n")


def insert_before_seq_4(*, rechain: bool) -> None:
    """Shift seq 4 and later up by one and insert a new event at seq 4, as a superuser with the triggers off."""
    original = AuditEvent.objects.get(seq=4)
    original_hash = bytes(ChainEntry.objects.get(seq=4).hash)
    with triggers_disabled():
        for table in ("audit_auditevent", "audit_chainentry"):
            raw(f"UPDATE {table} SET seq = -seq - 1 WHERE seq >= 4")  # noqa: S608
            raw(f"UPDATE {table} SET seq = -seq WHERE seq < 0")  # noqa: S608
        raw(
            "INSERT INTO audit_auditevent (id, seq, occurred_at, actor_username, role, action, object_type, object_id,"
            " persons, fields, purpose, outcome, request_id, detail)"
            " SELECT 10000, 4, occurred_at, actor_username, role, 'login', object_type, object_id, persons, fields,"
            " purpose, outcome, request_id, detail FROM audit_auditevent WHERE id = %s",
            [original.id],
        )
        # A well-formed entry for the new row; with `rechain` its hash also extends seq 3 correctly.
        entry = entry_for(10_000, 4)
        digest = chain_hash(bytes(ChainEntry.objects.get(seq=3).hash), entry) if rechain else original_hash
        raw("INSERT INTO audit_chainentry (seq, event_id, entry, hash) VALUES (4, 10000, %s, %s)", [entry, digest])


def test_an_inserted_event_is_found_at_its_place(audit_keys, capsys) -> None:
    build_chain()
    insert_before_seq_4(rechain=False)
    assert run_verify(capsys) == (1, "first_bad_seq=4\n")


def test_an_inserted_event_with_a_recomputed_hash_is_caught_by_the_checkpoint_covering_it(audit_keys, capsys) -> None:
    build_chain()
    insert_before_seq_4(rechain=True)
    # The chain up to seq 4 is self-consistent again and only the signed root of the first checkpoint (size 4)
    # disagrees; on PostgreSQL the chain entry at seq 4 does not carry the transaction id that checkpoint names.
    # SQLite has no transaction ids on rows: the damage lies after the last checkpoint that holds (none).
    assert run_verify(capsys) == (1, f"first_bad_seq={4 if connection.vendor == 'postgresql' else 1}\n")


@pytest.mark.parametrize("full", [False, True], ids=["by-xmin", "full"])
@pytest.mark.parametrize(
    "also_delete_a_later_event",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.xfail(
                condition="connection.vendor == 'sqlite'",
                reason="on SQLite verify reports the deleted seq 6, not seq 3 after the last checkpoint that holds",
                strict=True,
            ),
        ),
    ],
    ids=["rewritten", "rewritten-and-deleted"],
)
def test_a_chain_rewritten_from_an_edited_event_is_found_at_that_event(
    audit_keys, full, also_delete_a_later_event
) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()  # seqs 1-2, checkpoint of size 2
    for object_id in range(10, 14):
        audit_record(action="view", object_type="loanaccount", object_id=object_id)
    seal()  # seqs 3-7, checkpoint of size 7
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET object_id = 'forged' WHERE seq = 4")
        rechain_from(4)
        if also_delete_a_later_event:
            raw("DELETE FROM audit_auditevent WHERE seq = 6")
    # PostgreSQL finds the rewritten rows by their transaction id; SQLite, which has none on rows, finds the
    # damage after the last checkpoint that holds (size 2).
    assert verify(full=full).first_bad_seq == (4 if connection.vendor == "postgresql" else 3)


def test_a_consistently_rewritten_chain_is_caught_by_the_signed_checkpoints(audit_keys, capsys) -> None:
    build_chain()
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET action = 'list' WHERE seq = 5")
        # Rebuild every entry and hash from seq 5 on, as an attacker with the database could.
        previous = bytes(ChainEntry.objects.get(seq=4).hash)
        for event in AuditEvent.objects.filter(seq__gte=5).order_by("seq"):
            entry = entry_for(event.id, event.seq)
            previous = chain_hash(previous, entry)
            raw("UPDATE audit_chainentry SET entry = %s, hash = %s WHERE seq = %s", [entry, previous, event.seq])
        raw("UPDATE audit_chainhead SET hash = %s", [previous])
    # Checkpoints were at 4, 8 and 12: the damage lies after the last checkpoint that still holds.
    assert run_verify(capsys) == (1, "first_bad_seq=5\n")


def test_a_rewritten_chain_is_found_where_no_checkpoint_vouches_for_it_any_more(audit_keys) -> None:
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()  # seqs 1-2, checkpoint of size 2
    for object_id in range(2):
        audit_record(action="view", object_type="loanaccount", object_id=object_id)
    seal()  # seqs 3-5
    (audit_keys / "checkpoint-000000000005.txt").unlink()  # lost, or removed by whoever rewrites next
    for object_id in range(2):
        audit_record(action="view", object_type="loanaccount", object_id=object_id)
    seal()  # seqs 6-8, checkpoint of size 8 (which vouches for 6-8 only)
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET object_id = 'forged' WHERE seq = 3")
        rechain_from(3)
    assert verify().first_bad_seq == 3


def test_a_forged_checkpoint_is_reported_by_file_name(audit_keys, capsys) -> None:
    build_chain()
    name = "checkpoint-000000000008.txt"
    path = audit_keys / name
    path.write_text(path.read_text().replace("\n8\n", "\n7\n"))
    assert run_verify(capsys) == (1, f"bad_checkpoint={name}\n")


def test_a_checkpoint_signed_by_another_key_is_reported(audit_keys, settings, capsys) -> None:
    build_chain()
    public = settings.AUDIT_PUBLIC_KEY
    settings.AUDIT_SIGNING_KEY, _ = new_key_pair()
    audit_record(action="view")
    name = seal().checkpoint
    settings.AUDIT_PUBLIC_KEY = public
    assert run_verify(capsys) == (1, f"bad_checkpoint={name}\n")


def test_verify_needs_only_the_public_key(audit_keys, settings) -> None:
    build_chain()
    settings.AUDIT_SIGNING_KEY = ""
    assert verify().ok


def test_the_genesis_hash_is_32_zero_bytes() -> None:
    assert GENESIS_HASH == bytes(32)
