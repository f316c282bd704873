"""The audit log: one row per event, sealed into a hash chain in order."""

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One audited action; never updated except once, by sealing, and never deleted."""

    seq = models.BigIntegerField(_("sequence"), null=True, blank=True, unique=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_default=Now())
    # Plain values, not foreign keys: the log must outlive and not depend on the rows it names.
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=40)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    persons = models.JSONField(_("persons"), default=list, blank=True)
    fields = models.JSONField(_("fields shown"), default=list, blank=True)
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, default="ok")
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["actor_username", "id"], name="audit_actor_idx"),
            models.Index(fields=["action", "id"], name="audit_action_idx"),
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
