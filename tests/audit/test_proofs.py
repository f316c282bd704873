"""audit_proof prints an RFC 9162 inclusion proof any implementation accepts; verify_audit --proof checks it."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import CommandError, call_command

from audit.chain.seal import seal
from audit.models import ChainEntry
from audit.record import audit_record

pytestmark = pytest.mark.django_db


def independent_root(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, written out again here so the check does not trust audit.merkle."""
    h = lambda data: hashlib.sha256(data).digest()  # noqa: E731
    fn, sn, r = index, size - 1, h(b"\x00" + leaf)
    for p in path:
        assert sn != 0
        if fn % 2 == 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def make_log(n: int = 10) -> None:
    for i in range(n):
        audit_record(action="reveal", object_type="loanaccount", object_id=i, fields=["borrower.phone"])
    seal()


def proof_of(seq: int, capsys) -> dict:
    call_command("audit_proof", str(seq))
    return json.loads(capsys.readouterr().out)


def check_proof(document: dict | str, tmp_path: Path, capsys) -> int:
    path = tmp_path / "proof.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    try:
        call_command("verify_audit", "--proof", str(path))
    except SystemExit as exc:
        return exc.code
    except CommandError as exc:
        return exc.returncode
    finally:
        capsys.readouterr()
    return 0


def test_the_proof_has_the_contract_fields_and_an_independent_implementation_accepts_it(
    audit_keys, settings, capsys
) -> None:
    make_log()
    document = proof_of(7, capsys)
    assert set(document) == {"seq", "leaf_index", "tree_size", "leaf", "path", "root", "checkpoint"}
    assert (document["seq"], document["leaf_index"], document["tree_size"]) == (7, 6, 11)
    assert bytes.fromhex(document["leaf"]) == bytes(ChainEntry.objects.get(seq=7).entry)
    path = [bytes.fromhex(node) for node in document["path"]]
    root = independent_root(6, 11, bytes.fromhex(document["leaf"]), path)
    assert root.hex() == document["root"]
    # The checkpoint text is the stored file, its root is the proof's root, and the signature is Ed25519's.
    assert document["checkpoint"] == (audit_keys / "checkpoint-000000000011.txt").read_text()
    body, signature_block = document["checkpoint"].split("\n\n")
    assert base64.b64decode(body.split("\n")[2]) == root
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.AUDIT_PUBLIC_KEY))
    key.verify(base64.b64decode(signature_block.split(" ")[-1])[4:], (body + "\n").encode())


@pytest.mark.parametrize("seq", [1, 6, 11])
def test_verify_audit_accepts_a_genuine_proof(audit_keys, tmp_path, capsys, seq: int) -> None:
    make_log()
    assert check_proof(proof_of(seq, capsys), tmp_path, capsys) == 0


def test_a_proof_with_an_altered_leaf_is_rejected(audit_keys, tmp_path, capsys) -> None:
    make_log()
    document = proof_of(3, capsys)
    document["leaf"] = document["leaf"].replace(b"reveal".hex(), b"update".hex())
    assert check_proof(document, tmp_path, capsys) == 1


def test_a_proof_with_an_altered_path_is_rejected(audit_keys, tmp_path, capsys) -> None:
    make_log()
    document = proof_of(3, capsys)
    document["path"][1] = "00" * 32
    assert check_proof(document, tmp_path, capsys) == 1


def test_a_proof_for_another_seq_than_its_leaf_is_rejected(audit_keys, tmp_path, capsys) -> None:
    make_log()
    document = proof_of(3, capsys)
    document.update(seq=4, leaf_index=3)
    assert check_proof(document, tmp_path, capsys) == 1


def test_a_proof_with_a_forged_checkpoint_is_rejected(audit_keys, tmp_path, capsys) -> None:
    make_log()
    document = proof_of(3, capsys)
    forged_root = bytes(32)
    document["checkpoint"] = document["checkpoint"].replace(
        document["checkpoint"].split("\n")[2], base64.b64encode(forged_root).decode()
    )
    document["root"] = forged_root.hex()
    assert check_proof(document, tmp_path, capsys) == 1


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"seq": 1}',
        '{"seq": 1, "leaf_index": 0, "tree_size": 1, "leaf": "zz", "path": [], "root": "00", "checkpoint": ""}',
    ],
)
def test_a_malformed_proof_file_exits_2(audit_keys, tmp_path, capsys, text: str) -> None:
    assert check_proof(text, tmp_path, capsys) == 2


def test_a_proof_for_a_seq_no_checkpoint_covers_yet_is_a_usage_error(audit_keys, capsys) -> None:
    make_log(2)
    audit_record(action="view")
    with pytest.raises(CommandError) as raised:
        call_command("audit_proof", "999")
    assert raised.value.returncode == 2
