"""Fixtures and helpers of the audit tests: a signing key, a checkpoint directory, a way to tamper like a
superuser, raw SQL, and whether the database refuses a statement."""

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import IntegrityError, connection, connections, transaction


def new_key_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as the settings take it: base64 of the raw seed and of the raw public key."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(seed).decode(), base64.b64encode(public).decode()


@pytest.fixture
def audit_keys(settings, tmp_path: Path) -> Path:
    """Signing and public keys set, checkpoints going to a fresh directory (returned)."""
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PUBLIC_KEY = new_key_pair()
    directory = tmp_path / "checkpoints"
    settings.AUDIT_CHECKPOINT_DIR = str(directory)
    return directory


@contextmanager
def triggers_disabled() -> Iterator[None]:
    """Act as a superuser who turned the audit triggers off: how an attacker with DBA rights tampers.

    PostgreSQL: `session_replication_role = replica` for this session. SQLite has no switch for triggers,
    so the audit tables' triggers are dropped and then created again from the SQL SQLite kept of them.
    """
    if connection.vendor == "sqlite":
        with _sqlite_audit_triggers_dropped():
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")


@contextmanager
def _sqlite_audit_triggers_dropped() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND substr(tbl_name, 1, 6) = 'audit_'"
        )
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in triggers:
                cursor.execute(sql)


def raw(sql: str, params: list | tuple = ()) -> list[tuple]:
    """Run one SQL statement on the default connection; its rows, if any."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def refused(statement: str, params: list | tuple = (), using: str = "default") -> bool:
    """Whether the database refuses the statement (run in a savepoint so the test goes on)."""
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(statement, params)
    except IntegrityError as exc:
        return "append-only" in str(exc)
    return False
