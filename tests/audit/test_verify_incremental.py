"""verify_audit --incremental checks only what was sealed since the last checkpoint a run verified, starting
from a signed note in the checkpoint sink (never from a table row), and that the newest checkpoint extends it."""

import base64
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.chain.anchors import anchor_name, anchor_write
from audit.chain.seal import seal
from audit.chain.store import entry_for
from audit.encoding import chain_hash
from audit.merkle import Frontier, leaf_hash
from audit.models import AuditEvent, ChainEntry, VerificationRun
from audit.notes import checkpoint_open, checkpoint_sign
from audit.record import audit_record
from audit.sinks import FilesystemSink
from tests.audit.conftest import raw, triggers_disabled

pytestmark = pytest.mark.django_db


def record_and_seal(n: int) -> int:
    """n events sealed in one seal (plus its own checkpoint event); the new tree size."""
    for i in range(n):
        audit_record(action="view", object_type="loanaccount", object_id=i, fields=["name"])
    return seal().tree_size


def run(capsys, *arguments: str) -> tuple[int, str]:
    try:
        call_command("verify_audit", *arguments)
    except SystemExit as exc:
        return exc.code, capsys.readouterr().out
    return 0, capsys.readouterr().out


def verified_once(capsys) -> int:
    """Two seals and a full run, which confirms the tree of size 8; returns that size."""
    record_and_seal(3)
    size = record_and_seal(3)
    assert run(capsys)[0] == 0
    return size


def test_the_first_incremental_run_checks_everything_then_each_run_only_what_was_sealed_since(
    audit_keys, capsys
) -> None:
    record_and_seal(3)
    code, out = run(capsys, "--incremental")
    # No verified checkpoint yet: the whole chain (4 events), recorded as a full run.
    assert code == 0
    assert out.startswith("ok events=4 checkpoints=1 ")
    assert out.rstrip().endswith("kind=full after=0")
    assert (audit_keys / anchor_name(4)).is_file()
    record_and_seal(5)  # seqs 5-10
    record_and_seal(1)  # seqs 11-12
    code, out = run(capsys, "--incremental")
    assert code == 0
    assert out.startswith("ok events=8 checkpoints=2 ")
    assert out.rstrip().endswith("kind=incremental after=4")
    assert (audit_keys / anchor_name(12)).is_file()
    runs = list(VerificationRun.objects.order_by("id").values_list("kind", "after_seq", "events_checked", "ok"))
    assert runs == [("full", 0, 4, True), ("incremental", 4, 8, True)]
    # Nothing new: nothing to check, and the run still holds.
    assert run(capsys, "--incremental")[1].startswith("ok events=0 checkpoints=0 ")


def test_a_full_run_confirms_a_checkpoint_an_incremental_run_starts_from(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    assert (audit_keys / anchor_name(size)).is_file()
    record_and_seal(2)
    code, out = run(capsys, "--incremental")
    assert (code, out.rstrip().rsplit(" ", 2)[1:]) == (0, ["kind=incremental", f"after={size}"])


def test_a_verification_row_in_the_database_does_not_move_the_start(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(2)
    # Anyone with INSERT can add a row claiming a later verified tree: the start comes from the sink alone.
    VerificationRun.objects.create(kind="incremental", after_seq=10_000, started_at=timezone.now(), ok=True)
    assert run(capsys, "--incremental")[1].rstrip().endswith(f"after={size}")


def test_an_edit_after_the_start_is_found_at_its_seq(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(4)
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET action = 'list' WHERE seq = %s", [size + 2])
    assert run(capsys, "--incremental") == (1, f"first_bad_seq={size + 2}\n")
    run_row = VerificationRun.objects.order_by("-id").first()
    assert (run_row.kind, run_row.ok, run_row.first_bad_seq) == ("incremental", False, size + 2)
    # A run that fails confirms nothing: the next one starts from the same tree and finds it again.
    assert run(capsys, "--incremental") == (1, f"first_bad_seq={size + 2}\n")


@pytest.mark.parametrize("tables", [("audit_auditevent",), ("audit_auditevent", "audit_chainentry")])
def test_an_event_deleted_after_the_start_is_found(audit_keys, capsys, tables) -> None:
    size = verified_once(capsys)
    record_and_seal(4)
    with triggers_disabled():
        for table in tables:
            raw(f"DELETE FROM {table} WHERE seq = %s", [size + 3])  # noqa: S608
    assert run(capsys, "--incremental") == (1, f"first_bad_seq={size + 3}\n")


def test_a_tail_rechained_after_the_start_is_caught_by_the_newest_checkpoint(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    new_size = record_and_seal(4)
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET object_id = 'forged' WHERE seq = %s", [size + 1])
        previous = bytes(ChainEntry.objects.get(seq=size).hash)
        for event in AuditEvent.objects.filter(seq__gt=size).order_by("seq"):
            entry = entry_for(event.id, event.seq)
            previous = chain_hash(previous, entry)
            raw("UPDATE audit_chainentry SET entry = %s, hash = %s WHERE seq = %s", [entry, previous, event.seq])
    code, out = run(capsys, "--incremental")
    assert code == 1
    assert out.splitlines()[0] == f"first_bad_seq={size + 1}", (new_size, out)


def test_a_chain_cut_back_behind_the_start_sends_the_run_to_the_full_check(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(2)
    with triggers_disabled():
        for table in ("audit_auditevent", "audit_chainentry"):
            raw(f"DELETE FROM {table} WHERE seq >= 6")  # noqa: S608
    # The start's own chain entry is gone: the incremental run cannot trust it and checks everything.
    assert run(capsys, "--incremental") == (1, "first_bad_seq=6\n")
    assert VerificationRun.objects.order_by("-id").first().kind == "full"
    assert size == 8


def test_a_row_edited_before_the_start_is_left_to_the_full_run(audit_keys, capsys) -> None:
    verified_once(capsys)
    record_and_seal(2)
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET action = 'list' WHERE seq = 2")
    # What the documented division of work says: nightly incremental runs trust what a run verified, the weekly
    # full run re-reads it.
    assert run(capsys, "--incremental")[0] == 0
    assert run(capsys) == (1, "first_bad_seq=2\n")


def test_a_start_note_that_was_edited_or_signed_by_another_key_is_refused(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(2)
    note = audit_keys / anchor_name(size)
    note.write_text(note.read_text().replace("kind full", "kind incremental"))
    code, out = run(capsys, "--incremental")
    assert code == 1
    assert f"bad_checkpoint={anchor_name(size)}" in out.splitlines()


def test_a_start_note_that_does_not_describe_its_checkpoint_is_refused(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(2)
    # Signed with the audit key, but naming a frontier the checkpoint never signed (of a tree of other leaves).
    (audit_keys / anchor_name(size)).unlink()
    forged = Frontier()
    forged.extend([leaf_hash(bytes([n])) for n in range(size)])
    anchor_write(
        FilesystemSink(audit_keys),
        size=size,
        frontier=forged.to_bytes(),
        chain_hash=bytes(ChainEntry.objects.get(seq=size).hash),
        kind="full",
        at=timezone.now(),
    )
    code, out = run(capsys, "--incremental")
    assert code == 1
    assert f"bad_checkpoint={anchor_name(size)}" in out.splitlines()


def test_a_newest_checkpoint_of_another_tree_is_not_consistent_with_the_start(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    new_size = record_and_seal(2)
    name = f"checkpoint-{new_size:012d}.txt"
    genuine = checkpoint_open((audit_keys / name).read_text())
    forged = checkpoint_sign(new_size, bytes(32), base64.b64decode(genuine.extension("chain")), timezone.now())
    (audit_keys / name).write_text(forged)
    code, out = run(capsys, "--incremental")
    assert code == 1
    assert out.splitlines()[0] == f"first_bad_seq={size + 1}"


def test_without_the_signing_key_a_run_verifies_but_confirms_nothing(audit_keys, capsys, settings) -> None:
    size = verified_once(capsys)
    record_and_seal(2)
    settings.AUDIT_SIGNING_KEY = ""  # a verifier holding the public key alone
    assert run(capsys, "--incremental")[0] == 0
    assert sorted(path.name for path in (audit_keys / "verified").iterdir()) == [Path(anchor_name(size)).name]


def test_full_and_incremental_together_are_a_usage_error(audit_keys) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", "--full", "--incremental")
    assert raised.value.returncode == 2


@pytest.mark.postgresql_only
def test_each_checkpoint_signs_the_horizon_the_next_seal_searches_from(audit_keys) -> None:
    size = record_and_seal(2)
    checkpoint = checkpoint_open((audit_keys / f"checkpoint-{size:012d}.txt").read_text())
    horizon, cluster = checkpoint.extension("horizon").split(" ")
    assert raw("SELECT horizon::text, cluster::text FROM audit_chainhead") == [(horizon, cluster)]


@pytest.mark.postgresql_only
def test_an_event_after_the_start_moved_below_the_horizon_is_still_found(audit_keys, capsys) -> None:
    size = verified_once(capsys)
    record_and_seal(3)
    # The run looks for events sealed since the start by their writing transaction: one whose txid was
    # rewritten to hide it from that search is missing from the chain's point of view.
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET txid = 1 WHERE seq = %s", [size + 2])
    assert run(capsys, "--incremental") == (1, f"first_bad_seq={size + 2}\n")


def test_the_nightly_job_is_incremental_and_the_weekly_one_full() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["audit-verify"]["kwargs"] == {"incremental": True}
    assert schedule["audit-verify-full"]["kwargs"] == {"full": True}
