"""Archiving months of the audit log: files anyone can verify with AUDIT_PUBLIC_KEY alone, read-only on the database.

For each month before a given one, a directory `YYYY-MM/` in a sink (the interface checkpoints use, so an
object store can hold archives too):

- `events.jsonl`: each sealed event of the month, in seq order, as its exact chain entry (the bytes that were
  hashed: every readable column, its seq), one a line;
- `chain.jsonl`: `{"seq", "previous", "hash"}` a line: each entry's chain hash and the one before it;
- `checkpoint.txt`: the signed checkpoint whose tree covers them (the newest when the archive was written);
- `proof.json`: for each run of consecutive seqs, the subtrees outside it that lead, with its entries, to that
  checkpoint's root (a Merkle range proof; one pass over the chain proves every run of every month);
- `manifest.txt`: the signed manifest (`audit.chain.manifest`).

A month not yet over is archived up to its last checkpoint (`complete no`). Nothing in the database changes.
"""

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.chain.manifest import Manifest, Runs, manifest_open
from audit.chain.store import VERIFY_FETCH, postgres, prefetched_pages, stream_sealed
from audit.encoding import GENESIS_HASH
from audit.merkle import leaf_hash, range_proof_roots, range_split
from audit.notes import NoteError, checkpoint_open, public_key, signing_key
from audit.partitions import add_months, lender_month, month_partition
from audit.sinks import CheckpointSink, checkpoint_size, default_sink


class ArchiveError(RuntimeError):
    """No archive can be written: `returncode` 2 for bad arguments or a used target, 1 for a damaged log."""

    def __init__(self, message: str, returncode: int = 1) -> None:
        super().__init__(message)
        self.returncode = returncode


@dataclass(frozen=True)
class MonthPlan:
    """One month to archive: its bounds, its sealed seqs (inclusive runs) and whether it is all there."""

    month: datetime.date
    start: datetime.datetime
    end: datetime.datetime
    runs: Runs
    events: int
    complete: bool


def _newest_checkpoint(checkpoints: CheckpointSink) -> tuple[str, int, bytes]:
    """(text, tree size, root) of the newest checkpoint whose signature verifies."""
    for name in reversed(checkpoints.names()):
        text = checkpoints.read(name)
        try:
            checkpoint = checkpoint_open(text)
        except NoteError:
            continue
        if checkpoint_size(name) == checkpoint.tree_size:
            return text, checkpoint.tree_size, checkpoint.root
    raise ArchiveError("no signed checkpoint yet: nothing is sealed to archive", returncode=2)


# A month's sealed events (seq up to a bound) as runs of consecutive seqs: first, last, how many.
MONTH_RUNS_SQL = """
SELECT min(seq), max(seq), count(*) FROM (
    SELECT seq, seq - row_number() OVER (ORDER BY seq) AS island FROM audit_auditevent
     WHERE occurred_at >= %s AND occurred_at < %s AND seq IS NOT NULL AND seq <= %s
) AS sealed GROUP BY island ORDER BY 1
"""


def _plan(month: datetime.date, tree_size: int) -> MonthPlan | None:
    """The month's sealed events up to `tree_size` as runs of seqs, or None when it has none."""
    _, start, end = month_partition(month)
    with connection.cursor() as cursor:
        cursor.execute(MONTH_RUNS_SQL, [start, end, tree_size])
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM audit_auditevent WHERE occurred_at >= %s AND occurred_at < %s"
            " AND (seq IS NULL OR seq > %s)",
            [start, end, tree_size],
        )
        left_out = cursor.fetchone()[0]
    if not rows:
        return None
    over = end <= timezone.now()
    runs = tuple((first, last) for first, last, _ in rows)
    return MonthPlan(month, start, end, runs, sum(count for *_, count in rows), over and not left_out)


def _months(before: datetime.date) -> list[datetime.date]:
    """Every month from the oldest event's up to (not including) `before`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(occurred_at) FROM audit_auditevent")
        (oldest,) = cursor.fetchone()
    if oldest is None:
        return []
    if isinstance(oldest, str):  # SQLite hands timestamps back as text, in UTC
        oldest = datetime.datetime.fromisoformat(oldest).replace(tzinfo=datetime.UTC)
    months, month = [], lender_month(oldest)
    while month < before:
        months.append(month)
        month = add_months(month, 1)
    return months


def _proofs(plans: list[MonthPlan], tree_size: int, root: bytes) -> dict[tuple[int, int], list[bytes]]:
    """Each run's range proof (its outside subtrees) in the tree of `tree_size`, from one pass over the chain."""
    runs = [(first - 1, last) for plan in plans for first, last in plan.runs]  # leaf indexes, end excluded
    frontier, roots = range_proof_roots(runs, tree_size)
    leaves: list[bytes] = []
    for row in stream_sealed(through=tree_size):
        if row[0] != frontier.size + len(leaves) + 1:
            raise ArchiveError(f"seq {frontier.size + len(leaves) + 1} is missing; run verify_audit")
        leaves.append(leaf_hash(bytes(row[1])))
        if len(leaves) == VERIFY_FETCH:
            frontier.extend(leaves)
            leaves.clear()
    frontier.extend(leaves)
    if frontier.size != tree_size or frontier.root() != root:
        raise ArchiveError("the chain does not match its newest checkpoint; run verify_audit")
    found = roots()
    return {(lo + 1, hi): [found[node] for node in range_split(lo, hi, tree_size)[0]] for lo, hi in runs}


def _entries(runs: Runs) -> Iterator[tuple[int, bytes, bytes, bytes | None]]:
    """(seq, entry, hash, previous hash) of the chain entries in the runs, in seq order, streamed."""
    for first, last in runs:
        sql = (
            "SELECT c.seq, c.entry, c.hash, p.hash FROM audit_chainentry AS c"  # noqa: S608 - integers only
            f" LEFT JOIN audit_chainentry AS p ON p.seq = c.seq - 1 WHERE c.seq BETWEEN {int(first)} AND {int(last)}"
            " ORDER BY c.seq"
        )
        if postgres():
            rows: Any = (row for page in prefetched_pages(sql) for row in page)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
        for seq, entry, digest, previous in rows:
            yield seq, bytes(entry), bytes(digest), bytes(previous) if previous is not None else None


def entry_lines(runs: Runs) -> Iterator[bytes]:
    """The events file's lines: each chain entry in the runs, in seq order, with its newline."""
    for _, entry, _, _ in _entries(runs):
        yield entry + b"\n"


def _chain_lines(runs: Runs) -> Iterator[bytes]:
    for seq, _, digest, previous in _entries(runs):
        line = {"seq": seq, "previous": (GENESIS_HASH if seq == 1 else previous or b"").hex(), "hash": digest.hex()}
        yield json.dumps(line).encode() + b"\n"


def _write_month(target: CheckpointSink, plan: MonthPlan, checkpoint_text: str, proofs: dict, tree_size: int) -> str:
    """Write one month's files and its signed manifest; the manifest's text."""
    name = f"{plan.month:%Y-%m}"
    proof = {
        "tree_size": tree_size,
        "runs": [{"first": a, "last": b, "nodes": [node.hex() for node in proofs[(a, b)]]} for a, b in plan.runs],
    }
    proof_bytes = json.dumps(proof, indent=1).encode() + b"\n"
    manifest = Manifest(
        month=name,
        start=plan.start,
        end=plan.end,
        complete=plan.complete,
        tree_size=tree_size,
        checkpoint_sha256=target.write_chunks(f"{name}/checkpoint.txt", [checkpoint_text.encode()]),
        events=plan.events,
        events_sha256=target.write_chunks(f"{name}/events.jsonl", entry_lines(plan.runs)),
        chain_sha256=target.write_chunks(f"{name}/chain.jsonl", _chain_lines(plan.runs)),
        proof_sha256=target.write_chunks(f"{name}/proof.json", [proof_bytes]),
        runs=plan.runs,
        time=timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    text = manifest.sign()
    target.write(f"{name}/manifest.txt", text)
    return text


def archive_write(
    *, before: datetime.date, target: CheckpointSink, checkpoints: CheckpointSink | None = None
) -> list[Manifest]:
    """Archive every sealed event that occurred before the month `before` (a first day) into `target`, a month
    a directory, proved against the newest signed checkpoint; the manifests written."""
    signing_key()  # fail before reading anything when manifests cannot be signed
    checkpoint_text, tree_size, root = _newest_checkpoint(checkpoints or default_sink())
    with transaction.atomic():
        plans = [plan for month in _months(before) if (plan := _plan(month, tree_size)) is not None]
        used = [f"{plan.month:%Y-%m}" for plan in plans if target.listing(f"{plan.month:%Y-%m}")]
        if used:
            raise ArchiveError(f"the target already holds {', '.join(used)}: archive into an empty place", 2)
        proofs = _proofs(plans, tree_size, root) if plans else {}
        written = [_write_month(target, plan, checkpoint_text, proofs, tree_size) for plan in plans]
    return [manifest_open(text, public_key()) for text in written]
