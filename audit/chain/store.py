"""What the sealer, the verifier and the prover share: the database they run on, a raw psycopg cursor, an
event's entry as its columns give it, the stream of chain entries, and the cluster's transaction clock.
"""

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from audit.encoding import ENTRY_COLUMNS, encode_entry, entry_sql

# Rows fetched a page at a time while streaming the chain.
VERIFY_FETCH = 20_000


def postgres() -> bool:
    """Whether the default connection is PostgreSQL (else SQLite, the demo database)."""
    return connection.vendor == "postgresql"


def raw_cursor() -> Any:
    """A psycopg cursor with server-side parameter binding (Django's binds client-side, quoting every byte)."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def row_values(row: tuple[Any, ...]) -> dict[str, Any]:
    """Readable column values of one row selected as ENTRY_COLUMNS (JSON columns stay the stored text)."""
    return dict(zip(ENTRY_COLUMNS, row, strict=True))


def event_columns(alias: str) -> str:
    """ENTRY_COLUMNS qualified by a table alias, for a select list."""
    return ", ".join(f"{alias}.{column}" for column in ENTRY_COLUMNS)


def entry_for(event_id: int, seq: int) -> bytes:
    """The entry the event's current columns give at `seq` (what sealing stores, and what verify expects)."""
    # PostgreSQL: the SQL encoder bench_audit's seal (3b) needs, here so the tests hold it to Python's.
    if postgres():
        with raw_cursor() as cursor:
            cursor.execute(
                f"SELECT {entry_sql('%s::bigint')} FROM audit_auditevent WHERE id = %s",  # noqa: S608
                [seq, event_id],
                binary=True,
            )
            return bytes(cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_auditevent WHERE id = %s", [event_id])  # noqa: S608
        return encode_entry(seq, row_values(cursor.fetchone()))


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


def transaction_clock() -> TransactionClock:
    """Where this cluster's transaction ids stand now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT system_identifier, pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM pg_control_system()"
        )
        cluster, next_transaction = cursor.fetchone()
    return TransactionClock(cluster=cluster % (1 << 64), next_transaction=next_transaction)


def stream_sealed(
    extra_columns: str = "", *, with_events: bool = False, after: int = 0, through: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """(seq, entry, hash[, extra columns...]) of the chain entries (`c`) after seq `after` (through seq
    `through`, if given) in seq order, streamed; `with_events` joins each to its event (`e`)."""
    for page in stream_sealed_pages(extra_columns, with_events=with_events, after=after, through=through):
        yield from page


def stream_sealed_pages(
    extra_columns: str = "", *, with_events: bool = False, after: int = 0, through: int | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """`stream_sealed`'s rows a page at a time (at most VERIFY_FETCH rows each)."""
    join = " LEFT JOIN audit_auditevent AS e ON e.id = c.event_id" if with_events else ""
    bounds = f" WHERE c.seq > {int(after)}" + ("" if through is None else f" AND c.seq <= {int(through)}")
    sql = f"SELECT c.seq, c.entry, c.hash{extra_columns} FROM audit_chainentry AS c{join}{bounds} ORDER BY c.seq"  # noqa: S608
    # PostgreSQL: binary pages fetched beside the hashing, for bench_audit 2 (verify_audit over 1,000,000 events).
    if postgres():
        yield from prefetched_pages(sql)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            while rows := cursor.fetchmany(VERIFY_FETCH):
                yield rows


def prefetched_pages(sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `sql`, a page at a time, from a server-side binary cursor (bytea arrives as raw bytes, nothing
    is parsed), the next page fetched by a second thread while the caller works through this one: waiting for
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
            yield page
    finally:
        stop.set()  # the caller may stop early: the fetcher closes its cursor and ends
        fetcher.join()
