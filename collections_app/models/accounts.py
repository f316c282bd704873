"""Borrowers, their loan accounts and contacts, and what happens on an account."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from stdnum.cn import ric

from audit.bounds import reported_moment_validator
from collections_app.models.profiles import Kind, PolicyProfile

e164_validator = RegexValidator(r"^\+[1-9]\d{6,14}$", _("Enter a phone number in E.164 form, e.g. +8613800000000."))
money_validators = [MinValueValidator(Decimal("0"))]
# Overriding the contact gate when logging a call needs a reason at least this long (CONTRACT.md).
OVERRIDE_REASON_MIN_LENGTH = 20


def resident_id_validator(value: str) -> None:
    """A Chinese resident ID number (GB 11643-1999) in its compact form: 18 characters, a real birth date and
    region, and the check digit right (python-stdnum). It is the only kind of ID number the app keeps."""
    if value != ric.compact(value) or not ric.is_valid(value):
        raise ValidationError(
            _("Enter a valid Chinese resident ID number: 18 characters whose last one is the right check digit."),
            code="invalid_id_number",
        )


class Portfolio(models.Model):
    """A region or product line; its policy profile governs every rule on its accounts."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Never changes (a database trigger refuses it); left blank on creation, it is the profile's.
    kind = models.CharField(_("kind"), max_length=2, choices=Kind, blank=True)
    # Only a profile of the portfolio's kind: `clean`, and a database trigger for any other write.
    policy_profile = models.ForeignKey(PolicyProfile, on_delete=models.PROTECT, related_name="portfolios")

    class Meta:
        verbose_name = _("portfolio")
        verbose_name_plural = _("portfolios")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="portfolio_kind_known")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, with the profile's kind when none was given on creation."""
        self._take_profile_kind()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The portfolio's kind is its profile's (taken from it when left blank on creation)."""
        if self.policy_profile_id is None:
            return
        self._take_profile_kind()
        if self.kind != self.policy_profile.kind:
            raise ValidationError(
                {
                    "policy_profile": _("A %(kind)s portfolio can use only a %(kind)s policy profile.")
                    % {"kind": self.kind}
                }
            )

    def _take_profile_kind(self) -> None:
        if self._state.adding and not self.kind and self.policy_profile_id is not None:
            self.kind = self.policy_profile.kind


class Borrower(models.Model):
    """A person who owes on one or more loan accounts; personal fields are shown masked."""

    PERSONAL_FIELDS = ("name", "phone", "id_number")

    external_ref = models.CharField(_("borrower reference"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    id_number = models.CharField(_("ID number"), max_length=32, blank=True, validators=[resident_id_validator])
    phone = models.CharField(_("phone"), max_length=16, validators=[e164_validator])
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    cease_requested_at = models.DateTimeField(_("asked communication to cease at"), null=True, blank=True)
    # Set when the personal fields were erased in place (retention): the row stays for what refers to it.
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")
        indexes = [models.Index(fields=["phone"], name="borrower_phone_idx")]

    def __str__(self) -> str:
        return f"{_('Borrower')} #{self.pk}"


class LoanAccount(models.Model):
    """A loan as the core lending system reports it; DPD is derived, never stored."""

    account_number = models.CharField(_("account number"), max_length=64, unique=True)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="accounts")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="accounts")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_accounts",
        verbose_name=_("officer"),
    )
    principal = models.DecimalField(_("principal"), max_digits=14, decimal_places=2, validators=money_validators)
    outstanding = models.DecimalField(_("outstanding"), max_digits=14, decimal_places=2, validators=money_validators)
    # Null once nothing is unpaid: a paid account has no DPD.
    oldest_unpaid_due_date = models.DateField(_("oldest unpaid due date"), null=True, blank=True)
    # When the account was paid off (nothing outstanding); cleared if it ever owes again. Retention counts from it.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("loan account")
        verbose_name_plural = _("loan accounts")
        permissions = [("work_loanaccount", _("Can work this loan account"))]
        indexes = [
            models.Index(fields=["oldest_unpaid_due_date"], name="account_due_idx"),
            models.Index(fields=["officer", "oldest_unpaid_due_date"], name="account_officer_due_idx"),
            # The retention job looks only at closed accounts.
            models.Index(fields=["closed_at"], condition=models.Q(closed_at__isnull=False), name="account_closed_idx"),
            # account_review_join_idx (id INCLUDE due date, portfolio, officer) for the review queue's join is
            # created by migration 0011 on PostgreSQL alone: an `include` here would warn on SQLite (W040).
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(outstanding__gte=0), name="account_outstanding_nonnegative"),
            models.CheckConstraint(condition=models.Q(principal__gte=0), name="account_principal_nonnegative"),
            # Closed means paid off: an account that owes again is open again.
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(outstanding=0), name="account_closed_when_paid"
            ),
        ]

    def __str__(self) -> str:
        return self.account_number

    def get_absolute_url(self) -> str:
        return reverse("collections:account_detail", args=[self.pk])


class LoanAccountUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key object permission: an officer's right to work one account."""

    content_object = models.ForeignKey(LoanAccount, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"], name="account_uperm_idx")]


class LoanAccountGroupObjectPermission(GroupObjectPermissionBase):
    """Direct foreign-key group object permission on accounts (kept for guardian's lookups)."""

    content_object = models.ForeignKey(LoanAccount, on_delete=models.CASCADE)


class Contact(models.Model):
    """A family member or emergency contact the borrower registered, with its consent basis."""

    PERSONAL_FIELDS = ("name", "phone")

    class Relationship(models.TextChoices):
        SPOUSE = "spouse", _("spouse")
        PARENT = "parent", _("parent")
        CHILD = "child", _("child")
        SIBLING = "sibling", _("sibling")
        RELATIVE = "relative", _("other relative")
        FRIEND = "friend", _("friend (emergency contact)")
        COLLEAGUE = "colleague", _("colleague (emergency contact)")
        OTHER = "other", _("other emergency contact")

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship)
    phone = models.CharField(_("phone"), max_length=16, validators=[e164_validator])
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    consent_basis = models.CharField(_("consent basis"), max_length=200, blank=True)
    consent_at = models.DateTimeField(
        _("consent recorded at"), null=True, blank=True, validators=[reported_moment_validator]
    )
    # Set when the name and phone were erased in place (a deletion request, retention); the phone then holds
    # `erased:<id>`, never a number, and the number survives only as an `ErasedPhone` HMAC.
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["borrower", "phone"], name="contact_unique_phone_per_borrower"),
        ]
        indexes = [models.Index(fields=["phone"], name="contact_phone_idx")]

    def __str__(self) -> str:
        return f"{_('Contact')} #{self.pk}"


class Payment(models.Model):
    """A payment the core system reported; `reference` makes imports idempotent."""

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="payments")
    paid_at = models.DateTimeField(_("paid at"), validators=[reported_moment_validator])
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")]
        indexes = [models.Index(fields=["account", "paid_at"], name="payment_account_paid_idx")]

    def __str__(self) -> str:
        return self.reference


class PromiseToPay(models.Model):
    """A borrower's promise of an amount by a date; kept or broken is derived from payments."""

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="promises")
    promised_date = models.DateField(_("promised date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-promised_date"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="promise_amount_positive")]

    def __str__(self) -> str:
        return f"{self.account} {self.promised_date}"


class RepaymentPlan(models.Model):
    """Instalments (or an extension) an officer proposes and a team lead decides; kept while they are paid.

    Maker-checker: the officer who proposes a plan (`created_by`) never decides it; the database holds that too.
    An approved or active plan pauses the ladder while no instalment is unpaid past its due date
    (`collections_app.account_rules.plan_kept` and its SQL twin `kept_plan_q`).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        ACTIVE = "active", _("active")
        KEPT = "kept", _("kept")
        BROKEN = "broken", _("broken")
        CANCELLED = "cancelled", _("cancelled")

    class Kind(models.TextChoices):
        INSTALMENTS = "instalments", _("instalments")
        EXTENSION = "extension", _("extension")

    # The only moves a plan can make; the database trigger (migration 0013) holds the same table.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PROPOSED: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
        Status.APPROVED: frozenset({Status.ACTIVE, Status.KEPT, Status.BROKEN, Status.CANCELLED}),
        Status.ACTIVE: frozenset({Status.KEPT, Status.BROKEN, Status.CANCELLED}),
    }
    # In force: approved (nothing paid yet) or active (paid so far); such a plan pauses the ladder while kept.
    IN_FORCE_STATUSES = (Status.APPROVED, Status.ACTIVE)
    # At most one of these per account.
    OPEN_STATUSES = (Status.PROPOSED, Status.APPROVED, Status.ACTIVE)
    # Statuses that say a decision was taken: they carry its time (plans recorded before maker-checker name
    # no decider, so the decider itself is required by the service, and the database only keeps it apart).
    DECIDED_STATUSES = (Status.APPROVED, Status.REJECTED, Status.ACTIVE, Status.KEPT, Status.BROKEN)

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.INSTALMENTS)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PROPOSED)
    # When the borrower agreed to the plan with the officer: the proposal's time.
    agreed_at = models.DateTimeField(_("agreed at"), validators=[reported_moment_validator])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    # The outstanding amount the instalments were compared with, and why their total differs from it, if it does.
    outstanding_at_proposal = models.DecimalField(
        _("outstanding when proposed"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    difference_reason = models.TextField(_("why the total differs from the outstanding"), max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), max_length=1000, blank=True)
    # When it was rejected, kept, broken or cancelled, and why (a missed instalment, a withdrawal).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("repayment plan")
        verbose_name_plural = _("repayment plans")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["proposed", "approved", "active"]),
                name="plan_one_open_per_account",
            ),
            # Maker-checker, also for the admin and direct SQL.
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("created_by")), name="plan_decider_is_not_proposer"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "rejected", "active", "kept", "broken"])
                | models.Q(decided_at__isnull=False),
                name="plan_decision_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decision_reason=""),
                name="plan_decision_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["proposed", "approved", "active"]) | models.Q(closed_at__isnull=False),
                name="plan_closed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "agreed_at"], name="plan_status_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.agreed_at:%Y-%m-%d}"

    @property
    def in_force(self) -> bool:
        """Whether the plan is approved or active (and so pauses the ladder while it is kept)."""
        return self.status in self.IN_FORCE_STATUSES


class PlanInstalment(models.Model):
    """One instalment of a repayment plan."""

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.PROTECT, related_name="instalments")
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True, validators=[reported_moment_validator])

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["due_date"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="instalment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.plan} {self.due_date}"


class Interaction(models.Model):
    """A contact attempt or conversation an officer logs."""

    class Outcome(models.TextChoices):
        PROMISED = "promised", _("reached and promised")
        REFUSED = "refused", _("reached and refused")
        NO_ANSWER = "no_answer", _("no answer")
        WRONG_NUMBER = "wrong_number", _("wrong number")
        DISPUTED = "disputed", _("disputed")
        HARDSHIP = "hardship", _("hardship")

    # Attempts that did not reach the borrower count towards "unreachable".
    FAILED_OUTCOMES = (Outcome.NO_ANSWER, Outcome.WRONG_NUMBER)
    # Outcomes in which the borrower was reached: a conversation.
    CONNECTED_OUTCOMES = (Outcome.PROMISED, Outcome.REFUSED, Outcome.DISPUTED, Outcome.HARDSHIP)

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        SMS = "sms", _("SMS")
        IN_APP = "in_app", _("in-app")
        VISIT = "visit", _("in person")

    OVERRIDE_REASON_MIN_LENGTH = OVERRIDE_REASON_MIN_LENGTH

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="interactions")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Whom the call or visit was to: one of the borrower's contacts, or (empty) the borrower.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="interactions")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, default=Channel.PHONE)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    # Why the officer made a contact the gate refused: the compliance exception's own words.
    override_reason = models.TextField(_("override reason"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["account", "occurred_at"], name="interaction_account_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(override_reason="")
                | models.Q(GreaterThanOrEqual(Length("override_reason"), OVERRIDE_REASON_MIN_LENGTH)),
                name="interaction_override_reason_long_enough",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.get_outcome_display()}"


class Flag(models.Model):
    """A dispute or hardship flag; opening and closing each need a reason."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("dispute")
        HARDSHIP = "hardship", _("hardship")

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    opened_reason = models.TextField(_("reason for opening"), max_length=2000)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    closed_reason = models.TextField(_("reason for closing"), max_length=2000, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"], condition=models.Q(closed_at__isnull=True), name="flag_one_open_per_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True)
                | (models.Q(closed_by__isnull=False) & ~models.Q(closed_reason="")),
                name="flag_closed_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        """Whether the flag is still open."""
        return self.closed_at is None


class UserPreference(models.Model):
    """Per-user choices that follow the user, not the browser (the UI language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"
