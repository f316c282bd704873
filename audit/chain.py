"""Sealing events into the hash chain, verifying the chain against its checkpoints, and inclusion proofs.

Writers only INSERT unsealed events (seq NULL). One sealer at a time, holding the row lock on the one-row
ChainHead, takes the unsealed events it can see in id order, gives each the next seq (an update of the
event row that touches no index) and writes its canonical entry and chain hash to ChainEntry, moves the
head, and after the commit writes a signed checkpoint of the new tree. Web requests never wait on that lock.
"""

import base64
import logging
import queue
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from audit.encoding import ENTRY_COLUMNS, GENESIS_HASH, chain_hash, decode_entry, encode_entry, entry_sql
from audit.merkle import Frontier, inclusion_path, leaf_hash, root_from_inclusion_path
from audit.models import ChainHead
from audit.notes import Checkpoint, NoteError, checkpoint_open, checkpoint_sign, checkpoint_unverified, signing_key
from audit.sinks import CheckpointSink, checkpoint_name, default_sink

logger = logging.getLogger(__name__)

SEAL_BATCH = 2_000
VERIFY_FETCH = 20_000


class ChainError(RuntimeError):
    """The chain head does not match the sealed events: sealing stops until someone looks."""


@dataclass(frozen=True)
class SealResult:
    """What one seal did."""

    sealed: int
    tree_size: int
    checkpoint: str | None


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _raw_cursor() -> Any:
    """A psycopg cursor with server-side parameter binding (Django's binds client-side, quoting every byte)."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _row_values(row: tuple[Any, ...]) -> dict[str, Any]:
    """Readable column values of one row selected as ENTRY_COLUMNS (JSON columns stay the stored text)."""
    return dict(zip(ENTRY_COLUMNS, row, strict=True))


def _event_columns(alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in ENTRY_COLUMNS)


def entry_for(event_id: int, seq: int) -> bytes:
    """The entry the event's current columns give at `seq` (what sealing stores, and what verify expects)."""
    if _postgres():
        with _raw_cursor() as cursor:
            cursor.execute(
                f"SELECT {entry_sql('%s::bigint')} FROM audit_auditevent WHERE id = %s",  # noqa: S608
                [seq, event_id],
                binary=True,
            )
            return bytes(cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_auditevent WHERE id = %s", [event_id])  # noqa: S608
        return encode_entry(seq, _row_values(cursor.fetchone()))


def _seal_range(after_seq: int, first_id: int, last_id: int, database: Any = None) -> list[tuple[int, int, bytes]]:
    """Give the unsealed events with ids `first_id`..`last_id`, in id order, seq `after_seq` + 1 on; (seq, id,
    entry) of each, by seq.

    On PostgreSQL one statement numbers them, sets their seq and returns the entry built from the row
    version it wrote, so the entry always describes the columns it is stored beside; with no index naming
    `seq`, the update is HOT and writes no index entry. `database` is the psycopg connection to use (from
    another thread: Django's connection handle is per thread).
    """
    if database is not None:
        import psycopg

        with psycopg.Cursor(database) as cursor:
            cursor.execute(
                "UPDATE audit_auditevent AS e SET seq = q.s FROM ("  # noqa: S608 - fixed SQL
                "SELECT ctid AS row_version, %s::bigint + row_number() OVER (ORDER BY id) AS s FROM audit_auditevent "
                "WHERE id BETWEEN %s AND %s AND seq IS NULL) AS q "
                f"WHERE e.ctid = q.row_version RETURNING e.seq, e.id, {entry_sql('e.seq')}",
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
                (after_seq + n, row[0], encode_entry(after_seq + n, _row_values(row)))
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
    if _postgres():
        # PostgreSQL's binary COPY format, built in one pass: a third of the time of psycopg's write_row.
        data = b"".join(
            [
                _COPY_ROW.pack(4, 8, seq, 8, event_id, len(entry)) + entry + _COPY_HASH_LENGTH + digest
                for seq, event_id, entry, digest in rows
            ]
        )
        with (
            _raw_cursor() as cursor,
            cursor.copy("COPY audit_chainentry (seq, event_id, entry, hash) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.write(_COPY_HEADER + data + b"\xff\xff")
        return
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO audit_chainentry (seq, event_id, entry, hash) VALUES (%s, %s, %s, %s)", rows)


# A row's xmin holds the low 32 bits of a transaction id, which come round every 2^32 transactions.
XID_WRAP = 1 << 32


def transaction_id_near(low_bits: int, near: int) -> int:
    """The 64-bit transaction id with these low 32 bits (a row's xmin) nearest to the 64-bit id `near`."""
    return near + (low_bits - near + XID_WRAP // 2) % XID_WRAP - XID_WRAP // 2


@dataclass(frozen=True)
class TransactionClock:
    """Where this PostgreSQL cluster's transaction ids stand: its identity (the system identifier, unsigned
    as pg_controldata prints it; a dump restored into another cluster meets another counter) and the id
    the next transaction to start will get."""

    cluster: int
    next_transaction: int


def _transaction_clock() -> TransactionClock:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT system_identifier, pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM pg_control_system()"
        )
        cluster, next_transaction = cursor.fetchone()
    return TransactionClock(cluster=cluster % (1 << 64), next_transaction=next_transaction)


def _sealed_by(first_seq: int) -> tuple[int, int, int] | None:
    """On PostgreSQL: (first seq, 64-bit id of the (sub)transaction that stamped this seal's rows, the
    cluster): what the seal's checkpoint vouches for."""
    if not _postgres():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text::bigint, pg_current_xact_id()::text::bigint FROM audit_chainentry WHERE seq = %s",
            [first_seq],
        )
        low_bits, this_transaction = cursor.fetchone()
    return first_seq, transaction_id_near(low_bits, this_transaction), _transaction_clock().cluster


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
    if head.seq and _sink_has(sink, name):  # missing only after a crash between a seal's commit and its note
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
        if not _postgres():
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


def seal(*, sink: CheckpointSink | None = None, batch_size: int = SEAL_BATCH) -> SealResult:
    """Seal every pending event into the chain and write a signed checkpoint of the new tree."""
    from audit.services import audit_record  # the entry point lives in services; avoid an import cycle

    signing_key()  # fail before touching anything when checkpoints cannot be signed
    sink = sink or default_sink()
    sealed = 0
    sealed_by: tuple[int, int, int] | None = None
    with transaction.atomic():
        head = _lock_head(sink)
        pending = _pending_since(head.horizon, head.cluster)
        if pending.ids:
            # The seal is itself an event, sealed last in this same seal (its id is newer than any listed).
            checkpoint_event = audit_record(
                action="checkpoint", object_type="chain", detail={"previous_tree_size": head.seq}
            )
            ids = [*pending.ids, checkpoint_event.id]
            seq, previous = head.seq, head.hash
            frontier = Frontier.from_bytes(head.seq, head.frontier)
            ranges = [(ids[n], ids[min(n + batch_size, len(ids)) - 1]) for n in range(0, len(ids), batch_size)]
            # PostgreSQL seals the next batch (in a second thread, on this same connection: waiting on it
            # releases the interpreter lock) while this one is hashed; psycopg runs one statement at a time,
            # so this batch's COPY follows that UPDATE. SQLite seals batch after batch.
            database = connection.connection if _postgres() else None
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
                    sealed += len(batch)
            sealed_by = _sealed_by(head.seq + 1)
            ChainHead.objects.filter(id=1).update(
                seq=seq,
                hash=previous,
                frontier=frontier.to_bytes(),
                sealed_at=timezone.now(),
                horizon=pending.horizon,
                cluster=pending.cluster,
            )
            head.seq, head.hash, head.frontier = seq, previous, frontier.to_bytes()
        elif (pending.horizon, pending.cluster) != (head.horizon, head.cluster):
            # Nothing to seal: still move the horizon, so that it never lags (or, restored from another
            # cluster, leads) the transactions that are writing events.
            ChainHead.objects.filter(id=1).update(horizon=pending.horizon, cluster=pending.cluster)
    if head.seq == 0:
        return SealResult(sealed=0, tree_size=0, checkpoint=None)
    name = checkpoint_name(head.seq)
    # Written after the commit: a checkpoint must never describe a tree that was rolled back. A crash
    # here leaves the tail without a checkpoint until the next seal, which writes the missing one.
    if sealed or not _sink_has(sink, name):
        root = Frontier.from_bytes(head.seq, head.frontier).root()
        try:
            # Only the seal that wrote the rows vouches for their xmin; a checkpoint written late does not.
            sink.write(name, checkpoint_sign(head.seq, root, head.hash, timezone.now(), sealed_by=sealed_by))
        except FileExistsError:
            # Another sealer, after this one committed, found the checkpoint missing and wrote it first
            # (signed at another time, so the text differs). Accept it only if it describes this tree.
            existing = checkpoint_open(sink.read(name))
            if (existing.tree_size, existing.root) != (head.seq, root):
                raise
    return SealResult(sealed=sealed, tree_size=head.seq, checkpoint=name)


def _sink_has(sink: CheckpointSink, name: str) -> bool:
    exists = getattr(sink, "exists", None)
    return bool(exists(name)) if exists else name in sink.names()


# --- verification -------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """What verify found: counts, and the first bad seq and bad checkpoint files when something is wrong."""

    events: int = 0
    checkpoints: int = 0
    rebuilt: int = 0  # events whose entry was rebuilt from their columns and compared
    first_bad_seq: int | None = None
    bad_checkpoints: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the chain and every checkpoint are intact."""
        return self.first_bad_seq is None and not self.bad_checkpoints


# Above this many events to rebuild, one scan of the whole table is cheaper than looking each one up.
REBUILD_BY_SEQ_LIMIT = 100_000


def _stream_sealed(extra_columns: str = "", *, with_events: bool = False) -> Iterator[tuple[Any, ...]]:
    """(seq, entry, hash[, extra columns...]) of every chain entry (`c`) in seq order, streamed; `with_events`
    joins each to its event (`e`)."""
    join = " LEFT JOIN audit_auditevent AS e ON e.id = c.event_id" if with_events else ""
    sql = f"SELECT c.seq, c.entry, c.hash{extra_columns} FROM audit_chainentry AS c{join} ORDER BY c.seq"  # noqa: S608
    if _postgres():
        yield from _prefetched_pages(sql)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            while rows := cursor.fetchmany(VERIFY_FETCH):
                yield from rows


def _prefetched_pages(sql: str) -> Iterator[tuple[Any, ...]]:
    """The rows of `sql` from a server-side binary cursor (bytea arrives as raw bytes, nothing is parsed),
    the next page fetched by a second thread while the caller works through this one: waiting for
    PostgreSQL releases the interpreter lock, so the database and the hashing overlap on two cores."""
    connection.ensure_connection()
    database = connection.connection  # Django's connection is per thread; the fetcher borrows this one
    pages: queue.Queue[list[tuple[Any, ...]] | BaseException] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def hand_over(item: list[tuple[Any, ...]] | BaseException) -> None:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def fetch() -> None:
        try:
            with database.cursor(name="audit_verify", binary=True) as cursor:
                cursor.execute(sql)
                page = [()]
                while page and not stop.is_set():
                    page = cursor.fetchmany(VERIFY_FETCH)
                    hand_over(page)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            hand_over(exc)

    fetcher = threading.Thread(target=fetch, name="audit-verify-fetch", daemon=True)
    fetcher.start()
    try:
        while page := pages.get():
            if isinstance(page, BaseException):
                raise page
            yield from page
    finally:
        stop.set()  # the caller may stop early: the fetcher closes its cursor and ends
        fetcher.join()


# Where the chain and the events disagree on which event holds a seq: a chain entry whose event is gone or
# carries another seq, or an event carrying a seq that no chain entry gives it. On PostgreSQL also the
# events written since the seal that wrote their chain entry (both rows of a seal carry its transaction
# id), whose entry must be rebuilt from their columns.
_EVENT_SIDE_SQL = """
SELECT CASE WHEN c.seq IS NULL OR e.seq < c.seq THEN e.seq ELSE c.seq END,
        c.seq IS NULL OR e.id IS NULL OR e.seq <> c.seq
    FROM audit_chainentry AS c
    FULL JOIN (SELECT id, seq{xmin} FROM audit_auditevent WHERE seq IS NOT NULL) AS e ON e.id = c.event_id
    WHERE c.seq IS NULL OR e.id IS NULL OR e.seq <> c.seq{rewritten}
"""


def _event_side_findings() -> tuple[int | None, list[int]]:
    """(first seq the chain and the events place differently, seqs whose event row was written since its seal)."""
    postgres = _postgres()
    sql = _EVENT_SIDE_SQL.format(
        xmin=", xmin" if postgres else "", rewritten=" OR e.xmin <> c.xmin" if postgres else ""
    )
    with connection.cursor() as cursor:
        if postgres:
            # A hash join of a million rows a side: in memory rather than in batches on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql)
        findings = cursor.fetchall()
    misplaced = [seq for seq, is_misplaced in findings if is_misplaced]
    return min(misplaced, default=None), [seq for seq, is_misplaced in findings if not is_misplaced]


def _event_side_findings_beside() -> Callable[[], tuple[int | None, list[int]]]:
    """Start `_event_side_findings`; the returned function gives its result.

    Outside a transaction it runs at once on a second connection (Django opens one per thread), so
    PostgreSQL joins the tables on one core while this thread hashes the chain on the other. Inside a
    transaction (a test's, say) another connection would not see its rows: it runs later, on this one.
    """
    if connection.in_atomic_block or not _postgres():
        return _event_side_findings
    outcome: list[Any] = []

    def run() -> None:
        try:
            with transaction.atomic():
                outcome.append(_event_side_findings())
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


def _first_inconsistent_seq_sql(seqs: list[int] | None) -> int | None:
    """On PostgreSQL: the first of these chain entries (every one when None) that the columns of its event
    no longer give."""
    if seqs is not None and not seqs:
        return None
    only, params = ("", []) if seqs is None else (" WHERE c.seq = ANY(%s)", [seqs])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(c.seq) FILTER (WHERE e.id IS NULL OR c.entry IS DISTINCT FROM "  # noqa: S608 - fixed SQL
            f"{entry_sql('c.seq')}) FROM audit_chainentry AS c LEFT JOIN audit_auditevent AS e ON e.id = c.event_id"
            f"{only}",
            params,
        )
        return cursor.fetchone()[0]


def xmin_segments(checkpoints: dict[int, Checkpoint], clock: TransactionClock) -> list[tuple[int, bytes | None]]:
    """(last seq, xmin as PostgreSQL sends it) for consecutive seq ranges from 1, the last one open-ended;
    None where no signed checkpoint vouches which transaction sealed the range.

    A vouched id counts only in the cluster that sealed (`sealed-xmin <first seq> <64-bit id> <cluster>`),
    and only while it is unique in its low 32 bits, the part a row keeps: once a transaction 2^32 later
    may have started, it could have stamped a row with the same xmin.
    """
    segments: list[tuple[int, bytes | None]] = []
    position = 0
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


def _load_checkpoints(sink: CheckpointSink, key: Ed25519PublicKey, result: VerifyResult) -> dict[int, Checkpoint]:
    checkpoints: dict[int, Checkpoint] = {}
    for name in sink.names():
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


def verify(
    *, sink: CheckpointSink | None = None, key: Ed25519PublicKey | None = None, full: bool = False
) -> VerifyResult:
    """Check every sealed event's place, hash and content, and every checkpoint's signature and root.

    Content: on PostgreSQL a row whose xmin is still the one its seal's signed checkpoint names has not
    been written since the seal built its entry from those very columns, so only the other rows get
    their entry rebuilt from their columns and compared (`full` rebuilds every row). SQLite has no
    xmin: every row is rebuilt, in Python.
    """
    from audit.notes import public_key

    result = VerifyResult()
    checkpoints = _load_checkpoints(sink or default_sink(), key or public_key(), result)
    sizes = sorted(checkpoints)
    postgres = _postgres()
    by_xmin = postgres and not full
    expected, previous, frontier = 1, GENESIS_HASH, Frontier()
    good_checkpoint = 0  # largest checkpointed size confirmed so far
    stream_bad: int | None = None
    root_bad_at: int | None = None  # a checkpoint whose root failed: the damage is in (good_checkpoint, size]
    size_index = 0
    next_size = sizes[0] if sizes else -1
    vouched = xmin_segments(checkpoints, _transaction_clock()) if postgres else [(sys.maxsize, None)]
    segments = iter(vouched)
    segment_end, sealed_xmin = next(segments)
    to_rebuild: list[int] = []
    # Chain entries are insert-only: one carrying the transaction id its seal's checkpoint names is the one
    # its seal wrote. The first since the last good checkpoint that is not (rewritten since, or vouched for
    # by no checkpoint) is where a chain rewritten up to a checkpoint whose root fails may begin.
    first_unvouched: int | None = None
    leaves: list[bytes] = []  # hashed, not yet in the frontier: it takes them in runs
    sha_chain, leaf, add_leaf, rebuild = chain_hash, leaf_hash, leaves.append, to_rebuild.append
    # PostgreSQL: the transaction that wrote each chain entry. SQLite: the event, whose entry is rebuilt.
    extra_columns = ", c.xmin" if postgres else f", e.seq, {_event_columns('e')}"
    event_side = _event_side_findings_beside()
    with transaction.atomic():
        for row in _stream_sealed(extra_columns, with_events=not postgres):
            seq, entry, digest = row[0], row[1], row[2]
            if seq != expected:
                stream_bad = expected
                result.reasons.append(f"seq {expected} is missing")
                break
            if entry is None or digest is None:
                stream_bad = seq
                result.reasons.append(f"seq {seq} has no entry or hash")
                break
            entry, digest = bytes(entry), bytes(digest)
            previous = sha_chain(previous, entry)
            if previous != digest:
                stream_bad = seq
                result.reasons.append(f"seq {seq}: hash does not match its entry and the previous hash")
                break
            if postgres:
                while seq > segment_end:
                    segment_end, sealed_xmin = next(segments)
                if row[3] != sealed_xmin:
                    if by_xmin:
                        rebuild(seq)
                    if first_unvouched is None:
                        first_unvouched = seq
            else:
                result.rebuilt += 1
                if row[4] is None or row[3] != seq:
                    stream_bad = seq
                    result.reasons.append(f"seq {seq}: its event is gone or carries another seq")
                    break
                if entry != encode_entry(seq, _row_values(row[4:])):
                    stream_bad = seq
                    result.reasons.append(f"seq {seq}: columns differ from the sealed entry")
                    break
            add_leaf(leaf(entry))
            if len(leaves) == VERIFY_FETCH:
                frontier.extend(leaves)
                leaves.clear()
            if seq == next_size:
                frontier.extend(leaves)
                leaves.clear()
                checkpoint = checkpoints[seq]
                head = checkpoint.extension("chain")
                if frontier.root() != checkpoint.root or (head and head != base64.b64encode(digest).decode()):
                    root_bad_at = seq
                    result.reasons.append(f"checkpoint of size {seq}: root or chain head does not match")
                    break
                good_checkpoint = seq
                first_unvouched = None
                size_index += 1
                next_size = sizes[size_index] if size_index < len(sizes) else -1
            expected += 1
        result.events = expected - 1
        misplaced, rewritten = event_side()
        to_rebuild.extend(rewritten)
        inconsistent = None
        if postgres:
            # Transactions started meanwhile may have brought a vouched id round: then trust no xmin.
            wrapped = by_xmin and xmin_segments(checkpoints, _transaction_clock()) != vouched
            everything = full or wrapped or len(to_rebuild) > REBUILD_BY_SEQ_LIMIT
            result.rebuilt = result.events if everything else len(set(to_rebuild))
            inconsistent = _first_inconsistent_seq_sql(None if everything else to_rebuild)
    if misplaced is not None:
        result.reasons.append(f"seq {misplaced}: the chain and the events disagree on which event holds it")
    if inconsistent is not None:
        result.reasons.append(f"seq {inconsistent}: columns differ from the sealed entry")
    candidates = [seq for seq in (stream_bad, misplaced, inconsistent) if seq is not None]
    if root_bad_at is not None:
        # The chain is self-consistent up to here, so it was rewritten: blame the first chain entry not
        # vouched for as its seal's or a precise finding in the same range, else the first seq the last
        # good checkpoint does not cover.
        precise = [seq for seq in candidates if seq <= root_bad_at]
        if first_unvouched is not None:
            precise.append(first_unvouched)
            result.reasons.append(f"seq {first_unvouched}: no checkpoint vouches that its seal wrote its chain entry")
        candidates = precise or [good_checkpoint + 1]
    if stream_bad is None and root_bad_at is None and sizes and sizes[-1] > result.events:
        candidates.append(result.events + 1)
        result.reasons.append(f"checkpoint of size {sizes[-1]} but the chain ends at seq {result.events}")
    result.first_bad_seq = min(candidates) if candidates else None
    return result


# --- proofs -------------------------------------------------------------------------------------


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
        for row in _stream_sealed():
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


def _hex(value: Any, what: str) -> bytes:
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
    leaf_bytes = _hex(document.get("leaf"), "leaf")
    root = _hex(document.get("root"), "root")
    path = [_hex(node, "path entry") for node in document["path"]]
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
