"""audit_proof --consistency proves the log only grew between two signed checkpoints (RFC 9162 section 2.1.4);
an independent implementation accepts its proofs, and verify_audit --consistency refuses forged or truncated ones."""

import base64
import hashlib
import json
from itertools import combinations_with_replacement
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.chain.seal import seal
from audit.models import ChainEntry
from audit.notes import checkpoint_sign
from audit.record import audit_record
from tests.audit.conftest import raw, triggers_disabled

pytestmark = pytest.mark.django_db

# Each seal adds its own `checkpoint` event: these batches give checkpoints of sizes 2, 4, 8, 14, 32 and 35.
BATCHES = (1, 1, 3, 5, 17, 2)
SIZES = (2, 4, 8, 14, 32, 35)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 section 2.1.1 over raw entries, written out here so the test does not trust audit.merkle."""
    if len(leaves) == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1, straight from the RFC."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def independent_verify(first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2, step by step, as a verifier outside this project would write it."""
    if first == second:
        return not path and first_hash == second_hash
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = sha(b"\x01" + c + fr), sha(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


def make_log() -> None:
    n = 0
    for batch in BATCHES:
        for _ in range(batch):
            audit_record(action="view", object_type="loanaccount", object_id=n, fields=["name"])
            n += 1
        seal()


def entries() -> list[bytes]:
    return [bytes(entry) for entry in ChainEntry.objects.order_by("seq").values_list("entry", flat=True)]


def consistency_of(old: int, new: int, capsys) -> dict:
    call_command("audit_proof", "--consistency", str(old), str(new))
    return json.loads(capsys.readouterr().out)


def check(document: dict | str, tmp_path: Path, capsys) -> int:
    path = tmp_path / "consistency.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    try:
        call_command("verify_audit", "--consistency", str(path))
    except SystemExit as exc:
        return exc.code
    except CommandError as exc:
        return exc.returncode
    finally:
        capsys.readouterr()
    return 0


def test_the_proof_has_the_contract_fields_and_exact_checkpoint_texts(audit_keys, settings, capsys) -> None:
    make_log()
    document = consistency_of(8, 35, capsys)
    assert set(document) == {"old_size", "new_size", "old_root", "new_root", "path", "old_checkpoint", "new_checkpoint"}
    assert (document["old_size"], document["new_size"]) == (8, 35)
    assert document["old_checkpoint"] == (audit_keys / "checkpoint-000000000008.txt").read_text()
    assert document["new_checkpoint"] == (audit_keys / "checkpoint-000000000035.txt").read_text()
    leaves = entries()
    assert document["old_root"] == mth(leaves[:8]).hex()
    assert document["new_root"] == mth(leaves).hex()
    # Each root is the one its checkpoint signed, and the signatures are Ed25519's over the note text.
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.AUDIT_PUBLIC_KEY))
    for text, root in ((document["old_checkpoint"], "old_root"), (document["new_checkpoint"], "new_root")):
        body, signature_block = text.split("\n\n")
        assert base64.b64decode(body.split("\n")[2]).hex() == document[root]
        key.verify(base64.b64decode(signature_block.split(" ")[-1])[4:], (body + "\n").encode())


def test_every_pair_of_checkpoints_gives_the_rfc_path_and_an_independent_verifier_accepts_it(
    audit_keys, tmp_path, capsys
) -> None:
    make_log()
    leaves = entries()
    for old, new in combinations_with_replacement(SIZES, 2):
        document = consistency_of(old, new, capsys)
        path = [bytes.fromhex(node) for node in document["path"]]
        assert path == subproof(old, leaves[:new], True), (old, new)
        assert independent_verify(
            old, new, bytes.fromhex(document["old_root"]), bytes.fromhex(document["new_root"]), path
        ), (old, new)
        assert check(document, tmp_path, capsys) == 0, (old, new)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda d: d["path"].__setitem__(0, "00" * 32), id="altered-node"),
        pytest.param(lambda d: d["path"].pop(), id="truncated-path"),
        pytest.param(lambda d: d["path"].pop(0), id="first-node-dropped"),
        pytest.param(lambda d: d["path"].append(d["path"][-1]), id="node-appended"),
        pytest.param(lambda d: d["path"].reverse(), id="nodes-reordered"),
        pytest.param(lambda d: d.update(path=[]), id="empty-path"),
        pytest.param(lambda d: d.update(old_root=d["new_root"]), id="root-swapped"),
        pytest.param(lambda d: d.update(old_size=d["old_size"] + 1), id="size-changed"),
        pytest.param(lambda d: d["path"].__setitem__(0, d["path"][0][:-2]), id="node-cut-short"),
    ],
)
def test_a_forged_or_truncated_proof_is_refused(audit_keys, tmp_path, capsys, forge) -> None:
    make_log()
    document = consistency_of(14, 35, capsys)
    forge(document)
    assert check(document, tmp_path, capsys) == 1


def test_a_fork_signed_after_the_old_checkpoint_cannot_be_proved_consistent_with_it(
    audit_keys, tmp_path, capsys
) -> None:
    make_log()
    genuine = consistency_of(14, 35, capsys)
    # A sealer that rewrote history signs a new tree of 35 leaves whose first 14 differ from the old tree:
    # its proof leads to its own new root, but not from the old checkpoint's root.
    other = [sha(bytes([n])) for n in range(35)]
    fork = checkpoint_sign(35, mth(other), bytes(32), timezone.now())
    forged = dict(
        genuine,
        new_root=mth(other).hex(),
        new_checkpoint=fork,
        path=[node.hex() for node in subproof(14, other, True)],
    )
    path = [bytes.fromhex(node) for node in forged["path"]]
    assert not independent_verify(14, 35, bytes.fromhex(genuine["old_root"]), mth(other), path)
    assert check(forged, tmp_path, capsys) == 1
    # Two trees of one size are consistent only when they are the same tree.
    same_size = dict(consistency_of(35, 35, capsys), new_root=mth(other).hex(), new_checkpoint=fork)
    assert check(same_size, tmp_path, capsys) == 1


def test_a_checkpoint_with_a_forged_root_or_another_key_is_refused(audit_keys, tmp_path, capsys) -> None:
    make_log()
    document = consistency_of(8, 35, capsys)
    forged_root = bytes(32)
    lines = document["new_checkpoint"].split("\n")
    lines[2] = base64.b64encode(forged_root).decode()
    assert check(dict(document, new_checkpoint="\n".join(lines), new_root=forged_root.hex()), tmp_path, capsys) == 1
    # The same note body signed by a key that is not AUDIT_PUBLIC_KEY's.
    body = document["old_checkpoint"].split("\n\n")[0] + "\n"
    stranger = Ed25519PrivateKey.generate()
    name = body.split("\n")[0]
    signature = base64.b64encode(bytes(4) + stranger.sign(body.encode())).decode()
    resigned = f"{body}\n\u2014 {name} {signature}\n"
    assert check(dict(document, old_checkpoint=resigned), tmp_path, capsys) == 1


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"old_size": 1}',
        '{"old_size": 8, "new_size": 35, "old_root": "zz", "new_root": "00", "path": [], '
        '"old_checkpoint": "", "new_checkpoint": ""}',
        '{"old_size": "8", "new_size": 35, "old_root": "00", "new_root": "00", "path": [], '
        '"old_checkpoint": "", "new_checkpoint": ""}',
        '{"old_size": 8, "new_size": 35, "old_root": "00", "new_root": "00", "path": "00", '
        '"old_checkpoint": "", "new_checkpoint": ""}',
    ],
)
def test_a_malformed_proof_file_exits_2(audit_keys, tmp_path, capsys, text: str) -> None:
    assert check(text, tmp_path, capsys) == 2


def test_a_proof_file_cut_short_exits_2(audit_keys, tmp_path, capsys) -> None:
    make_log()
    text = json.dumps(consistency_of(8, 35, capsys))
    assert check(text[: len(text) // 2], tmp_path, capsys) == 2


@pytest.mark.parametrize(
    "arguments", [["--consistency", "9", "35"], ["--consistency", "14", "8"], ["3", "--consistency", "8", "14"], []]
)
def test_sizes_without_checkpoints_or_out_of_order_are_usage_errors(audit_keys, capsys, arguments) -> None:
    make_log()
    with pytest.raises(CommandError) as raised:
        call_command("audit_proof", *arguments)
    assert raised.value.returncode == 2


def test_no_proof_is_made_from_a_chain_that_no_longer_matches_its_checkpoints(audit_keys, capsys) -> None:
    make_log()
    with triggers_disabled():
        raw(
            "UPDATE audit_chainentry SET entry = %s WHERE seq = 20",
            [bytes(ChainEntry.objects.get(seq=20).entry) + b" "],
        )
    with pytest.raises(CommandError) as raised:
        call_command("audit_proof", "--consistency", "14", "35")
    assert raised.value.returncode == 1
