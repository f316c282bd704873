"""The audit log in the admin: read-only, for superusers; nobody adds, changes or deletes events.

Reading the audit log is itself audited, as on the auditor's pages: each list and each event's page is an event.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdmin
from audit.models import AuditEvent, ChainEntry, VerificationRun


class ReadOnlyAdmin(AuditedAdmin):
    """No add, change or delete, whatever the user's permissions: the tables are append-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "seq", "occurred_at", "actor_username", "role", "action", "object_label", "outcome")
    list_filter = ("action", "outcome", "role")
    search_fields = ("=actor_username", "=request_id", "=object_id")
    show_full_result_count = False  # counting tens of millions of rows on every page is not free
    fields = (
        "seq",
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
        "entry_text",
        "hash_hex",
    )
    readonly_fields = fields

    def audit_persons(self, obj: AuditEvent) -> list[str]:
        """The persons the event names (its page shows them)."""
        return list(obj.persons or [])

    @admin.display(description=_("object"))
    def object_label(self, obj: AuditEvent) -> str:
        return obj.object_label

    @staticmethod
    def _chain_entry(obj: AuditEvent) -> ChainEntry | None:
        if obj.seq is None:
            return None
        if not hasattr(obj, "_chain_entry"):
            obj._chain_entry = ChainEntry.objects.filter(seq=obj.seq, event_id=obj.pk).first()
        return obj._chain_entry

    @admin.display(description=_("canonical entry"))
    def entry_text(self, obj: AuditEvent) -> str:
        chained = self._chain_entry(obj)
        return bytes(chained.entry).decode() if chained else ""

    @admin.display(description=_("chain hash"))
    def hash_hex(self, obj: AuditEvent) -> str:
        chained = self._chain_entry(obj)
        return bytes(chained.hash).hex() if chained else ""


@admin.register(ChainEntry)
class ChainEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "event_id")
    search_fields = ("=seq", "=event_id")
    show_full_result_count = False
    readonly_fields = ("seq", "event_id", "entry_text", "hash_hex")
    fields = readonly_fields

    @admin.display(description=_("canonical entry"))
    def entry_text(self, obj: ChainEntry) -> str:
        return bytes(obj.entry).decode()

    @admin.display(description=_("chain hash"))
    def hash_hex(self, obj: ChainEntry) -> str:
        return bytes(obj.hash).hex()


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "finished_at", "ok", "events_checked", "checkpoints_checked", "first_bad_seq")
    readonly_fields = (
        "started_at",
        "finished_at",
        "ok",
        "events_checked",
        "checkpoints_checked",
        "first_bad_seq",
        "bad_checkpoints",
        "summary",
    )
