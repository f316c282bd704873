"""The canonical encoding of a sealed event: the exact bytes that are hashed, stored and proved.

An entry is one JSON object, UTF-8, with the event's seq, a format version and every readable column,
top-level keys in alphabetical order and no spaces between them. Text columns are JSON strings escaped
as PostgreSQL's `to_json` does (which is what Python's `json.dumps(..., ensure_ascii=False)` does too);
the JSON columns (`detail`, `fields`, `persons`) are embedded exactly as the database prints them.
So PostgreSQL can build the same bytes from the columns (ENTRY_SQL): the sealer lets it, and
`verify_audit` checks every stored entry against its columns with one scan, without parsing JSON.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import Any

FORMAT_VERSION = 1

# The columns an event's writer gives (`audit_record`, `audit_record_many`, `audit_events_sql` all write
# exactly these), in the order they are written: the one list of the event's columns.
EVENT_COLUMNS = (
    "actor_id",
    "actor_username",
    "role",
    "action",
    "object_type",
    "object_id",
    "persons",
    "fields",
    "purpose",
    "outcome",
    "request_id",
    "ip",
    "detail",
)
# The readable columns of audit_auditevent, in the order selected for the Python encoder: the ones the
# database fills in on insert, then the written ones. `seq` and `txid` are not part of the entry.
ENTRY_COLUMNS = ("id", "occurred_at", *EVENT_COLUMNS)
JSON_COLUMNS = frozenset({"persons", "fields", "detail"})
_TEXT = ("action", "actor_username", "object_id", "object_type", "outcome", "purpose", "request_id", "role")

GENESIS_HASH = bytes(32)

_TIMESTAMP_SQL = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

# Keys in alphabetical order; `{seq}` is the SQL expression giving the event's seq.
ENTRY_SQL = (
    "convert_to("
    """'{"action":' || to_json(action)::text"""
    """ || ',"actor_id":' || coalesce(actor_id::text, 'null')"""
    """ || ',"actor_username":' || to_json(actor_username)::text"""
    """ || ',"detail":' || detail::text"""
    """ || ',"fields":' || fields::text"""
    """ || ',"id":' || id::text"""
    """ || ',"ip":' || coalesce(to_json(host(ip))::text, 'null')"""
    """ || ',"object_id":' || to_json(object_id)::text"""
    """ || ',"object_type":' || to_json(object_type)::text"""
    f""" || ',"occurred_at":"' || {_TIMESTAMP_SQL} || '"'"""
    """ || ',"outcome":' || to_json(outcome)::text"""
    """ || ',"persons":' || persons::text"""
    """ || ',"purpose":' || to_json(purpose)::text"""
    """ || ',"request_id":' || to_json(request_id)::text"""
    """ || ',"role":' || to_json(role)::text"""
    """ || ',"seq":' || ({seq})::text"""
    f""" || ',"v":{FORMAT_VERSION}}}', 'UTF8')"""
)


def entry_sql(seq: str = "seq") -> str:
    """PostgreSQL expression building an event's entry from its columns, with `seq` as the given SQL."""
    return ENTRY_SQL.replace("{seq}", seq)


def format_timestamp(value: datetime.datetime | str) -> str:
    """UTC, microseconds, `Z`: the one textual form of `occurred_at` in an entry."""
    if isinstance(value, str):
        # SQLite hands timestamps back as text without an offset; Django stores them in UTC.
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def encode_entry(seq: int, values: dict[str, Any]) -> bytes:
    """The entry of one event from its readable column values (JSON columns as the database's JSON text)."""
    members = {
        "actor_id": "null" if values["actor_id"] is None else str(int(values["actor_id"])),
        "id": str(int(values["id"])),
        "ip": "null" if values["ip"] is None else _string(str(values["ip"])),
        "occurred_at": _string(format_timestamp(values["occurred_at"])),
        "seq": str(int(seq)),
        "v": str(FORMAT_VERSION),
    }
    for column in _TEXT:
        members[column] = _string(values[column])
    for column in JSON_COLUMNS:
        text = values[column]
        members[column] = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return ("{" + ",".join(f'"{key}":{members[key]}' for key in sorted(members)) + "}").encode()


def decode_entry(entry: bytes) -> dict[str, Any]:
    """The JSON document inside an entry."""
    return json.loads(entry.decode())


def chain_hash(previous: bytes, entry: bytes) -> bytes:
    """SHA-256(previous hash || entry): each event's hash commits to everything before it."""
    return hashlib.sha256(previous + entry).digest()


def chain_hashes(previous: bytes, entries: Iterable[bytes]) -> list[bytes]:
    """`chain_hash` along `entries`, from the hash before the first: each entry's hash, in order."""
    sha256 = hashlib.sha256
    return [previous := sha256(previous + entry).digest() for entry in entries]
