"""Messages to borrowers and family contacts: an outbox row per message."""

from django.conf import settings
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


class MessageTemplate(models.Model):
    """A named message template; its text lives in immutable versions."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Message.Audience)
    channel = models.CharField(_("channel"), max_length=16, choices=Message.Channel)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One version of a template's body; a family version is usable once someone other than its author approves it."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("body"), max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="template_version_unique"),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("created_by"))
                | models.Q(created_by__isnull=True),
                name="template_approver_is_not_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.code} v{self.version}"

    @property
    def is_approved(self) -> bool:
        """Whether the version has been approved for use."""
        return self.approved_at is not None


class PhoneOptOut(models.Model):
    """An opt-out belongs to a phone number: it is never contacted again as a family contact."""

    class Source(models.TextChoices):
        SMS_REPLY = "sms_reply", _("reply to an SMS")
        OFFICER = "officer", _("recorded by an officer")

    phone = models.CharField(_("phone"), max_length=16, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=Source)
    received_at = models.DateTimeField(_("received at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("phone opt-out")
        verbose_name_plural = _("phone opt-outs")

    def __str__(self) -> str:
        return f"{_('Opt-out')} #{self.pk}"
