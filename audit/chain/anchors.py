"""The checkpoints verify runs confirmed: where the next incremental run starts.

After a run (full or incremental) finds the chain intact, it writes to the checkpoint sink, beside the
checkpoints, a note signed with the audit key naming the newest checkpoint it confirmed, with that tree's
Merkle frontier and chain hash. An incremental run starts from the newest such note whose signature
verifies and which agrees with its checkpoint: the frontier must fold to the root the checkpoint signed and
the chain hash must be the one it names, so the note can say nothing about the tree that the checkpoint
does not. Nothing in the database says where to start: a table row is something anyone with INSERT could
add.
"""

import base64
import binascii
import datetime
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from audit.merkle import Frontier
from audit.notes import (
    Checkpoint,
    NoteError,
    checkpoint_open,
    open_note,
    origin,
    parse_checkpoint,
    sign_note,
    signing_key,
)
from audit.sinks import CheckpointSink, checkpoint_name, sink_has

VERIFIED_FOLDER = "verified"
_ANCHOR_NAME = re.compile(rf"^{VERIFIED_FOLDER}/verified-(\d{{12,}})\.txt$")


def anchor_name(size: int) -> str:
    """The sink name of the note saying the tree of `size` events was verified."""
    return f"{VERIFIED_FOLDER}/verified-{size:012d}.txt"


def _anchor_origin() -> str:
    # Not the checkpoints' origin: an anchor can never be taken for a checkpoint, nor one for an anchor.
    return f"{origin()}/verified"


@dataclass(frozen=True)
class Anchor:
    """A verified tree: its size, root, chain hash and frontier; `horizon` (0 when unknown) is a transaction
    id that every event sealed after it was written by or after, from its checkpoint."""

    name: str
    size: int
    root: bytes
    chain_hash: bytes
    frontier: bytes
    horizon: int


def anchor_write(
    sink: CheckpointSink, *, size: int, frontier: bytes, chain_hash: bytes, kind: str, at: datetime.datetime
) -> str | None:
    """Record that the tree of `size` events was verified (by a `kind` run); its name, or None when no signing
    key is configured (a verifier holding only the public key confirms nothing for the next run)."""
    if not settings.AUDIT_SIGNING_KEY:
        return None
    stamp = at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    extensions = (
        f"time {stamp}",
        f"kind {kind}",
        f"chain {base64.b64encode(chain_hash).decode()}",
        f"frontier {base64.b64encode(frontier).decode()}",
    )
    root = Frontier.from_bytes(size, frontier).root()
    body = Checkpoint(_anchor_origin(), size, root, extensions).body()
    name = anchor_name(size)
    try:
        sink.write(name, sign_note(body, origin(), signing_key()))
    except FileExistsError:
        pass  # an earlier run confirmed the same tree
    return name


def _open_anchor(sink: CheckpointSink, name: str, key: Ed25519PublicKey, cluster: int | None) -> Anchor:
    """The anchor stored under `name`, once its signature and its checkpoint agree; NoteError otherwise."""
    anchor = parse_checkpoint(open_note(sink.read(name), origin(), key))
    if anchor.origin != _anchor_origin() or name != anchor_name(anchor.tree_size):
        raise NoteError("not a verified-tree note of this log")
    try:
        packed = base64.b64decode(anchor.extension("frontier") or "", validate=True)
        frontier = Frontier.from_bytes(anchor.tree_size, packed)
        chain_hash = base64.b64decode(anchor.extension("chain") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"malformed frontier or chain hash: {exc}") from exc
    checkpoint_file = checkpoint_name(anchor.tree_size)
    if not sink_has(sink, checkpoint_file):
        raise NoteError(f"its checkpoint {checkpoint_file} is missing")
    checkpoint = checkpoint_open(sink.read(checkpoint_file), key)
    same_tree = frontier.root() == anchor.root == checkpoint.root
    if not same_tree or checkpoint.extension("chain") != anchor.extension("chain"):
        raise NoteError(f"does not describe the tree {checkpoint_file} signed")
    xid, _, horizon_cluster = (checkpoint.extension("horizon") or "").partition(" ")
    horizon = int(xid) if xid.isdigit() and cluster is not None and horizon_cluster == str(cluster) else 0
    return Anchor(name, anchor.tree_size, anchor.root, chain_hash, packed, horizon)


def latest_anchor(
    sink: CheckpointSink, key: Ed25519PublicKey, cluster: int | None
) -> tuple[Anchor | None, list[tuple[str, str]]]:
    """The newest verified tree whose note holds, and (name, why) of each newer note that does not."""
    refused: list[tuple[str, str]] = []
    for name in reversed([name for name in sink.listing(VERIFIED_FOLDER) if _ANCHOR_NAME.match(name)]):
        try:
            return _open_anchor(sink, name, key, cluster), refused
        except (NoteError, UnicodeDecodeError, OSError) as exc:
            refused.append((name, str(exc)))
    return None, refused
