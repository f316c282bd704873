"""Messages to borrowers and family contacts: an outbox row per message."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import Borrower, Contact, LoanAccount
from collections_app.models.policy import PolicyVersion


class Message(models.Model):
    """One message; written with the decision that causes it, sent by the relay exactly once."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        WAITING = "waiting", _("waiting for allowed hours")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        SUPPRESSED = "suppressed", _("suppressed")

    class Audience(models.TextChoices):
        BORROWER = "borrower", _("borrower")
        FAMILY = "family", _("family contact")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        IN_APP = "in_app", _("in-app")
        VOICE = "voice", _("voice")

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="messages")
    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="messages")
    audience = models.CharField(_("audience"), max_length=16, choices=Audience)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    recipient = models.CharField(_("recipient"), max_length=32)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="message_status_idx"),
            models.Index(fields=["borrower", "created_at"], name="message_borrower_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audience="borrower", contact__isnull=True)
                | models.Q(audience="family", contact__isnull=False),
                name="message_family_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key
