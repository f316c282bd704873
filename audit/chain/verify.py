"""Verifying the chain: every sealed event's place, hash and content, and every checkpoint's signature and root.

One pass streams the chain entries in seq order, rechaining the hashes and rebuilding the Merkle tree to
compare with each signed checkpoint, while (on PostgreSQL) a second connection joins the entries to their
events to find misplaced or rewritten rows. Only rows that may have been written since their seal get
their entry rebuilt from their columns: see `verify`.
"""

import base64
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction

from audit.chain.manifest import Runs, manifest_open
from audit.chain.store import (
    VERIFY_FETCH,
    XID_WRAP,
    TransactionClock,
    event_columns,
    postgres,
    row_values,
    stream_sealed_pages,
    transaction_clock,
)
from audit.encoding import GENESIS_HASH, chain_hash, chain_hashes, encode_entry, entry_sql
from audit.merkle import Frontier, leaf_hash, leaf_hashes
from audit.notes import Checkpoint, NoteError, checkpoint_open, public_key
from audit.sinks import CheckpointSink, checkpoint_name, checkpoint_size, default_sink

# Where a detached month's manifest is kept beside the checkpoints (audit.detach writes it).
DETACHED_FOLDER = "detached"
# Above this many events to rebuild, one scan of the whole table is cheaper than looking each one up.
REBUILD_BY_SEQ_LIMIT = 100_000


@dataclass
class VerifyResult:
    """What verify found: counts, and the first bad seq and bad checkpoint files when something is wrong."""

    events: int = 0
    checkpoints: int = 0
    rebuilt: int = 0  # events whose entry was rebuilt from their columns and compared
    first_bad_seq: int | None = None
    bad_checkpoints: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    kind: str = "full"  # or "incremental": only what was sealed after seq `after`
    after: int = 0
    notes: list[str] = field(default_factory=list)  # how the run went, beside its findings
    # The newest checkpointed tree the run confirmed: (size, Merkle frontier, chain hash), for the next run.
    verified: tuple[int, bytes, bytes] | None = None

    @property
    def ok(self) -> bool:
        """Whether the chain and every checkpoint are intact."""
        return self.first_bad_seq is None and not self.bad_checkpoints


@dataclass(frozen=True)
class Start:
    """Where a walk over the chain begins: after seq `after`, whose chain hash and Merkle frontier (packed)
    are given. On PostgreSQL every event sealed since was written by transaction `horizon` or a later one
    (0: unknown, every event is looked at)."""

    after: int = 0
    previous: bytes = GENESIS_HASH
    frontier: bytes = b""
    horizon: int = 0


FROM_GENESIS = Start()

# Where the chain and the events disagree on which event holds a seq: a chain entry whose event is gone or
# carries another seq, or an event carrying a seq that no chain entry gives it. On PostgreSQL also the
# events written since the seal that wrote their chain entry (both rows of a seal carry its transaction
# id), whose entry must be rebuilt from their columns. From a start after seq 0, only the chain entries
# after it and the events written since its horizon (found through the `txid` index) are compared.
_EVENT_SIDE_SQL = """
SELECT CASE WHEN c.seq IS NULL OR e.seq < c.seq THEN e.seq ELSE c.seq END,
        c.seq IS NULL OR e.id IS NULL OR e.seq <> c.seq
    FROM (SELECT seq, event_id{xmin} FROM audit_chainentry WHERE seq > %s) AS c
    FULL JOIN (SELECT id, seq{xmin} FROM audit_auditevent WHERE seq > %s{since}) AS e ON e.id = c.event_id
    WHERE (c.seq IS NULL OR e.id IS NULL OR e.seq <> c.seq{rewritten}){kept}
"""
# Leaves out the chain entries of archived months detached from the database (their events are gone by design).
_NOT_DETACHED = " AND NOT (e.id IS NULL AND c.seq <@ ANY(%s::int8range[]))"


def _ranges(detached: Runs) -> list[str]:
    return [f"[{first},{last}]" for first, last in detached]


def _event_side_findings(start: Start = FROM_GENESIS, detached: Runs = ()) -> tuple[int | None, list[int]]:
    """(first seq the chain and the events place differently, seqs whose event row was written since its seal);
    the events of `detached` seqs may be gone."""
    # PostgreSQL also compares xmin (PostgreSQL only by nature), so bench_audit 2 rebuilds only rewritten rows.
    on_postgres = postgres()
    sql = _EVENT_SIDE_SQL.format(
        xmin=", xmin" if on_postgres else "",
        rewritten=" OR e.xmin <> c.xmin" if on_postgres else "",
        since=" AND txid >= %s" if start.horizon else "",
        kept=_NOT_DETACHED if detached else "",
    )
    params = [start.after, start.after, *([start.horizon] if start.horizon else [])]
    params += [_ranges(detached)] if detached else []
    with connection.cursor() as cursor:
        if on_postgres:
            # A hash join of a million rows a side: in memory rather than in batches on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        findings = cursor.fetchall()
    misplaced = [seq for seq, is_misplaced in findings if is_misplaced]
    return min(misplaced, default=None), [seq for seq, is_misplaced in findings if not is_misplaced]


def _event_side_findings_beside(start: Start, detached: Runs) -> Callable[[], tuple[int | None, list[int]]]:
    """Start `_event_side_findings`; the returned function gives its result.

    Outside a transaction it runs at once on a second connection (Django opens one per thread), so
    PostgreSQL joins the tables on one core while this thread hashes the chain on the other. Inside a
    transaction (a test's, say) another connection would not see its rows: it runs later, on this one.
    """
    # A second connection on PostgreSQL only, for bench_audit 2 (verify_audit over 1,000,000 events).
    if connection.in_atomic_block or not postgres():
        return lambda: _event_side_findings(start, detached)
    outcome: list[Any] = []

    def run() -> None:
        try:
            with transaction.atomic():
                outcome.append(_event_side_findings(start, detached))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run, name="audit-verify-events", daemon=True)
    worker.start()

    def result() -> tuple[int | None, list[int]]:
        worker.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    return result


def _first_inconsistent_seq_sql(seqs: list[int] | None, after: int = 0, detached: Runs = ()) -> int | None:
    """On PostgreSQL: the first of these chain entries (every one after seq `after` when None) that the
    columns of its event no longer give (an event of `detached` seqs may be gone)."""
    if seqs is not None and not seqs:
        return None
    only, params = (" WHERE c.seq > %s", [after]) if seqs is None else (" WHERE c.seq = ANY(%s)", [seqs])
    gone = "(e.id IS NULL" + (" AND NOT c.seq <@ ANY(%s::int8range[]))" if detached else ")")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(c.seq) FILTER (WHERE {gone} OR (e.id IS NOT NULL AND c.entry IS DISTINCT FROM "  # noqa: S608
            f"{entry_sql('c.seq')})) FROM audit_chainentry AS c LEFT JOIN audit_auditevent AS e ON e.id = c.event_id"
            f"{only}",
            ([_ranges(detached)] if detached else []) + params,
        )
        return cursor.fetchone()[0]


def xmin_segments(
    checkpoints: dict[int, Checkpoint], clock: TransactionClock, start: int = 0
) -> list[tuple[int, bytes | None]]:
    """(last seq, xmin as PostgreSQL sends it) for consecutive seq ranges from `start` + 1, the last one
    open-ended; None where no signed checkpoint vouches which transaction sealed the range.

    A vouched id counts only in the cluster that sealed (`sealed-xmin <first seq> <64-bit id> <cluster>`),
    and only while it is unique in its low 32 bits, the part a row keeps: once a transaction 2^32 later
    may have started, it could have stamped a row with the same xmin.
    """
    segments: list[tuple[int, bytes | None]] = []
    position = start
    for size, checkpoint in sorted(checkpoints.items()):
        fields = (checkpoint.extension("sealed-xmin") or "").split(" ")
        if len(fields) != 3 or not all(field.isdigit() for field in fields):
            continue
        first, transaction_id, cluster = (int(field) for field in fields)
        if not position < first <= size or cluster != clock.cluster:
            continue
        if clock.next_transaction > transaction_id + XID_WRAP:
            continue
        if first > position + 1:
            segments.append((first - 1, None))
        segments.append((size, (transaction_id % XID_WRAP).to_bytes(4, "big")))
        position = size
    segments.append((sys.maxsize, None))
    return segments


def load_checkpoints(
    sink: CheckpointSink, key: Ed25519PublicKey, result: VerifyResult, after: int = 0
) -> dict[int, Checkpoint]:
    """The signed checkpoints of trees larger than `after`, by size; the others are noted in `result`."""
    checkpoints: dict[int, Checkpoint] = {}
    for name in sink.names():
        if after and (checkpoint_size(name) or 0) <= after:
            continue
        result.checkpoints += 1
        try:
            checkpoint = checkpoint_open(sink.read(name), key)
        except (NoteError, UnicodeDecodeError, OSError) as exc:
            result.bad_checkpoints.append(name)
            result.reasons.append(f"{name}: {exc}")
            continue
        if name != checkpoint_name(checkpoint.tree_size) or checkpoint.tree_size in checkpoints:
            result.bad_checkpoints.append(name)
            result.reasons.append(f"{name}: names a tree of size {checkpoint.tree_size}")
            continue
        checkpoints[checkpoint.tree_size] = checkpoint
    return checkpoints


@dataclass
class _Walk:
    """What one pass over the chain entries found."""

    events: int = 0  # entries in unbroken seq order from 1
    stream_bad: int | None = None  # the first entry out of place, without entry or hash, or not chaining
    root_bad_at: int | None = None  # a checkpoint whose root failed: the damage is in (good_checkpoint, size]
    good_checkpoint: int = 0  # largest checkpointed size confirmed so far
    # Chain entries are insert-only: one carrying the transaction id its seal's checkpoint names is the one
    # its seal wrote. The first since the last good checkpoint that is not (rewritten since, or vouched for
    # by no checkpoint) is where a chain rewritten up to a checkpoint whose root fails may begin.
    first_unvouched: int | None = None
    to_rebuild: list[int] = field(default_factory=list)  # PostgreSQL: seqs whose entry must be rebuilt
    verified: tuple[int, bytes, bytes] | None = None  # the last checkpoint that held: size, frontier, hash
    found: dict[tuple[int, int], bytes] = field(default_factory=dict)  # MTH of the wanted perfect subtrees


def _sqlite_row_problem(seq: int, entry: bytes, row: tuple[Any, ...]) -> str | None:
    """On SQLite (no xmin): why the event joined to chain entry `seq` does not give its entry, if it does not."""
    if row[4] is None or row[3] != seq:
        return f"seq {seq}: its event is gone or carries another seq"
    if entry != encode_entry(seq, row_values(row[4:])):
        return f"seq {seq}: columns differ from the sealed entry"
    return None


def _checkpoint_holds(frontier: Frontier, checkpoint: Checkpoint, digest: bytes) -> bool:
    """Whether the tree so far has the checkpoint's root, and its last hash the chain head it names (if any)."""
    head = checkpoint.extension("chain")
    return frontier.root() == checkpoint.root and not (head and head != base64.b64encode(digest).decode())


def _walk_chain(
    checkpoints: dict[int, Checkpoint],
    vouched: list[tuple[int, bytes | None]],
    *,
    by_xmin: bool,
    result: VerifyResult,
    start: Start,
    wanted: Iterable[tuple[int, int]] = (),
) -> _Walk:
    """Stream the chain entries after `start` in seq order: check each one's place and hash and each
    checkpoint's root; on PostgreSQL note the entries whose xmin no checkpoint vouches for, on SQLite rebuild
    every entry. The MTH of the `wanted` perfect subtrees after `start` are kept as the tree is rebuilt."""
    return _ChainWalk(checkpoints, vouched, by_xmin=by_xmin, result=result, start=start, wanted=wanted).walk_all()


class _ChainWalk:
    """One walk over the chain entries (see `_walk_chain`).

    On PostgreSQL a run of entries up to the next checkpoint (or the page's end) is checked at once when it is
    clean (`clean_run`); a run that is not is walked entry by entry (`entry_step`), which finds and names the first
    fault. Both apply the same checks; the run form leaves the per-entry work to C (list comprehensions).
    """

    def __init__(
        self,
        checkpoints: dict[int, Checkpoint],
        vouched: list[tuple[int, bytes | None]],
        *,
        by_xmin: bool,
        result: VerifyResult,
        start: Start,
        wanted: Iterable[tuple[int, int]],
    ) -> None:
        self.checkpoints, self.by_xmin, self.result, self.after = checkpoints, by_xmin, result, start.after
        self.on_postgres, self.walk = postgres(), _Walk(good_checkpoint=start.after)
        self.sizes = sorted(checkpoints)
        self.expected, self.previous, self.size_index = start.after + 1, start.previous, 0
        self.frontier = Frontier.from_bytes(start.after, start.frontier, wanted)
        self.walk.found = self.frontier.found
        self.next_size = self.sizes[0] if self.sizes else -1
        self.segments = iter(vouched)
        self.segment_end, self.sealed_xmin = next(self.segments)
        self.leaves: list[bytes] = []  # hashed, not yet in the frontier: it takes them in runs

    def walk_all(self) -> _Walk:
        """Every page of entries after the start, until the end of the chain or the first fault."""
        # PostgreSQL: the transaction that wrote each chain entry (xmin, so bench_audit 2 rebuilds only the rows
        # written since their seal). SQLite: the event, whose entry is rebuilt.
        extra_columns = ", c.xmin" if self.on_postgres else f", e.seq, {event_columns('e')}"
        going = True
        for page in stream_sealed_pages(extra_columns, with_events=not self.on_postgres, after=self.after):
            position = 0
            while going and position < len(page):
                last = self.next_size - self.expected
                end = len(page) if last < 0 else min(len(page), position + last + 1)
                run = page[position:end]
                if self.on_postgres and self.clean_run(run):
                    if self.expected - 1 == self.next_size and not self.checkpoint_reached(
                        self.next_size, bytes(run[-1][2])
                    ):
                        self.expected -= 1  # as entry by entry: the walk stops at the checkpoint's entry
                        going = False
                else:
                    going = all(self.entry_step(row) for row in run)
                position = end
            if not going:
                break
        self.walk.events = self.expected - 1
        return self.walk

    def checkpoint_reached(self, seq: int, digest: bytes) -> bool:
        """At checkpoint `seq`: whether its root holds (the walk then goes on to the next checkpoint)."""
        walk = self.walk
        if not _checkpoint_holds(self.frontier, self.checkpoints[seq], digest):
            walk.root_bad_at = seq
            self.result.reasons.append(f"checkpoint of size {seq}: root or chain head does not match")
            return False
        walk.good_checkpoint, walk.first_unvouched = seq, None
        walk.verified = (seq, self.frontier.to_bytes(), digest)
        self.size_index += 1
        self.next_size = self.sizes[self.size_index] if self.size_index < len(self.sizes) else -1
        return True

    def _stop(self, seq: int, reason: str) -> bool:
        self.walk.stream_bad = seq
        self.result.reasons.append(reason)
        return False

    def _vouch(self, seqs: list[int]) -> None:
        """Note entries whose xmin their seal's checkpoint does not vouch for (in seq order)."""
        if self.by_xmin:
            self.walk.to_rebuild.extend(seqs)
        if self.walk.first_unvouched is None:
            self.walk.first_unvouched = seqs[0]

    def _segment_of(self, seq: int) -> None:
        while seq > self.segment_end:
            self.segment_end, self.sealed_xmin = next(self.segments)

    def entry_step(self, row: tuple[Any, ...]) -> bool:
        """One entry; False when the walk must stop there."""
        seq, entry, digest = row[0], row[1], row[2]
        if seq != self.expected:
            return self._stop(self.expected, f"seq {self.expected} is missing")
        if entry is None or digest is None:
            return self._stop(seq, f"seq {seq} has no entry or hash")
        entry, digest = bytes(entry), bytes(digest)
        self.previous = chain_hash(self.previous, entry)
        if self.previous != digest:
            return self._stop(seq, f"seq {seq}: hash does not match its entry and the previous hash")
        if self.on_postgres:
            self._segment_of(seq)
            if row[3] != self.sealed_xmin:
                self._vouch([seq])
        else:
            self.result.rebuilt += 1
            if problem := _sqlite_row_problem(seq, entry, row):
                return self._stop(seq, problem)
        self.leaves.append(leaf_hash(entry))
        if len(self.leaves) == VERIFY_FETCH or seq == self.next_size:
            self.frontier.extend(self.leaves)
            self.leaves.clear()
        if seq == self.next_size and not self.checkpoint_reached(seq, digest):
            return False
        self.expected += 1
        return True

    def clean_run(self, run: list[tuple[Any, ...]]) -> bool:
        """Check and take in a run of PostgreSQL entries ending at most at the next checkpoint, if every entry is in
        place and chains; False, having changed nothing, when one is not."""
        entries, digests = [row[1] for row in run], [row[2] for row in run]
        in_place = [row[0] for row in run] == list(range(self.expected, self.expected + len(run)))
        if not in_place or None in entries or None in digests:
            return False
        hashes = chain_hashes(self.previous, entries)
        if hashes != digests:
            return False
        position = 0
        while position < len(run):  # the entries each seal's checkpoint vouches for, a segment at a time
            seq = run[position][0]
            self._segment_of(seq)
            segment = run[position : position + self.segment_end - seq + 1]
            if unvouched := [row[0] for row in segment if row[3] != self.sealed_xmin]:
                self._vouch(unvouched)
            position += len(segment)
        self.frontier.extend([*self.leaves, *leaf_hashes(entries)])
        self.leaves.clear()
        self.expected, self.previous = self.expected + len(run), hashes[-1]
        return True


def _first_bad_seq(
    result: VerifyResult, walk: _Walk, misplaced: int | None, inconsistent: int | None, last_size: int | None
) -> int | None:
    """The first seq whose content, hash or place is wrong, from every finding (noting why in `result`)."""
    if misplaced is not None:
        result.reasons.append(f"seq {misplaced}: the chain and the events disagree on which event holds it")
    if inconsistent is not None:
        result.reasons.append(f"seq {inconsistent}: columns differ from the sealed entry")
    candidates = [seq for seq in (walk.stream_bad, misplaced, inconsistent) if seq is not None]
    if walk.root_bad_at is not None:
        # The chain is self-consistent up to here, so it was rewritten: blame the first chain entry not
        # vouched for as its seal's or a precise finding in the same range, else the first seq the last
        # good checkpoint does not cover.
        precise = [seq for seq in candidates if seq <= walk.root_bad_at]
        if walk.first_unvouched is not None:
            precise.append(walk.first_unvouched)
            result.reasons.append(
                f"seq {walk.first_unvouched}: no checkpoint vouches that its seal wrote its chain entry"
            )
        candidates = precise or [walk.good_checkpoint + 1]
    if walk.stream_bad is None and walk.root_bad_at is None and last_size and last_size > walk.events:
        candidates.append(walk.events + 1)
        result.reasons.append(f"checkpoint of size {last_size} but the chain ends at seq {walk.events}")
    return min(candidates) if candidates else None


def verify_from(
    start: Start,
    checkpoints: dict[int, Checkpoint],
    result: VerifyResult,
    *,
    full: bool = False,
    wanted: Iterable[tuple[int, int]] = (),
    detached: Runs = (),
) -> _Walk:
    """Check what was sealed after `start` against `checkpoints` (those of larger trees), filling `result`;
    the events of `detached` seqs (archived months detached from the database) may be gone. The walk keeps
    the MTH of the `wanted` perfect subtrees after `start` (a consistency proof's nodes) in its `found`.

    Content: on PostgreSQL a row whose xmin is still the one its seal's signed checkpoint names has not
    been written since the seal built its entry from those very columns, so only the other rows get
    their entry rebuilt from their columns and compared (`full` rebuilds every row). SQLite has no
    xmin: every row is rebuilt, in Python.
    """
    on_postgres = postgres()
    by_xmin = on_postgres and not full
    vouched = xmin_segments(checkpoints, transaction_clock(), start.after) if on_postgres else [(sys.maxsize, None)]
    event_side = _event_side_findings_beside(start, detached)
    inconsistent = None
    with transaction.atomic():
        walk = _walk_chain(checkpoints, vouched, by_xmin=by_xmin, result=result, start=start, wanted=wanted)
        result.events = walk.events - start.after
        misplaced, rewritten = event_side()
        walk.to_rebuild.extend(rewritten)
        if on_postgres:  # the rows to rebuild are compared in SQL, for bench_audit 2 (verify over 1,000,000)
            # Transactions started meanwhile may have brought a vouched id round: then trust no xmin.
            wrapped = by_xmin and xmin_segments(checkpoints, transaction_clock(), start.after) != vouched
            everything = full or wrapped or len(walk.to_rebuild) > REBUILD_BY_SEQ_LIMIT
            result.rebuilt = result.events if everything else len(set(walk.to_rebuild))
            inconsistent = _first_inconsistent_seq_sql(None if everything else walk.to_rebuild, start.after, detached)
    result.first_bad_seq = _first_bad_seq(result, walk, misplaced, inconsistent, max(checkpoints, default=None))
    result.after = start.after
    if result.ok:
        result.verified = walk.verified
    return walk


def verify(
    *, sink: CheckpointSink | None = None, key: Ed25519PublicKey | None = None, full: bool = False
) -> VerifyResult:
    """Check every sealed event's place, hash and content, and every checkpoint's signature and root (see
    `verify_from`; `full` rebuilds every row's entry)."""
    sink, key = sink or default_sink(), key or public_key()
    result = VerifyResult()
    checkpoints = load_checkpoints(sink, key, result)
    verify_from(FROM_GENESIS, checkpoints, result, full=full, detached=load_detached(sink, key, result))
    return result


def load_detached(sink: CheckpointSink, key: Ed25519PublicKey, result: VerifyResult) -> Runs:
    """The seqs of the archived months detached from the database, from their signed manifests beside the
    checkpoints (one that does not verify is noted in `result` and accepts nothing)."""
    runs: list[tuple[int, int]] = []
    for name in sink.listing(DETACHED_FOLDER):
        try:
            runs += manifest_open(sink.read(name), key).runs
        except (NoteError, UnicodeDecodeError, OSError) as exc:
            result.bad_checkpoints.append(name)
            result.reasons.append(f"{name}: {exc}")
    return tuple(sorted(runs))
