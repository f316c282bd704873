"""Policy profiles: the numbers every rule reads, versioned so each decision can name its version."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.account_rules import (
    DEFAULT_PROMISE_HORIZON_DAYS,
    DEFAULT_REVEAL_PURPOSES,
    REVEALABLE_KINDS,
    RevealPurpose,
    reveal_purposes_checked,
)
from collections_app.legal_floors import legal_floor_errors


class Kind(models.TextChoices):
    """The law a profile (and a portfolio) answers to: its legal floors (`collections_app.legal_floors`)."""

    CN = "cn", _("China")
    US = "us", _("United States")
    UK = "uk", _("United Kingdom")


class PolicyProfile(models.Model):
    """A jurisdiction profile (`cn-default`, `us-regf`, `uk-conc`); its numbers live in versions.

    Its `kind` never changes (a database trigger refuses it): the floors its versions keep depend on it.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=2, choices=Kind)

    class Meta:
        verbose_name = _("policy profile")
        verbose_name_plural = _("policy profiles")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="profile_kind_known")]

    def __str__(self) -> str:
        return self.code

    @property
    def current_version(self) -> "PolicyVersion | None":
        """The version in force now (`PolicyVersion.objects.in_force`)."""
        return self.version_in_force(at=timezone.now())

    def version_in_force(self, *, at: datetime.datetime) -> "PolicyVersion | None":
        """The version in force at `at`: the newest one whose effective time has come."""
        return PolicyVersion.objects.in_force(at=at).filter(profile=self).first()


# Every count of days (or hours, or a DPD) a version holds, as (lowest, highest): the rules add and subtract them
# from today, so each must keep that arithmetic inside the calendar; ten years is beyond any policy's need.
# `PolicyVersion.clean` reports a value outside as a field error, and one constraint holds them in the database.
TEN_YEARS = 3650
NUMBER_BOUNDS: dict[str, tuple[int, int]] = {
    "sms_repeat_from_dpd": (0, TEN_YEARS),
    "sms_repeat_every_days": (1, TEN_YEARS),
    "in_app_from_dpd": (-TEN_YEARS, TEN_YEARS),
    "call_task_from_dpd": (-TEN_YEARS, TEN_YEARS),
    "call_attempts_window_days": (0, TEN_YEARS),
    "no_calls_after_conversation_days": (0, TEN_YEARS),
    "promise_grace_days": (0, 30),
    "promise_horizon_days": (1, 365),
    "family_min_dpd": (0, TEN_YEARS),
    "failed_attempts_window_days": (0, TEN_YEARS),
    "broken_promises_window_days": (0, TEN_YEARS),
    "contact_interval_days": (0, TEN_YEARS),
    "contacts_window_days": (0, TEN_YEARS),
    "approval_send_hours": (0, 24 * TEN_YEARS),
    "decision_expiry_days": (0, TEN_YEARS),
    "queue_overdue_hours": (0, 24 * TEN_YEARS),
    "complaint_deadline_days": (1, TEN_YEARS),
    # Years a closed account's personal data is kept before the retention job erases it.
    "retention_years": (1, 30),
    # GB/T 35273-2020 allows 30 days to answer a data-subject request (UK GDPR: one month): no profile may take longer.
    "privacy_request_deadline_days": (1, 30),
}
# The ladder's day lists: DPDs from ten years before the due date to ten years after.
DAY_LIST_FIELDS = ("reminder_days", "sms_days")


def _default_pre_due_days() -> list[int]:
    return [-3, -1, 0]


def _default_sms_days() -> list[int]:
    return [1, 3, 7, 10, 13, 16, 19, 22, 25, 28, 30]


def _default_reveal_purposes() -> dict[str, list[str]]:
    return {kind: sorted(purposes) for kind, purposes in DEFAULT_REVEAL_PURPOSES.items()}


# Newest effective time first, then newest version: the first row of a profile is its version in force.
IN_FORCE_ORDER = ("-effective_from", "-version")


class PolicyVersionQuerySet(models.QuerySet):
    """Versions, and the one place that says which of them is in force at a moment."""

    def in_force(self, *, at: datetime.datetime) -> "PolicyVersionQuerySet":
        """Versions whose effective time has come by `at`, each profile's version in force first among its own.

        Every decision looks its version up here, at its own moment: an approved version waits for its time.
        A profile's first version also answers for the moments before it (a back-dated event, an import's
        reported moment): nothing else was in force then, and it sorts after every later version in force.
        """
        return self.filter(models.Q(effective_from__lte=at) | models.Q(version=1)).order_by(*IN_FORCE_ORDER)


class PolicyVersion(models.Model):
    """One immutable version of a profile's numbers; an approved policy proposal adds a version.

    A version is in force from `effective_from` until the next version's time comes (`objects.in_force`).
    """

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
    # From when the version is in force; versions before this one keep deciding until then.
    effective_from = models.DateTimeField(_("in force from"), default=timezone.now)
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
    promise_grace_days = models.PositiveIntegerField(_("promise grace (days)"), default=1)
    # A promise lies at most this many days ahead of the day it is made, and pauses escalation no longer.
    promise_horizon_days = models.PositiveIntegerField(
        _("promise horizon (days)"), default=DEFAULT_PROMISE_HORIZON_DAYS
    )
    # Family-contact eligibility.
    family_min_dpd = models.PositiveIntegerField(_("family contact from DPD"), default=30)
    failed_attempts_min = models.PositiveIntegerField(_("failed attempts"), default=5)
    failed_attempt_days_min = models.PositiveIntegerField(_("on distinct days"), default=3)
    failed_attempts_window_days = models.PositiveIntegerField(_("failed attempts window (days)"), default=14)
    broken_promises_min = models.PositiveIntegerField(_("broken promises"), default=2)
    broken_promises_window_days = models.PositiveIntegerField(_("broken promises window (days)"), default=60)
    # Rule 2 keeps only its unreachable half (failed attempts): refusals and broken promises no longer count.
    # The cn floor requires it (NIFA: family contact only when the borrower cannot be reached).
    family_only_when_unreachable = models.BooleanField(
        _("family contact only when the borrower cannot be reached"), default=False
    )
    contact_interval_days = models.PositiveIntegerField(_("days between messages to one contact"), default=7)
    contact_once_only = models.BooleanField(_("each third party contacted once"), default=False)
    max_contacts_per_borrower = models.PositiveIntegerField(_("different contacts per borrower per window"), default=3)
    contacts_window_days = models.PositiveIntegerField(_("different contacts window (days)"), default=30)
    approval_send_hours = models.PositiveIntegerField(_("hours to send after approval"), default=72)
    decision_expiry_days = models.PositiveIntegerField(_("days to decide"), default=7)
    queue_overdue_hours = models.PositiveIntegerField(_("queue overdue after (hours)"), default=24)
    # A complaint is answered within this many days of filing (cn: 15; uk: 8 weeks, DISP 1.6; us: 15).
    complaint_deadline_days = models.PositiveIntegerField(_("days to answer a complaint"), default=15)
    # The personal data of an account closed this many years ago is erased (DOMAIN.md: default 5 years).
    retention_years = models.PositiveIntegerField(_("years to keep a closed account's personal data"), default=5)
    # A data-subject request (PIPL arts. 44-47) is decided within this many days of receipt.
    privacy_request_deadline_days = models.PositiveIntegerField(_("days to decide a data-subject request"), default=15)
    # Content firewall.
    firewall_mode = models.CharField(
        _("firewall"), max_length=16, choices=FirewallMode, default=FirewallMode.CN_DEFAULT
    )
    service_hotlines = models.JSONField(_("service hotlines"), default=list, blank=True)
    product_names = models.JSONField(_("product names"), default=list, blank=True)
    lender_name = models.CharField(_("lender name"), max_length=100, default="")
    # The opt-out line of each message language (OPT_OUT_LINE_FIELDS): a message ends with the line in its own.
    opt_out_line = models.CharField(_("opt-out line (Chinese)"), max_length=50, default="回复TD退订")
    opt_out_line_en = models.CharField(_("opt-out line (English)"), max_length=50, default="Reply STOP to opt out")
    # The ladder's borrower templates are the ones in this language.
    message_language = models.CharField(
        _("message language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    # Which purposes may reveal which field (`account_rules.reveal_purposes_checked`): revealable kind -> purposes.
    reveal_purposes = models.JSONField(_("reveal purposes per field"), default=_default_reveal_purposes)

    objects = PolicyVersionQuerySet.as_manager()

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
            # Every family message ends with an opt-out line, in whichever language it is written.
            models.CheckConstraint(
                condition=~models.Q(opt_out_line="") & ~models.Q(opt_out_line_en=""),
                name="policy_opt_out_lines_set",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    *(
                        models.Q(**{f"{name}__gte": low, f"{name}__lte": high})
                        for name, (low, high) in NUMBER_BOUNDS.items()
                    )
                ),
                name="policy_numbers_within_the_calendar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile.code} v{self.version}"

    def clean(self) -> None:
        """Each count of days or hours within NUMBER_BOUNDS, each ladder day list a list of DPDs within ten years;
        and no value below a legal floor of the profile's kind (`legal_floors`), nor free text the firewall refuses.
        """
        errors: dict[str, list[str]] = {}
        if self.profile_id is not None:
            errors.update(legal_floor_errors(self.profile.kind, self))
        for name, (low, high) in NUMBER_BOUNDS.items():
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                errors[name] = [_("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}]
        for name in DAY_LIST_FIELDS:
            days = getattr(self, name)
            if not isinstance(days, list) or not all(
                type(day) is int and -TEN_YEARS <= day <= TEN_YEARS for day in days
            ):
                errors[name] = [
                    _("Enter a list of whole numbers from %(low)d to %(high)d.")
                    % {"low": -TEN_YEARS, "high": TEN_YEARS}
                ]
        try:
            reveal_purposes_checked(self.reveal_purposes)
        except (TypeError, ValueError, AttributeError):
            errors["reveal_purposes"] = [
                _("Name every revealable field (%(fields)s) with at least one known purpose (%(purposes)s).")
                % {"fields": ", ".join(REVEALABLE_KINDS), "purposes": ", ".join(RevealPurpose.values)}
            ]
        if errors:
            raise ValidationError(errors)

    def opt_out_line_for(self, language: str) -> str:
        """The opt-out line in `language`; in the profile's message language when it has none in that one."""
        field = OPT_OUT_LINE_FIELDS.get(language) or OPT_OUT_LINE_FIELDS[self.message_language]
        return getattr(self, field)


# The field holding the opt-out line of each message language (settings.LANGUAGES).
OPT_OUT_LINE_FIELDS = {"zh-hans": "opt_out_line", "en": "opt_out_line_en"}
