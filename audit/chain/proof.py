"""Inclusion proofs (RFC 9162): making one for a sealed event, and checking one offline."""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from audit.chain.store import stream_sealed
from audit.encoding import decode_entry
from audit.merkle import inclusion_path, leaf_hash, root_from_inclusion_path
from audit.notes import NoteError, checkpoint_open
from audit.sinks import CheckpointSink, default_sink


class ProofError(ValueError):
    """No inclusion proof can be made: `returncode` 2 for a seq no checkpoint covers, 1 for a damaged log."""

    def __init__(self, message: str, returncode: int = 1) -> None:
        super().__init__(message)
        self.returncode = returncode


def proof(seq: int, *, sink: CheckpointSink | None = None) -> dict[str, Any]:
    """An RFC 9162 inclusion proof of event `seq` in the tree of the newest checkpoint that covers it."""
    sink = sink or default_sink()
    if seq < 1:
        raise ProofError("seq starts at 1", returncode=2)
    for name in reversed(sink.names()):
        text = sink.read(name)
        try:
            checkpoint = checkpoint_open(text)
        except NoteError:
            continue
        if checkpoint.tree_size >= seq:
            break
    else:
        raise ProofError(f"no valid checkpoint covers seq {seq} yet; run audit_checkpoint", returncode=2)
    leaves: list[bytes] = []
    entry_of_seq = b""
    with transaction.atomic():
        for row in stream_sealed():
            if row[0] > checkpoint.tree_size:
                break
            if row[0] != len(leaves) + 1:
                raise ProofError(f"seq {len(leaves) + 1} is missing; run verify_audit")
            entry = bytes(row[1])
            if row[0] == seq:
                entry_of_seq = entry
            leaves.append(leaf_hash(entry))
    if len(leaves) != checkpoint.tree_size:
        raise ProofError("the chain is shorter than its checkpoint; run verify_audit")
    path = inclusion_path(leaves, seq - 1)
    if root_from_inclusion_path(seq - 1, len(leaves), leaves[seq - 1], path) != checkpoint.root:
        raise ProofError("the chain does not match its checkpoint; run verify_audit")
    return {
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": checkpoint.tree_size,
        "leaf": entry_of_seq.hex(),
        "path": [node.hex() for node in path],
        "root": checkpoint.root.hex(),
        "checkpoint": text,
    }


class MalformedProof(ValueError):
    """The proof file is not a proof at all (exit 2), as opposed to a proof that does not hold (exit 1)."""


def hex_field(value: Any, what: str) -> bytes:
    """The bytes of a hex string field of a proof; MalformedProof when it is not one."""
    if not isinstance(value, str):
        raise MalformedProof(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise MalformedProof(f"{what} is not hex") from exc


def proof_check(document: Any, key: Ed25519PublicKey | None = None) -> tuple[bool, str]:
    """Check one inclusion proof offline; (holds, why). Raise MalformedProof when it is not a proof."""
    if not isinstance(document, dict):
        raise MalformedProof("a proof is a JSON object")
    for name in ("seq", "leaf_index", "tree_size"):
        if not isinstance(document.get(name), int) or isinstance(document.get(name), bool):
            raise MalformedProof(f"{name} must be an integer")
    if not isinstance(document.get("path"), list) or not isinstance(document.get("checkpoint"), str):
        raise MalformedProof("path must be a list and checkpoint a string")
    leaf_bytes = hex_field(document.get("leaf"), "leaf")
    root = hex_field(document.get("root"), "root")
    path = [hex_field(node, "path entry") for node in document["path"]]
    seq, index, size = document["seq"], document["leaf_index"], document["tree_size"]
    from audit.notes import public_key

    try:
        checkpoint = checkpoint_open(document["checkpoint"], key or public_key())
    except NoteError as exc:
        return False, f"checkpoint: {exc}"
    if index != seq - 1:
        return False, "leaf_index is not seq - 1"
    if size != checkpoint.tree_size or root != checkpoint.root:
        return False, "tree size or root differs from the signed checkpoint"
    try:
        if decode_entry(leaf_bytes).get("seq") != seq:
            return False, "the leaf is not the entry of this seq"
    except (ValueError, AttributeError):
        return False, "the leaf is not an audit entry"
    computed = root_from_inclusion_path(index, size, leaf_hash(leaf_bytes), path)
    if computed != checkpoint.root:
        return False, "the path does not lead to the checkpoint's root"
    return True, f"seq {seq} is included in the tree of size {size} (root {root.hex()})"
