"""App config for the audit log."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The append-only, tamper-evident audit log."""

    name = "audit"
    verbose_name = _("Audit log")
