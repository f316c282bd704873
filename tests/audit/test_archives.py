"""audit_archive writes months of the log as files that verify_audit --archive checks with the public key alone
(and an independent range-proof check in this test accepts); it changes nothing in the database; any edit of
an archive is found, at its seq where one is known."""

import datetime
import hashlib
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.chain.seal import seal
from audit.models import AuditEvent, ChainEntry
from audit.notes import checkpoint_open
from audit.partitions import add_months, lender_month
from audit.record import audit_record
from tests.audit.conftest import raw, triggers_disabled
from tests.audit.helpers import event_at

pytestmark = pytest.mark.django_db

FILES = ["chain.jsonl", "checkpoint.txt", "events.jsonl", "manifest.txt", "proof.json"]


def run(capsys, command: str, *arguments: str) -> tuple[int, str]:
    try:
        call_command(command, *arguments)
    except SystemExit as exc:
        return exc.code, capsys.readouterr().out
    except CommandError as exc:
        capsys.readouterr()
        return exc.returncode, str(exc)
    return 0, capsys.readouterr().out


def month_name(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


@pytest.fixture
def months() -> tuple[datetime.date, datetime.date, datetime.date]:
    """Two past months and this one, with events sealed so that the past months' seqs interleave."""
    this_month = lender_month()
    older, old = add_months(this_month, -2), add_months(this_month, -1)
    # Sealed in id order: a late write into the older month lands between the other month's events.
    event_at(old + datetime.timedelta(days=27), action="view", object_id="a", persons=["borrower:1"])
    event_at(older + datetime.timedelta(days=3), action="view", object_id="b", persons=["borrower:2"])
    event_at(old + datetime.timedelta(days=28), action="reveal", object_id="c", purpose="call_borrower")
    event_at(older + datetime.timedelta(days=4), action="list", object_id="d", persons=["borrower:2", "contact:5"])
    audit_record(action="view", object_type="loanaccount", object_id="e")
    return older, old, this_month


def archived(audit_keys, capsys, tmp_path: Path, before: datetime.date) -> Path:
    target = tmp_path / "archive"
    code, out = run(capsys, "audit_archive", "--before", month_name(before), "--to", str(target))
    assert code == 0, out
    return target


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def independent_root(lo: int, entries: list[bytes], size: int, nodes: list[bytes]) -> bytes:
    """The root a range proof leads to, written out here from RFC 9162's tree (not audit.merkle)."""
    hi, given = lo + len(entries), iter(nodes)

    def mth(a: int, b: int) -> bytes:
        if b - a == 1:
            return sha(b"\x00" + entries[a - lo])
        k = 1 << ((b - a - 1).bit_length() - 1)
        return sha(b"\x01" + mth(a, a + k) + mth(a + k, b))

    def root(a: int, b: int) -> bytes:
        if hi <= a or b <= lo:
            return next(given)
        if lo <= a and b <= hi:
            return mth(a, b)
        k = 1 << ((b - a - 1).bit_length() - 1)
        return sha(b"\x01" + root(a, a + k) + root(a + k, b))

    result = root(0, size)
    assert next(given, None) is None
    return result


def test_each_month_before_is_a_directory_that_verifies_offline(audit_keys, capsys, tmp_path, months) -> None:
    older, old, this_month = months
    seal()
    events_before = AuditEvent.objects.count()
    chain_before = list(ChainEntry.objects.order_by("seq").values_list("seq", "hash"))
    target = archived(audit_keys, capsys, tmp_path, this_month)
    assert sorted(path.name for path in target.iterdir()) == [month_name(older), month_name(old)]
    for month in (older, old):
        assert sorted(path.name for path in (target / month_name(month)).iterdir()) == FILES
    # Nothing in the database changed.
    assert AuditEvent.objects.count() == events_before
    assert list(ChainEntry.objects.order_by("seq").values_list("seq", "hash")) == chain_before
    manifest = (target / month_name(older) / "manifest.txt").read_text()
    assert "\ncomplete yes\n" in manifest and "\nseqs 2,4\n" in manifest
    code, out = run(capsys, "verify_audit", "--archive", str(target))
    assert (code, out.splitlines()) == (0, [f"ok {month_name(older)} events=2", f"ok {month_name(old)} events=2"])


def test_the_entries_are_the_sealed_ones_and_an_independent_check_accepts_each_proof(
    audit_keys, capsys, tmp_path, months
) -> None:
    older, _, this_month = months
    seal()
    folder = archived(audit_keys, capsys, tmp_path, this_month) / month_name(older)
    lines = (folder / "events.jsonl").read_bytes().split(b"\n")[:-1]
    entries = dict(ChainEntry.objects.values_list("seq", "entry"))
    assert [json.loads(line)["seq"] for line in lines] == [2, 4]
    assert lines == [bytes(entries[2]), bytes(entries[4])]
    checkpoint = checkpoint_open((folder / "checkpoint.txt").read_text())
    proof = json.loads((folder / "proof.json").read_text())
    assert proof["tree_size"] == checkpoint.tree_size
    for run_, line in zip(proof["runs"], lines, strict=True):
        nodes = [bytes.fromhex(node) for node in run_["nodes"]]
        assert independent_root(run_["first"] - 1, [line], checkpoint.tree_size, nodes) == checkpoint.root


def test_a_month_not_yet_over_is_archived_up_to_its_last_checkpoint(audit_keys, capsys, tmp_path, months) -> None:
    _, _, this_month = months
    seal()
    audit_record(action="view", object_id="after the last seal")
    target = archived(audit_keys, capsys, tmp_path, add_months(this_month, 1))
    folder = target / month_name(this_month)
    assert "\ncomplete no\n" in (folder / "manifest.txt").read_text()
    lines = (folder / "events.jsonl").read_bytes().split(b"\n")[:-1]
    assert b"after the last seal" not in b"".join(lines)
    assert run(capsys, "verify_audit", "--archive", str(target))[0] == 0


def edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "change", "first_bad_seq"),
    [
        ("events.jsonl", lambda path: edit(path, b'"action":"list"', b'"action":"view"'), 4),
        ("events.jsonl", lambda path: path.write_bytes(path.read_bytes().split(b"\n", 1)[1]), 2),
        ("chain.jsonl", lambda path: edit(path, b'"hash": "', b'"hash": "00'), 2),
        ("proof.json", lambda path: edit(path, b'"nodes": [\n    "', b'"nodes": [\n    "ff'), 2),
        ("events.jsonl", lambda path: path.write_bytes(path.read_bytes()[:-20]), 4),
    ],
    ids=["edited-event", "removed-event", "edited-hash", "edited-proof", "cut-short"],
)
def test_an_edited_archive_is_refused(audit_keys, capsys, tmp_path, months, file, change, first_bad_seq) -> None:
    older, _, this_month = months
    seal()
    target = archived(audit_keys, capsys, tmp_path, this_month)
    change(target / month_name(older) / file)
    code, out = run(capsys, "verify_audit", "--archive", str(target))
    assert code == 1
    assert f"bad_archive={month_name(older)}" in out.splitlines()
    if first_bad_seq is not None:
        assert f"first_bad_seq={first_bad_seq}" in out.splitlines()


def test_a_manifest_signed_by_another_key_or_edited_is_refused(audit_keys, capsys, tmp_path, months, settings) -> None:
    older, old, this_month = months
    seal()
    target = archived(audit_keys, capsys, tmp_path, this_month)
    edit(target / month_name(older) / "manifest.txt", b"complete yes", b"complete no")
    code, out = run(capsys, "verify_audit", "--archive", str(target))
    assert code == 1 and f"bad_archive={month_name(older)}" in out
    assert f"ok {month_name(old)} events=2" in out


@pytest.mark.parametrize("setup", ["empty", "missing", "no-manifest", "not-a-directory"])
def test_no_archive_or_a_month_without_its_manifest_is_exit_2(audit_keys, capsys, tmp_path, months, setup) -> None:
    seal()
    target = tmp_path / "archive"
    if setup == "empty":
        target.mkdir()
    elif setup == "no-manifest":
        target = archived(audit_keys, capsys, tmp_path, months[2])
        (target / month_name(months[0]) / "manifest.txt").unlink()
    elif setup == "not-a-directory":
        target.write_text("x")
    assert run(capsys, "verify_audit", "--archive", str(target))[0] == 2


def test_archiving_again_into_the_same_place_or_with_a_bad_month_is_exit_2(
    audit_keys, capsys, tmp_path, months
) -> None:
    seal()
    target = archived(audit_keys, capsys, tmp_path, months[2])
    assert run(capsys, "audit_archive", "--before", month_name(months[2]), "--to", str(target))[0] == 2
    assert run(capsys, "audit_archive", "--before", "2026-13", "--to", str(tmp_path / "x"))[0] == 2


def test_a_chain_that_no_longer_matches_its_checkpoint_is_not_archived(audit_keys, capsys, tmp_path, months) -> None:
    seal()
    with triggers_disabled():
        entry = bytes(ChainEntry.objects.get(seq=2).entry)
        raw("UPDATE audit_chainentry SET entry = %s WHERE seq = 2", [entry.replace(b'"view"', b'"list"')])
    code, _ = run(capsys, "audit_archive", "--before", month_name(months[2]), "--to", str(tmp_path / "archive"))
    assert code == 1


def test_an_event_edited_with_its_chain_hash_recomputed_is_caught_by_its_proof(
    audit_keys, capsys, tmp_path, months
) -> None:
    older, _, this_month = months
    seal()
    folder = archived(audit_keys, capsys, tmp_path, this_month) / month_name(older)
    events = (folder / "events.jsonl").read_bytes().split(b"\n")
    chain = [json.loads(line) for line in (folder / "chain.jsonl").read_text().splitlines()]
    events[1] = events[1].replace(b'"action":"list"', b'"action":"view"')
    chain[1]["hash"] = sha(bytes.fromhex(chain[1]["previous"]) + events[1]).hex()
    (folder / "events.jsonl").write_bytes(b"\n".join(events))
    (folder / "chain.jsonl").write_text("".join(json.dumps(line) + "\n" for line in chain))
    code, out = run(capsys, "verify_audit", "--archive", str(tmp_path / "archive"))
    assert code == 1 and "first_bad_seq=4" in out.splitlines()
