"""App config for the audit log."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The append-only, tamper-evident audit log."""

    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        """Record sign-ins, failed sign-ins and sign-outs; make the coming months' partitions after `migrate`."""
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_migrate

        from audit import receivers

        post_migrate.connect(receivers.make_partitions_ahead, sender=self, dispatch_uid="audit_partitions")
        user_logged_in.connect(receivers.record_login, dispatch_uid="audit_login")
        user_login_failed.connect(receivers.record_login_failed, dispatch_uid="audit_login_failed")
        user_logged_out.connect(receivers.record_logout, dispatch_uid="audit_logout")
