"""Messages to borrowers and family contacts: an outbox row per message."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import Borrower, Contact, LoanAccount, e164_validator
from collections_app.models.profiles import PolicyVersion


class ContactReason(models.TextChoices):
    """Why the contact gate refuses a contact; a suppressed message's `status_reason` is one of these codes."""

    PAID = "paid", _("the account is paid off")
    PAUSED = "paused", _("escalation is paused (promise, plan, dispute or hardship)")
    CEASED = "ceased", _("the borrower asked for communication to cease")
    CHANNEL_STOPPED = "channel_stopped", _("the borrower stopped this channel")
    OPTED_OUT = "opted_out", _("the phone number opted out")
    OUTSIDE_HOURS = "outside_hours", _("outside allowed hours in the recipient's time zone")
    CAP = "cap", _("a contact cap is reached")
    STALE = "stale", _("the contact is stale: its day or window is over")
    REPRESENTED = "represented", _("the borrower is represented: contact only the representative")
    VULNERABLE = "vulnerable", _("the borrower is flagged as a vulnerable customer")
    REQUEST_CANCELLED = "request_cancelled", _("the family-contact request was cancelled")
    EXPIRED = "expired", _("the family-contact approval expired")


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

    # Statuses from which nothing moves any more.
    FINAL_STATUSES = (Status.DELIVERED, Status.FAILED, Status.SUPPRESSED)
    # Statuses the relay still has to act on.
    PENDING_STATUSES = (Status.QUEUED, Status.WAITING)

    # Indexes are kept to what a query needs: the ladder inserts a million rows a day. `message_borrower_idx`
    # and `message_cap_idx` serve lookups by borrower; versions are looked up by message, never the reverse.
    # The references below are checked once per statement by triggers, not per row (migrations 0008, 0010).
    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, related_name="messages", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(
        LoanAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="messages", db_constraint=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="messages", db_constraint=False
    )
    audience = models.CharField(_("audience"), max_length=16, choices=Audience)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    # E.164 for sms/voice, `app:<borrower reference>` for in-app.
    recipient = models.CharField(_("recipient"), max_length=80)
    recipient_timezone = models.CharField(_("recipient's time zone"), max_length=64, default="Asia/Shanghai")
    body = models.TextField(_("body"))
    # The two version references are checked once per statement by triggers (migration 0008), not per row
    # by a foreign key: escalation inserts a million messages pointing at a handful of versions.
    template_version = models.ForeignKey(
        "TemplateVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    # Unique through `message_idempotency_key_unique` (a constraint, so no second pattern-ops index).
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    policy_version = models.ForeignKey(
        PolicyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    # The relay takes a message no earlier than this: its creation, or for a waiting one the opening of the
    # recipient's allowed hours. Always set, so the relay's claim is one range scan on a partial index.
    not_before = models.DateTimeField(_("not before"), db_default=Now())
    # The recipient's local date the message went (or is going) out on: what daily caps count.
    send_date = models.DateField(_("send date (recipient's time zone)"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("hand-off attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["borrower", "created_at"], name="message_borrower_idx"),
            # The relay's claim query: only rows it still has to act on.
            models.Index(
                fields=["not_before"],
                condition=models.Q(status__in=["queued", "waiting"]),
                name="message_outbox_due_idx",
            ),
            # The sweep's reconciliation looks for messages whose hand-off outcome is unknown.
            models.Index(fields=["id"], condition=models.Q(status="sending"), name="message_outbox_sending_idx"),
            # Daily caps count a borrower's messages per channel per local day.
            models.Index(fields=["borrower", "channel", "send_date"], name="message_cap_idx"),
            models.Index(fields=["recipient", "status"], name="message_recipient_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="message_idempotency_key_unique"),
            models.CheckConstraint(
                condition=models.Q(audience="borrower", contact__isnull=True)
                | models.Q(audience="family", contact__isnull=False),
                name="message_family_has_contact",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="suppressed") | ~models.Q(status_reason=""),
                name="message_suppressed_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["sent", "delivered"]) | models.Q(sent_at__isnull=False),
                name="message_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["sending", "sent", "delivered"]) | models.Q(send_date__isnull=False),
                name="message_handed_has_send_date",
            ),
            # A family message must name the approved version it was rendered from.
            models.CheckConstraint(
                condition=~models.Q(audience="family") | models.Q(template_version__isnull=False),
                name="message_family_has_template",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def status_reason_label(self) -> str:
        """The status reason as a reader sees it: a reason code's label, any older free text as it is."""
        if self.status_reason in ContactReason.values:
            return str(ContactReason(self.status_reason).label)
        return self.status_reason


class MessageTemplate(models.Model):
    """A named message template; its text lives in immutable versions."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Message.Audience)
    channel = models.CharField(_("channel"), max_length=16, choices=Message.Channel)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    name = models.CharField(_("name"), max_length=100)
    # The firewall profile a new version is checked under when saved (sending checks the message's own).
    firewall_profile = models.CharField(
        _("firewall profile"),
        max_length=16,
        choices=PolicyVersion.FirewallMode,
        default=PolicyVersion.FirewallMode.CN_DEFAULT,
    )

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def current_version(self) -> "TemplateVersion | None":
        """The newest version: the only one new messages may use."""
        return self.versions.order_by("-version").first()


class TemplateVersion(models.Model):
    """One version of a template's body; a family version is usable once someone other than its author approves it.

    A risk approver decides a family version once: approved, or rejected with a reason (then the template needs a
    new version). Neither decision can be the author's, which the database holds too.
    """

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
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    # The approver's reason: required for a rejection, optional for an approval.
    decision_reason = models.TextField(_("decision reason"), max_length=2000, blank=True)

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
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True, approved_at__isnull=True)
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="template_approval_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(rejected_by__isnull=True)
                | ~models.Q(rejected_by=models.F("created_by"))
                | models.Q(created_by__isnull=True),
                name="template_rejecter_is_not_author",
            ),
            models.CheckConstraint(
                condition=models.Q(rejected_by__isnull=True, rejected_at__isnull=True)
                | models.Q(rejected_by__isnull=False, rejected_at__isnull=False),
                name="template_rejection_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_at__isnull=True) | models.Q(rejected_at__isnull=True),
                name="template_decided_once",
            ),
            models.CheckConstraint(
                condition=models.Q(rejected_at__isnull=True) | ~models.Q(decision_reason=""),
                name="template_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.code} v{self.version}"

    @property
    def is_approved(self) -> bool:
        """Whether the version has been approved for use."""
        return self.approved_at is not None

    @property
    def is_rejected(self) -> bool:
        """Whether a risk approver rejected the version (it is never used)."""
        return self.rejected_at is not None


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


class ChannelStop(models.Model):
    """A borrower stopped one channel (STOP/TD reply or told an officer): nothing more goes out on it."""

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="channel_stops")
    channel = models.CharField(_("channel"), max_length=16, choices=Message.Channel)
    source = models.CharField(_("source"), max_length=16, choices=PhoneOptOut.Source)
    received_at = models.DateTimeField(_("received at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stopped channel")
        verbose_name_plural = _("stopped channels")
        constraints = [
            models.UniqueConstraint(fields=["borrower", "channel"], name="channel_stop_unique"),
        ]

    def __str__(self) -> str:
        return f"{_('Stopped channel')} #{self.pk}"


class WebhookSignature(models.Model):
    """A webhook signature already taken: a replay of the same signed request is refused."""

    signature = models.CharField(_("signature"), max_length=64, unique=True)
    endpoint = models.CharField(_("endpoint"), max_length=16)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook signature")
        verbose_name_plural = _("webhook signatures")

    def __str__(self) -> str:
        return f"{self.endpoint} {self.received_at:%Y-%m-%d %H:%M:%S}"


class InboundReply(models.Model):
    """An inbound SMS that is no opt-out: kept for the borrower's officer, or for compliance, to read.

    A number that matches exactly one borrower (as the borrower's own phone or one of their contacts') goes to
    that borrower's accounts; one that matches none, or several borrowers, is a compliance matter. No reply is
    dropped: the webhook stores every one it takes.
    """

    # A concatenated SMS is at most a few hundred characters; a longer body is not an SMS.
    TEXT_MAX_LENGTH = 2000

    phone = models.CharField(_("from"), max_length=16, validators=[e164_validator])
    text = models.TextField(_("text"), max_length=TEXT_MAX_LENGTH, blank=True)
    received_at = models.DateTimeField(_("received at"))
    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, null=True, blank=True, related_name="inbound_replies"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # How many borrowers the number matched when the reply came in: exactly one routes it to their accounts.
    matched_borrowers = models.PositiveIntegerField(_("borrowers matched"))
    compliance = models.BooleanField(_("for compliance"))
    # The people the number matched then (`borrower:<id>`, `contact:<id>`): whom reading the reply concerns.
    persons = models.JSONField(_("persons"), default=list, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbound reply")
        verbose_name_plural = _("inbound replies")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["borrower", "received_at"], name="inbound_reply_borrower_idx"),
            # The compliance inbox pages through its replies by id, newest first.
            models.Index(fields=["id"], condition=models.Q(compliance=True), name="inbound_reply_compliance_idx"),
        ]
        constraints = [
            # A reply is the compliance inbox's exactly when it does not match one borrower.
            models.CheckConstraint(
                condition=models.Q(compliance=False, matched_borrowers=1, borrower__isnull=False)
                | (models.Q(compliance=True, borrower__isnull=True) & ~models.Q(matched_borrowers=1)),
                name="inbound_reply_compliance_when_unmatched",
            ),
            models.CheckConstraint(
                condition=models.Q(contact__isnull=True) | models.Q(borrower__isnull=False),
                name="inbound_reply_contact_has_borrower",
            ),
            models.CheckConstraint(
                condition=models.Q(read_at__isnull=True, read_by__isnull=True)
                | models.Q(read_at__isnull=False, read_by__isnull=False),
                name="inbound_reply_read_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Inbound reply')} #{self.pk}"

    @property
    def is_read(self) -> bool:
        """Whether someone has marked the reply read."""
        return self.read_at is not None
