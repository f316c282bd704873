"""Policy profiles: the numbers every rule reads, versioned so each decision can name its version."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyProfile(models.Model):
    """A jurisdiction profile (`cn-default`, `us-regf`, `uk-conc`); its numbers live in versions."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("policy profile")
        verbose_name_plural = _("policy profiles")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def current_version(self) -> "PolicyVersion":
        """The newest version: the one in force."""
        return self.versions.order_by("-version").first()


# DOMAIN.md: a promise lies within the profile's horizon, 30 days unless the profile says otherwise. The caps keep
# the date arithmetic on promises (made on + horizon + grace) inside the calendar, in Python and in SQL.
DEFAULT_PROMISE_HORIZON_DAYS = 30
MAX_PROMISE_HORIZON_DAYS = 365
MAX_PROMISE_GRACE_DAYS = 30


def _default_pre_due_days() -> list[int]:
    return [-3, -1, 0]


def _default_sms_days() -> list[int]:
    return [1, 3, 7, 10, 13, 16, 19, 22, 25, 28, 30]


class PolicyVersion(models.Model):
    """One immutable version of a profile's numbers; editing a profile adds a version."""

    class FirewallMode(models.TextChoices):
        CN_DEFAULT = "cn-default", _("cn-default: a generic request to help with repayment is allowed")
        US_REGF = "us-regf", _("us-regf: no mention of debt or repayment")
        UK_CONC = "uk-conc", _("uk-conc: no disclosure of the debt")

    profile = models.ForeignKey(PolicyProfile, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Sending window in the recipient's time zone: [start, end).
    send_window_start = models.TimeField(_("allowed hours start"), default=datetime.time(8, 0))
    send_window_end = models.TimeField(_("allowed hours end (excluded)"), default=datetime.time(21, 0))
    # Reminder ladder.
    reminder_days = models.JSONField(_("pre-due and due-day notice DPDs"), default=_default_pre_due_days)
    sms_days = models.JSONField(_("SMS days up to the repeat start"), default=_default_sms_days)
    sms_repeat_from_dpd = models.PositiveIntegerField(_("SMS repeats from DPD"), default=30)
    sms_repeat_every_days = models.PositiveIntegerField(_("SMS repeats every N days"), default=7)
    in_app_from_dpd = models.IntegerField(_("daily in-app reminders from DPD"), default=1)
    call_task_from_dpd = models.IntegerField(_("daily phone-call tasks from DPD"), default=8)
    max_messages_per_channel_per_day = models.PositiveIntegerField(
        _("messages per channel per borrower per day"), default=1
    )
    max_connected_calls_per_day = models.PositiveIntegerField(
        _("connected calls per borrower per day"), null=True, blank=True, default=3
    )
    max_call_attempts = models.PositiveIntegerField(_("call attempts per window"), null=True, blank=True)
    call_attempts_window_days = models.PositiveIntegerField(_("call attempts window (days)"), default=7)
    no_calls_after_conversation_days = models.PositiveIntegerField(
        _("no calls for N days after a conversation"), default=0
    )
    promise_grace_days = models.PositiveIntegerField(
        _("promise grace (days)"), default=1, validators=[MaxValueValidator(MAX_PROMISE_GRACE_DAYS)]
    )
    # A promise lies at most this many days ahead of the day it is made, and pauses escalation no longer.
    promise_horizon_days = models.PositiveIntegerField(
        _("promise horizon (days)"),
        default=DEFAULT_PROMISE_HORIZON_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PROMISE_HORIZON_DAYS)],
    )
    # Family-contact eligibility.
    family_min_dpd = models.PositiveIntegerField(_("family contact from DPD"), default=30)
    failed_attempts_min = models.PositiveIntegerField(_("failed attempts"), default=5)
    failed_attempt_days_min = models.PositiveIntegerField(_("on distinct days"), default=3)
    failed_attempts_window_days = models.PositiveIntegerField(_("failed attempts window (days)"), default=14)
    broken_promises_min = models.PositiveIntegerField(_("broken promises"), default=2)
    broken_promises_window_days = models.PositiveIntegerField(_("broken promises window (days)"), default=60)
    contact_interval_days = models.PositiveIntegerField(_("days between messages to one contact"), default=7)
    contact_once_only = models.BooleanField(_("each third party contacted once"), default=False)
    max_contacts_per_borrower = models.PositiveIntegerField(_("different contacts per borrower per window"), default=3)
    contacts_window_days = models.PositiveIntegerField(_("different contacts window (days)"), default=30)
    approval_send_hours = models.PositiveIntegerField(_("hours to send after approval"), default=72)
    decision_expiry_days = models.PositiveIntegerField(_("days to decide"), default=7)
    queue_overdue_hours = models.PositiveIntegerField(_("queue overdue after (hours)"), default=24)
    # Content firewall.
    firewall_mode = models.CharField(
        _("firewall"), max_length=16, choices=FirewallMode, default=FirewallMode.CN_DEFAULT
    )
    service_hotlines = models.JSONField(_("service hotlines"), default=list, blank=True)
    product_names = models.JSONField(_("product names"), default=list, blank=True)
    lender_name = models.CharField(_("lender name"), max_length=100, default="")
    opt_out_line = models.CharField(_("opt-out line"), max_length=50, default="回复TD退订")
    # The ladder's borrower templates are the ones in this language.
    message_language = models.CharField(
        _("message language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["profile", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "version"], name="policy_version_unique"),
            models.CheckConstraint(
                condition=models.Q(send_window_start__lt=models.F("send_window_end")),
                name="policy_window_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(promise_horizon_days__gte=1, promise_horizon_days__lte=MAX_PROMISE_HORIZON_DAYS),
                name="policy_promise_horizon_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(promise_grace_days__lte=MAX_PROMISE_GRACE_DAYS),
                name="policy_promise_grace_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile.code} v{self.version}"
