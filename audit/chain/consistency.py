"""Consistency proofs (RFC 9162 section 2.1.4): that the log only grew between two signed checkpoints.

A proof lists the MTH of some leaf ranges. Each range lies wholly inside the old tree, where it is one of
that tree's perfect subtrees (its frontier), or wholly after it, so the prover streams the chain once
through the new size, keeping one frontier per range instead of every leaf hash.
"""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from audit.chain.proof import MalformedProof, ProofError, hex_field
from audit.chain.store import VERIFY_FETCH, stream_sealed
from audit.merkle import Frontier, RangeRoots, consistency_holds, consistency_ranges, leaf_hash
from audit.notes import Checkpoint, NoteError, checkpoint_open, public_key
from audit.sinks import CheckpointSink, checkpoint_name, default_sink, sink_has

CONSISTENCY_FIELDS = ("old_size", "new_size", "old_root", "new_root", "path", "old_checkpoint", "new_checkpoint")


def _signed_checkpoint(sink: CheckpointSink, size: int) -> tuple[str, Checkpoint]:
    """The exact text of the checkpoint of `size` in the sink and what it says, once its signature verifies."""
    name = checkpoint_name(size)
    if not sink_has(sink, name):
        raise ProofError(f"no checkpoint of size {size}; a proof is between two checkpoints", returncode=2)
    text = sink.read(name)
    try:
        checkpoint = checkpoint_open(text)
    except NoteError as exc:
        raise ProofError(f"{name}: {exc}; run verify_audit") from exc
    if checkpoint.tree_size != size:
        raise ProofError(f"{name} names a tree of size {checkpoint.tree_size}; run verify_audit")
    return text, checkpoint


def _proof_nodes(old_size: int, new_size: int) -> tuple[bytes, bytes, list[bytes]]:
    """(old root, new root, proof path) from one pass over chain entries 1..new_size."""
    ranges = consistency_ranges(old_size, new_size)
    tree = Frontier()
    new_side = RangeRoots([(lo, hi) for lo, hi in ranges if lo >= old_size], start=old_size)
    old_side: dict[tuple[int, int], bytes] = {}
    old_root = b""
    leaves: list[bytes] = []

    def flush() -> None:
        if tree.size >= old_size:
            new_side.extend(leaves)
        tree.extend(leaves)
        leaves.clear()

    with transaction.atomic():
        for row in stream_sealed(through=new_size):
            if row[0] != tree.size + len(leaves) + 1:
                raise ProofError(f"seq {tree.size + len(leaves) + 1} is missing; run verify_audit")
            leaves.append(leaf_hash(bytes(row[1])))
            if row[0] == old_size:
                flush()
                old_root = tree.root()
                old_side = {(lo, hi): root for lo, hi, root in tree.subtrees()}
            elif len(leaves) == VERIFY_FETCH:
                flush()
    flush()
    if tree.size != new_size:
        raise ProofError("the chain is shorter than its checkpoint; run verify_audit")
    roots = {**old_side, **new_side.roots()}
    return old_root, tree.root(), [roots[node] for node in ranges]


def consistency_proof(old_size: int, new_size: int, *, sink: CheckpointSink | None = None) -> dict[str, Any]:
    """An RFC 9162 consistency proof between the signed checkpoints of `old_size` and `new_size` events."""
    if not 0 < old_size <= new_size:
        raise ProofError("a consistency proof needs 1 <= OLD_SIZE <= NEW_SIZE", returncode=2)
    sink = sink or default_sink()
    old_text, old = _signed_checkpoint(sink, old_size)
    new_text, new = _signed_checkpoint(sink, new_size)
    old_root, new_root, path = _proof_nodes(old_size, new_size)
    if (old_root, new_root) != (old.root, new.root):
        raise ProofError("the chain does not match its checkpoints; run verify_audit")
    return {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "path": [node.hex() for node in path],
        "old_checkpoint": old_text,
        "new_checkpoint": new_text,
    }


def _integer(document: dict[str, Any], name: str) -> int:
    value = document.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedProof(f"{name} must be an integer")
    return value


def consistency_check(document: Any, key: Ed25519PublicKey | None = None) -> tuple[bool, str]:
    """Check one consistency proof offline against both its checkpoints; (holds, why). Raise MalformedProof
    when it is not a consistency proof at all."""
    if not isinstance(document, dict):
        raise MalformedProof("a proof is a JSON object")
    old_size, new_size = _integer(document, "old_size"), _integer(document, "new_size")
    if not isinstance(document.get("path"), list):
        raise MalformedProof("path must be a list")
    if not isinstance(document.get("old_checkpoint"), str) or not isinstance(document.get("new_checkpoint"), str):
        raise MalformedProof("old_checkpoint and new_checkpoint must be strings")
    old_root = hex_field(document.get("old_root"), "old_root")
    new_root = hex_field(document.get("new_root"), "new_root")
    path = [hex_field(node, "path entry") for node in document["path"]]
    key = key or public_key()
    try:
        old, new = checkpoint_open(document["old_checkpoint"], key), checkpoint_open(document["new_checkpoint"], key)
    except NoteError as exc:
        return False, f"checkpoint: {exc}"
    if (old.tree_size, old.root) != (old_size, old_root) or (new.tree_size, new.root) != (new_size, new_root):
        return False, "a size or root differs from its signed checkpoint"
    if not consistency_holds(old_size, new_size, old_root, new_root, path):
        return False, "the path does not lead from the old root to the new one"
    return True, f"the tree of size {new_size} (root {new_root.hex()}) extends the tree of size {old_size}"
