"""Incremental verification: only what was sealed since the last checkpoint a verify run confirmed.

The run starts from the newest verified tree in the checkpoint sink (`audit.chain.anchors`): its chain hash
and Merkle frontier let it rechain and rebuild the tree from the next seq on, checking each later
checkpoint's root as a full run does, and the events sealed since are found through the `txid` index from
the horizon the anchor's checkpoint signed. It also checks an RFC 9162 consistency proof from the anchor's
tree to the newest checkpoint's, built from the anchor's frontier and the leaves it streamed.

What it leaves to the full run (nightly incremental, weekly full): rows at or before the anchor, which it
trusts once the anchor's own chain entry still carries the verified hash (if not, it runs the full check at
once), and an event written before the anchor's horizon that someone gave a later seq with the triggers off.
"""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection

from audit.chain.anchors import Anchor, latest_anchor
from audit.chain.store import postgres, transaction_clock
from audit.chain.verify import Start, VerifyResult, load_checkpoints, load_detached, verify, verify_from
from audit.merkle import Frontier, consistency_holds, consistency_ranges
from audit.notes import public_key
from audit.sinks import CheckpointSink, checkpoint_name, default_sink


def _anchor_entry_holds(anchor: Anchor) -> bool:
    """Whether chain entry `anchor.size` still carries the chain hash the anchor verified."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_chainentry WHERE seq = %s", [anchor.size])
        row = cursor.fetchone()
    return row is not None and bytes(row[0]) == anchor.chain_hash


def _full_instead(
    sink: CheckpointSink, key: Ed25519PublicKey, why: str, refused: list[tuple[str, str]]
) -> VerifyResult:
    result = verify(sink=sink, key=key)
    result.notes.append(why)
    for name, reason in refused:
        result.bad_checkpoints.append(name)
        result.reasons.append(f"{name}: {reason}")
    if refused:
        result.verified = None
    return result


def _perfect(lo: int, hi: int) -> bool:
    """Whether leaves lo..hi-1 form a perfect subtree of any larger tree: a power of two, aligned to it."""
    width = hi - lo
    return width & (width - 1) == 0 and lo % width == 0


def verify_incremental(*, sink: CheckpointSink | None = None, key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check what was sealed after the newest verified tree, and that the newest checkpoint extends it; with no
    verified tree to start from, or one the chain no longer holds, check the whole chain instead."""
    sink, key = sink or default_sink(), key or public_key()
    anchor, refused = latest_anchor(sink, key, transaction_clock().cluster if postgres() else None)
    if anchor is None:
        return _full_instead(sink, key, "no verified checkpoint to start from: the whole chain was checked", refused)
    if not _anchor_entry_holds(anchor):
        why = (
            f"chain entry {anchor.size} no longer carries the hash {anchor.name} verified: the whole chain was checked"
        )
        return _full_instead(sink, key, why, refused)
    result = VerifyResult(kind="incremental")
    for name, reason in refused:  # a verified-tree note that does not hold is itself a finding
        result.bad_checkpoints.append(name)
        result.reasons.append(f"{name}: {reason}")
    checkpoints = load_checkpoints(sink, key, result, after=anchor.size)
    newest = max(checkpoints, default=anchor.size)
    ranges = consistency_ranges(anchor.size, newest) if newest > anchor.size else []
    # The proof's nodes after the anchor are perfect subtrees, kept as the walk rebuilds the tree (no second
    # hashing of the new leaves), except perhaps the right edge, read off the newest tree's frontier.
    perfect = [(lo, hi) for lo, hi in ranges if lo >= anchor.size and _perfect(lo, hi)]
    start = Start(anchor.size, anchor.chain_hash, anchor.frontier, anchor.horizon)
    walk = verify_from(start, checkpoints, result, wanted=perfect, detached=load_detached(sink, key, result))
    result.notes.append(f"from the tree of size {anchor.size} ({anchor.name})")
    if result.ok and newest > anchor.size and result.verified is not None:
        old_side = Frontier.from_bytes(anchor.size, anchor.frontier).subtrees()
        newest_tree = Frontier.from_bytes(newest, result.verified[1])
        nodes = {(lo, hi): root for lo, hi, root in old_side} | walk.found
        path = [nodes[(lo, hi)] if (lo, hi) in nodes else newest_tree.tail_root(lo) for lo, hi in ranges]
        if not consistency_holds(anchor.size, newest, anchor.root, checkpoints[newest].root, path):
            result.bad_checkpoints.append(checkpoint_name(newest))
            result.reasons.append(f"{checkpoint_name(newest)} is not consistent with {anchor.name}")
            result.verified = None
    return result
