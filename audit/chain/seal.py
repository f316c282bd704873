"""Sealing events into the hash chain.

Writers only INSERT unsealed events (seq NULL). One sealer at a time, holding the row lock on the one-row
ChainHead, takes the unsealed events it can see in id order, gives each the next seq (an update of the
event row that touches no index) and writes its canonical entry and chain hash to ChainEntry, moves the
head, and after the commit writes a signed checkpoint of the new tree. Web requests never wait on that lock.
"""

import logging
import struct
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.chain.store import postgres, raw_cursor, row_values, transaction_clock, transaction_id_near
from audit.encoding import ENTRY_COLUMNS, GENESIS_HASH, chain_hash, encode_entry
from audit.merkle import Frontier, leaf_hash
from audit.models import ChainHead
from audit.notes import NoteError, checkpoint_open, checkpoint_sign, checkpoint_unverified, signing_key
from audit.record import audit_record
from audit.sinks import CheckpointSink, checkpoint_name, default_sink, sink_has

logger = logging.getLogger(__name__)

SEAL_BATCH = 2_000


class ChainError(RuntimeError):
    """The chain head does not match the sealed events: sealing stops until someone looks."""


@dataclass(frozen=True)
class SealResult:
    """What one seal did."""

    sealed: int
    tree_size: int
    checkpoint: str | None


def _seal_range(after_seq: int, first_id: int, last_id: int, database: Any = None) -> list[tuple[int, int, bytes]]:
    """Give the unsealed events with ids `first_id`..`last_id`, in id order, seq `after_seq` + 1 on; (seq, id,
    entry) of each, by seq.

    On PostgreSQL one statement numbers them, sets their seq and returns the entry built from the row
    version it wrote, so the entry always describes the columns it is stored beside; with no index naming
    `seq`, the update is HOT and writes no index entry. `database` is the psycopg connection to use (from
    another thread: Django's connection handle is per thread).
    """
    # PostgreSQL: one HOT UPDATE ... RETURNING per batch, for bench_audit 3b (events sealed per second).
    if database is not None:
        import psycopg

        with psycopg.Cursor(database) as cursor:
            # The schema owner's function (migration 0009): the app's role has no UPDATE on the events.
            cursor.execute(
                "SELECT sealed_seq, event_id, sealed_entry FROM audit_seal_batch(%s, %s, %s)",
                [after_seq, first_id, last_id],
                binary=True,
            )
            rows = sorted(cursor.fetchall())
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_auditevent "  # noqa: S608
                "WHERE id BETWEEN %s AND %s AND seq IS NULL ORDER BY id",
                [first_id, last_id],
            )
            rows = [
                (after_seq + n, row[0], encode_entry(after_seq + n, row_values(row)))
                for n, row in enumerate(cursor.fetchall(), start=1)
            ]
            cursor.executemany(
                "UPDATE audit_auditevent SET seq = %s WHERE id = %s AND seq IS NULL", [row[:2] for row in rows]
            )
            if cursor.rowcount not in (-1, len(rows)):
                raise ChainError("an event was sealed or changed by someone else while this sealer held the head")
    # A row changed by someone else between numbering and updating is skipped, leaving a hole in the
    # numbers: stop rather than chain around it.
    if rows and (rows[0][0] != after_seq + 1 or rows[-1][0] != after_seq + len(rows)):
        raise ChainError("an event was sealed or changed by someone else while this sealer held the head")
    return [(seq, event_id, bytes(entry)) for seq, event_id, entry in rows]


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_ROW = struct.Struct("!hiqiqi")  # 4 fields: seq (8 bytes), event id (8 bytes), then the entry's length
_COPY_HASH_LENGTH = struct.pack("!i", 32)


def _write_chain_entries(rows: list[tuple[int, int, bytes, bytes]]) -> None:
    """Insert (seq, event id, entry, hash) rows into ChainEntry: binary COPY on PostgreSQL."""
    # PostgreSQL: binary COPY, for bench_audit 3b (events sealed per second).
    if postgres():
        # PostgreSQL's binary COPY format, built in one pass: a third of the time of psycopg's write_row.
        data = b"".join(
            [
                _COPY_ROW.pack(4, 8, seq, 8, event_id, len(entry)) + entry + _COPY_HASH_LENGTH + digest
                for seq, event_id, entry, digest in rows
            ]
        )
        with (
            raw_cursor() as cursor,
            cursor.copy("COPY audit_chainentry (seq, event_id, entry, hash) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.write(_COPY_HEADER + data + b"\xff\xff")
        return
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO audit_chainentry (seq, event_id, entry, hash) VALUES (%s, %s, %s, %s)", rows)


def _sealed_by(first_seq: int) -> tuple[int, int, int] | None:
    """On PostgreSQL: (first seq, 64-bit id of the (sub)transaction that stamped this seal's rows, the
    cluster): what the seal's checkpoint vouches for."""
    # PostgreSQL only by nature (xmin); it lets bench_audit 2 (verify over 1,000,000 events) skip rebuilding.
    if not postgres():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text::bigint, pg_current_xact_id()::text::bigint FROM audit_chainentry WHERE seq = %s",
            [first_seq],
        )
        low_bits, this_transaction = cursor.fetchone()
    return first_seq, transaction_id_near(low_bits, this_transaction), transaction_clock().cluster


def _completed(function: Callable[..., Any], *args: Any) -> Future:
    """`function(*args)` run now, as a finished future."""
    future: Future = Future()
    future.set_result(function(*args))
    return future


def _lock_head(sink: CheckpointSink) -> ChainHead:
    """Lock the chain head and check it against the last chain entry and its own signed checkpoint.

    The head's Merkle frontier is a cache the next checkpoint's root is computed from: one that no longer
    gives the root its checkpoint signed would have every later checkpoint sign a wrong tree.
    """
    if postgres():
        # Through the owner's function (migration 0009): the app's role has no UPDATE on the head.
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq, hash, frontier, horizon, cluster FROM audit_head_lock()")
            seq, digest, frontier, horizon, cluster = cursor.fetchone()
        head = ChainHead(id=1, seq=seq, hash=digest, frontier=frontier, horizon=horizon, cluster=cluster)
    else:
        head, _ = ChainHead.objects.select_for_update().get_or_create(id=1)
    head.hash = bytes(head.hash)
    head.frontier = bytes(head.frontier)
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_chainentry ORDER BY seq DESC LIMIT 1")
        last = cursor.fetchone()
    last_seq, last_hash = (last[0], bytes(last[1])) if last else (0, GENESIS_HASH)
    if (last_seq, last_hash) != (head.seq, head.hash):
        raise ChainError(f"chain head says seq {head.seq} but the last sealed event is seq {last_seq}")
    name = checkpoint_name(head.seq)
    if head.seq and sink_has(sink, name):  # missing only after a crash between a seal's commit and its note
        # Not the signature: after a key rotation the last checkpoint is signed by the previous key.
        try:
            signed_root = checkpoint_unverified(sink.read(name)).root
        except NoteError as exc:
            raise ChainError(f"checkpoint {name} cannot be read: {exc}; run verify_audit") from exc
        try:
            frontier_root = Frontier.from_bytes(head.seq, head.frontier).root()
        except ValueError as exc:
            raise ChainError(f"chain head's Merkle frontier is damaged: {exc}; run verify_audit") from exc
        if frontier_root != signed_root:
            raise ChainError(
                f"chain head's Merkle frontier does not give the root of {name}: the head or that checkpoint"
                " was changed; run verify_audit"
            )
    return head


@dataclass(frozen=True)
class Pending:
    """The events awaiting sealing, in id order, and where the next seal starts looking."""

    ids: list[int]
    horizon: int
    cluster: int | None


def _pending_since(horizon: int, cluster: int | None) -> Pending:
    """The events awaiting sealing, and the next seal's horizon.

    On PostgreSQL the pending events are those with no seq written by transaction `horizon` (the previous
    seal's horizon) or later, found through the `txid` index, not by an index on `seq`. The next horizon
    is the oldest transaction this statement's snapshot saw running: every event this seal cannot see was
    written by it or a later one, so an event whose transaction commits late, after events with higher
    ids were sealed, is found by the next seal all the same. A horizon read in another cluster (`cluster`,
    a head restored from a dump) or beyond the transactions this one has started says nothing about this
    cluster's transactions: the search then starts from the beginning.
    """
    with connection.cursor() as cursor:
        # SQLite has no transaction ids: its one writer seals every NULL seq. PostgreSQL's horizon and `txid`
        # index find late commits and keep bench_audit 3b (events sealed per second) off a scan of the log.
        if not postgres():
            cursor.execute("SELECT id FROM audit_auditevent WHERE seq IS NULL ORDER BY id")
            return Pending(ids=[row[0] for row in cursor.fetchall()], horizon=0, cluster=None)
        cursor.execute(
            "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, c.system_identifier,"
            " ARRAY(SELECT id FROM audit_auditevent WHERE txid >= %s AND seq IS NULL ORDER BY id)"
            " FROM pg_current_snapshot() AS s, pg_control_system() AS c",
            [horizon],
        )
        next_horizon, next_transaction, this_cluster, ids = cursor.fetchone()
    if horizon and (cluster != this_cluster or horizon > next_transaction):
        logger.warning("audit chain horizon %s was not read in this cluster; searching from the start", horizon)
        return _pending_since(0, this_cluster)
    return Pending(ids=ids, horizon=next_horizon, cluster=this_cluster)


def _seal_batches(ids: list[int], head: ChainHead, batch_size: int) -> tuple[int, bytes, Frontier]:
    """Seal the events `ids` (in id order) after the head, `batch_size` at a time; (last seq, its chain hash,
    the Merkle frontier of the tree through it)."""
    seq, previous = head.seq, head.hash
    frontier = Frontier.from_bytes(head.seq, head.frontier)
    ranges = [(ids[n], ids[min(n + batch_size, len(ids)) - 1]) for n in range(0, len(ids), batch_size)]
    # PostgreSQL seals the next batch (in a second thread, on this same connection: waiting on it
    # releases the interpreter lock) while this one is hashed; psycopg runs one statement at a time,
    # so this batch's COPY follows that UPDATE (bench_audit 3b, events sealed). SQLite seals batch after batch.
    database = connection.connection if postgres() else None
    with ThreadPoolExecutor(max_workers=1) as worker:
        start = worker.submit if database is not None else _completed
        following = start(_seal_range, seq, *ranges[0], database)
        for n in range(len(ranges)):
            batch = following.result()
            # Each listed event must be among those sealed (a late commit in the range may join
            # them): one rewritten or removed meanwhile stops the seal, even with no hole left.
            listed = ids[n * batch_size : (n + 1) * batch_size]
            if not set(listed).issubset([event_id for _, event_id, _ in batch]):
                raise ChainError("an event was changed or removed by someone else while this sealer held it")
            if n + 1 < len(ranges):
                following = start(_seal_range, batch[-1][0], *ranges[n + 1], database)
            chained = []
            for seq, event_id, entry in batch:
                previous = chain_hash(previous, entry)
                chained.append((seq, event_id, entry, previous))
            frontier.extend([leaf_hash(entry) for _, _, entry in batch])
            _write_chain_entries(chained)
    return seq, previous, frontier


def _seal_locked(head: ChainHead, batch_size: int) -> tuple[int, tuple[int, int, int] | None]:
    """Under the head's lock: seal what is pending and move the head; (events sealed, what the seal's
    checkpoint vouches for). `head` is updated in place."""
    pending = _pending_since(head.horizon, head.cluster)
    if not pending.ids:
        if (pending.horizon, pending.cluster) != (head.horizon, head.cluster):
            # Nothing to seal: still move the horizon, so that it never lags (or, restored from another
            # cluster, leads) the transactions that are writing events.
            _advance_head(head, head.seq, head.hash, head.frontier, pending)
        return 0, None
    # The seal is itself an event, sealed last in this same seal (its id is newer than any listed).
    checkpoint_event = audit_record(action="checkpoint", object_type="chain", detail={"previous_tree_size": head.seq})
    seq, previous, frontier = _seal_batches([*pending.ids, checkpoint_event.id], head, batch_size)
    sealed, sealed_by = seq - head.seq, _sealed_by(head.seq + 1)
    _advance_head(head, seq, previous, frontier.to_bytes(), pending)
    return sealed, sealed_by


def _advance_head(head: ChainHead, seq: int, digest: bytes, frontier: bytes, pending: Pending) -> None:
    """Move the head (in the database and `head`) to `seq`, its chain hash and frontier, and the next horizon."""
    if postgres():
        # The owner's function takes the hash from the chain entry and refuses a horizon that hides events.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT audit_head_advance(%s, %s, %s, %s)", [seq, frontier, pending.horizon, pending.cluster]
            )
    else:
        ChainHead.objects.filter(id=1).update(
            seq=seq, hash=digest, frontier=frontier, sealed_at=timezone.now(), horizon=pending.horizon
        )
    head.seq, head.hash, head.frontier = seq, digest, frontier
    head.horizon, head.cluster = pending.horizon, pending.cluster


def _write_checkpoint(sink: CheckpointSink, head: ChainHead, sealed_by: tuple[int, int, int] | None) -> None:
    """Sign and write the checkpoint of the head's tree (after the commit that made that tree)."""
    name = checkpoint_name(head.seq)
    root = Frontier.from_bytes(head.seq, head.frontier).root()
    try:
        # Only the seal that wrote the rows vouches for their xmin; a checkpoint written late does not.
        # The head's horizon bounds the transactions of every event sealed after this tree (PostgreSQL).
        horizon = (head.horizon, head.cluster % (1 << 64)) if head.cluster is not None else None
        sink.write(
            name, checkpoint_sign(head.seq, root, head.hash, timezone.now(), sealed_by=sealed_by, horizon=horizon)
        )
    except FileExistsError:
        # Another sealer, after this one committed, found the checkpoint missing and wrote it first
        # (signed at another time, so the text differs). Accept it only if it describes this tree.
        existing = checkpoint_open(sink.read(name))
        if (existing.tree_size, existing.root) != (head.seq, root):
            raise


def seal(*, sink: CheckpointSink | None = None, batch_size: int = SEAL_BATCH) -> SealResult:
    """Seal every pending event into the chain and write a signed checkpoint of the new tree."""
    signing_key()  # fail before touching anything when checkpoints cannot be signed
    sink = sink or default_sink()
    with transaction.atomic():
        head = _lock_head(sink)
        sealed, sealed_by = _seal_locked(head, batch_size)
    if head.seq == 0:
        return SealResult(sealed=0, tree_size=0, checkpoint=None)
    name = checkpoint_name(head.seq)
    # Written after the commit: a checkpoint must never describe a tree that was rolled back. A crash
    # here leaves the tail without a checkpoint until the next seal, which writes the missing one.
    if sealed or not sink_has(sink, name):
        _write_checkpoint(sink, head, sealed_by)
    return SealResult(sealed=sealed, tree_size=head.seq, checkpoint=name)
