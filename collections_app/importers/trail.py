"""The audit trail of an import: one event per created or changed object, written in bulk per phase."""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

import collections_app.importers.csv_rows as csv_rows
from audit.record import audit_record_many


class AuditTrail:
    """One audit event per created or changed object, through the single entry point; progress on big files.

    Events are collected per phase and written by `flush` through the entry point's bulk form.
    """

    def __init__(self, detail: dict[str, str], progress: csv_rows.Progress | None) -> None:
        self.detail = detail
        self.progress = progress
        self.pending: list[dict[str, Any]] = []
        self.count = 0

    def record(self, action: str, obj: models.Model, persons: list[str], fields: Iterable[str]) -> None:
        """Queue the event of one created (`create`) or changed (`update`) object."""
        self.pending.append(
            {
                "action": action,
                "object_type": obj._meta.model_name,
                "object_id": obj.pk,
                "persons": persons,
                "fields": fields,
                "detail": self.detail,
            }
        )

    def flush(self) -> None:
        """Write the queued events, PROGRESS_EVERY at a time, reporting progress as they go."""
        every = csv_rows.PROGRESS_EVERY
        for start in range(0, len(self.pending), every):
            before = self.count
            self.count += audit_record_many(self.pending[start : start + every])
            if self.progress and self.count // every > before // every:
                self.progress(_("wrote %(n)d audit events") % {"n": self.count})
        self.pending.clear()
