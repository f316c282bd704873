"""The audit tables refuse UPDATE, DELETE and TRUNCATE in PostgreSQL (SQLite: test_append_only_sqlite)."""

import pytest
from django.db import IntegrityError, transaction

from audit.encoding import ENTRY_COLUMNS
from audit.models import AuditEvent, VerificationRun
from audit.record import audit_record
from tests.audit.conftest import raw, refused

pytestmark = pytest.mark.django_db


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
    assert refused("TRUNCATE audit_chainentry")


def test_the_seal_update_is_the_only_update_let_through() -> None:
    event = audit_record(action="view")
    # Sealing sets seq from NULL with every other column unchanged, the transaction id included.
    assert refused("UPDATE audit_auditevent SET seq = 1, action = 'list' WHERE id = %s", [event.pk])
    assert refused("UPDATE audit_auditevent SET seq = 1, txid = txid + 1 WHERE id = %s", [event.pk])
    assert refused("UPDATE audit_auditevent SET action = 'list' WHERE id = %s", [event.pk])
    raw("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event.pk])
    # Once sealed, never again.
    assert refused("UPDATE audit_auditevent SET seq = 2 WHERE id = %s", [event.pk])
    assert refused("UPDATE audit_auditevent SET seq = NULL WHERE id = %s", [event.pk])


def test_chain_entries_are_append_only() -> None:
    raw("INSERT INTO audit_chainentry (seq, event_id, entry, hash) VALUES (1, 1, 'x', 'y')")
    assert refused("UPDATE audit_chainentry SET entry = 'z' WHERE seq = 1")
    assert refused("UPDATE audit_chainentry SET seq = 2 WHERE seq = 1")
    assert refused("DELETE FROM audit_chainentry WHERE seq = 1")


def test_verification_runs_are_append_only_too() -> None:
    run = VerificationRun.objects.create(started_at="2026-01-01T00:00:00Z", ok=True)
    assert refused("UPDATE audit_verificationrun SET ok = false WHERE id = %s", [run.pk])
    assert refused("DELETE FROM audit_verificationrun WHERE id = %s", [run.pk])


def test_the_seal_triggers_check_every_column_but_seq() -> None:
    from importlib import import_module

    migration = import_module("audit.migrations.0006_chain_entries_beside_events")
    assert set(migration.EVENT_COLUMNS) == {*ENTRY_COLUMNS, "txid"}
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert set(migration.EVENT_COLUMNS) == columns - {"seq"}
