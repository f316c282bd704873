"""The same append-only triggers on SQLite, the engine `make run` uses without DATABASE_URL.

The suite runs on PostgreSQL, so these tests migrate the audit app into a throwaway SQLite file
registered as a second database alias for the duration of each test, outside pytest-django's test
database handling (which only knows the configured aliases).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connections

from audit.models import AuditEvent, ChainEntry, VerificationRun
from tests.audit.conftest import refused

SQLITE = "audit_sqlite"


@pytest.fixture
def sqlite_alias(tmp_path: Path, django_db_blocker) -> Iterator[str]:
    """A SQLite database with the audit app migrated, as a second alias, removed afterwards."""
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "audit.sqlite3")}
    connections.settings[SQLITE] = connections.configure_settings({"default": sqlite, SQLITE: dict(sqlite)})[SQLITE]
    try:
        with django_db_blocker.unblock():
            call_command("migrate", "audit", database=SQLITE, verbosity=0)
            yield SQLITE
    finally:
        connections[SQLITE].close()
        del connections[SQLITE]
        del connections.settings[SQLITE]


def sqlite_event(alias: str) -> int:
    event = AuditEvent.objects.using(alias).create(action="view", fields=["name"], persons=["borrower:1"])
    return event.pk


def test_update_and_delete_are_refused_on_sqlite(sqlite_alias: str) -> None:
    event_id = sqlite_event(sqlite_alias)
    assert refused("UPDATE audit_auditevent SET outcome = 'denied'", using=sqlite_alias)
    assert refused("DELETE FROM audit_auditevent", using=sqlite_alias)
    with pytest.raises(IntegrityError):
        AuditEvent.objects.using(sqlite_alias).filter(pk=event_id).delete()
    assert AuditEvent.objects.using(sqlite_alias).get(pk=event_id).outcome == "ok"


def test_only_the_seal_update_is_let_through_on_sqlite(sqlite_alias: str) -> None:
    event_id = sqlite_event(sqlite_alias)
    assert refused("UPDATE audit_auditevent SET seq = 1, ip = '10.0.0.1' WHERE id = %s", [event_id], using=sqlite_alias)
    assert refused("UPDATE audit_auditevent SET ip = '10.0.0.1' WHERE id = %s", [event_id], using=sqlite_alias)
    assert not refused("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event_id], using=sqlite_alias)
    assert refused("UPDATE audit_auditevent SET seq = 2 WHERE id = %s", [event_id], using=sqlite_alias)
    assert refused("UPDATE audit_auditevent SET seq = NULL WHERE id = %s", [event_id], using=sqlite_alias)


def test_chain_entries_are_append_only_on_sqlite(sqlite_alias: str) -> None:
    entry = ChainEntry.objects.using(sqlite_alias).create(seq=1, event_id=1, entry=b"{}", hash=bytes(32))
    assert refused("UPDATE audit_chainentry SET entry = X'00' WHERE seq = 1", using=sqlite_alias)
    assert refused("DELETE FROM audit_chainentry WHERE seq = 1", using=sqlite_alias)
    assert bytes(ChainEntry.objects.using(sqlite_alias).get(seq=entry.seq).entry) == b"{}"


def test_verification_runs_are_append_only_on_sqlite(sqlite_alias: str) -> None:
    run = VerificationRun.objects.using(sqlite_alias).create(started_at="2026-01-01T00:00:00Z", ok=True)
    assert refused("UPDATE audit_verificationrun SET ok = 0 WHERE id = %s", [run.pk], using=sqlite_alias)
    assert refused("DELETE FROM audit_verificationrun WHERE id = %s", [run.pk], using=sqlite_alias)
