"""Checkpoints as C2SP signed notes: format, key id, and forgeries refused."""

import base64
import datetime
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.notes import (
    NoteError,
    checkpoint_open,
    checkpoint_sign,
    key_id,
    open_note,
    parse_checkpoint,
    public_key,
    raw_public_bytes,
    sign_note,
)
from tests.audit.conftest import new_key_pair

AT = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def test_key_id_is_the_signed_note_hash_of_name_algorithm_and_key() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    expected = hashlib.sha256(b"example.com/log\n\x01" + raw_public_bytes(key)).digest()[:4]
    assert key_id("example.com/log", key) == expected


def test_checkpoint_note_has_origin_size_root_extensions_and_an_em_dash_signature(settings) -> None:
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    root = bytes(range(32))
    note = checkpoint_sign(42, root, bytes(32), AT)
    body, signatures = note.split("\n\n")
    lines = body.split("\n")
    assert lines[:3] == ["family-contact-review/audit", "42", base64.b64encode(root).decode()]
    assert lines[3] == "time 2026-01-02T03:04:05.000000Z"
    assert lines[4].startswith("chain ")
    assert signatures.startswith("\u2014 family-contact-review/audit ")
    signature = base64.b64decode(signatures.split(" ")[-1])
    assert len(signature) == 4 + 64
    assert signature[:4] == key_id("family-contact-review/audit", public_key())
    public_key().verify(signature[4:], (body + "\n").encode())  # independent check with the raw key
    checkpoint = checkpoint_open(note)
    assert (checkpoint.tree_size, checkpoint.root, checkpoint.extension("time")) == (
        42,
        root,
        "2026-01-02T03:04:05.000000Z",
    )


def test_a_checkpoint_with_an_edited_body_is_refused(settings) -> None:
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    note = checkpoint_sign(42, bytes(32), bytes(32), AT)
    with pytest.raises(NoteError):
        checkpoint_open(note.replace("\n42\n", "\n43\n"))


def test_a_checkpoint_signed_by_another_key_is_refused(settings) -> None:
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    note = checkpoint_sign(42, bytes(32), bytes(32), AT)
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    with pytest.raises(NoteError):
        checkpoint_open(note)


def test_cosignatures_by_other_keys_are_ignored_but_ours_is_required() -> None:
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = "origin\n1\n" + base64.b64encode(bytes(32)).decode() + "\n"
    ours_note = sign_note(text, "origin", ours)
    witness_line = sign_note(text, "witness", theirs).split("\n\n")[1]
    assert open_note(ours_note + witness_line, "origin", ours.public_key()) == text
    with pytest.raises(NoteError):
        open_note(sign_note(text, "witness", theirs), "origin", ours.public_key())


@pytest.mark.parametrize(
    "body",
    ["origin\n", "origin\n01\nAAAA\n", "origin\n1\nnot base64!\n", "origin\n1\n" + "A" * 44 + "\n\n"],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)
