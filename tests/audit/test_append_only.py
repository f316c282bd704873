"""The audit tables refuse UPDATE, DELETE and TRUNCATE in PostgreSQL (SQLite: test_append_only_sqlite)."""

import pytest
from django.db import IntegrityError, connections, transaction

from audit.encoding import ENTRY_COLUMNS
from audit.models import AuditEvent, VerificationRun
from audit.services import audit_record
from tests.audit.conftest import raw

pytestmark = pytest.mark.django_db

SEALED = {"seq": 1, "entry": b"{}", "hash": bytes(32)}


def refused(statement: str, params: list | tuple = (), using: str = "default") -> bool:
    """Whether the database refuses the statement (run in a savepoint so the test goes on)."""
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(statement, params)
    except IntegrityError as exc:
        return "append-only" in str(exc)
    return False


def test_orm_update_and_delete_of_an_event_are_refused() -> None:
    event = audit_record(action="view", fields=["name"])
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="list")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_raw_update_delete_and_truncate_are_refused_on_postgresql() -> None:
    audit_record(action="view")
    assert refused("UPDATE audit_auditevent SET outcome = 'denied'")
    assert refused("DELETE FROM audit_auditevent")
    assert refused("TRUNCATE audit_auditevent")
    assert refused("TRUNCATE audit_verificationrun")


def test_the_seal_update_is_the_only_update_let_through() -> None:
    event = audit_record(action="view")
    # Sealing must set all three at once, from NULL, with every other column unchanged.
    assert refused("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event.pk])
    assert refused(
        "UPDATE audit_auditevent SET seq = 1, entry = 'x', hash = 'y', action = 'list' WHERE id = %s", [event.pk]
    )
    raw("UPDATE audit_auditevent SET seq = 1, entry = 'x', hash = 'y' WHERE id = %s", [event.pk])
    # Once sealed, never again.
    assert refused("UPDATE audit_auditevent SET seq = 2, entry = 'x', hash = 'y' WHERE id = %s", [event.pk])
    assert refused("UPDATE audit_auditevent SET seq = NULL, entry = NULL, hash = NULL WHERE id = %s", [event.pk])


def test_verification_runs_are_append_only_too() -> None:
    run = VerificationRun.objects.create(started_at="2026-01-01T00:00:00Z", ok=True)
    assert refused("UPDATE audit_verificationrun SET ok = false WHERE id = %s", [run.pk])
    assert refused("DELETE FROM audit_verificationrun WHERE id = %s", [run.pk])


def test_the_sqlite_trigger_checks_every_column_but_the_sealed_ones() -> None:
    from importlib import import_module

    migration = import_module("audit.migrations.0003_append_only_triggers")
    assert set(migration.EVENT_COLUMNS) == set(ENTRY_COLUMNS)
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert set(migration.EVENT_COLUMNS) == columns - {"seq", "entry", "hash"}
