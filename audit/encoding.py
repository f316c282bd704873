"""The canonical encoding of a sealed event: the exact bytes that are hashed, stored and proved.

An entry is UTF-8 JSON with sorted keys and no spaces, holding every readable column of the event
plus its seq and a format version. Readable columns can be checked against it (verify does), and an
outside party can read it with any JSON parser.
"""

import datetime
import hashlib
import json
from typing import Any

FORMAT_VERSION = 1

# The readable columns of audit_auditevent, in the order the sealer and the verifier select them.
ENTRY_COLUMNS = (
    "id",
    "occurred_at",
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
JSON_COLUMNS = frozenset({"persons", "fields", "detail"})

GENESIS_HASH = bytes(32)


def format_timestamp(value: datetime.datetime | str) -> str:
    """UTC, microseconds, `Z`: the one textual form of `occurred_at` in an entry."""
    if isinstance(value, str):
        # SQLite hands timestamps back as text without an offset; Django stores them in UTC.
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_entry(seq: int, values: dict[str, Any]) -> bytes:
    """The canonical bytes of one event given its seq and readable column values (JSON columns decoded)."""
    document = {column: values[column] for column in ENTRY_COLUMNS}
    document["seq"] = seq
    document["v"] = FORMAT_VERSION
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode_entry(entry: bytes) -> dict[str, Any]:
    """The JSON document inside an entry."""
    return json.loads(entry.decode())


def chain_hash(previous: bytes, entry: bytes) -> bytes:
    """SHA-256(previous hash || entry): each event's hash commits to everything before it."""
    return hashlib.sha256(previous + entry).digest()
