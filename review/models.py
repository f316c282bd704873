"""Family-contact requests and the portfolios an approver may review."""

from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collections_app.models import (
    Contact,
    LoanAccount,
    Message,
    PolicyProfile,
    PolicyVersion,
    Portfolio,
    TemplateVersion,
)

JUSTIFICATION_MIN_LENGTH = 20


class FamilyContactRequest(models.Model):
    """An officer's request to send one family contact one message; decided by someone else."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")
        SENT = "sent", _("sent")

    # The only moves a request can make; the database trigger in migration 0002 holds the same table.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SUBMITTED: frozenset(
            {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN, Status.CANCELLED, Status.EXPIRED}
        ),
        Status.APPROVED: frozenset({Status.SENT, Status.CANCELLED, Status.EXPIRED}),
    }
    # Open requests block another request for the same contact (eligibility rule 5).
    OPEN_STATUSES = (Status.SUBMITTED, Status.APPROVED)

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="family_contact_requests")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="family_contact_requests")
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=Message.Channel, default=Message.Channel.SMS)
    justification = models.TextField(
        _("justification"), max_length=2000, validators=[MinLengthValidator(JUSTIFICATION_MIN_LENGTH)]
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.SUBMITTED)
    # Why it was cancelled or expired; the decision's own reason lives in `decision_reason`.
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    evaluation_at_filing = models.JSONField(_("eligibility at filing"), default=dict)
    evaluation_at_decision = models.JSONField(_("eligibility at decision"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), max_length=2000, blank=True)
    message = models.OneToOneField(
        Message, on_delete=models.PROTECT, null=True, blank=True, related_name="family_contact_request"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("family-contact request")
        verbose_name_plural = _("family-contact requests")
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["status", "requested_at", "id"], name="fcr_queue_idx"),
            models.Index(fields=["account", "requested_at"], name="fcr_account_idx"),
        ]
        constraints = [
            # Separation of duties, also for admins and direct SQL.
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="fcr_decider_is_not_requester"),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected", "sent"]) | Q(decided_by__isnull=False),
                name="fcr_decision_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""), name="fcr_rejection_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["cancelled", "expired"]) | ~Q(status_reason=""),
                name="fcr_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "sent"]) | Q(message__isnull=False),
                name="fcr_approval_has_message",
            ),
            # Rule 5 as an invariant: one open request per contact.
            models.UniqueConstraint(
                fields=["contact"], condition=Q(status__in=["submitted", "approved"]), name="fcr_one_open_per_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Family-contact request')} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("review_officer:request_detail", args=[self.account_id, self.pk])

    @property
    def is_open(self) -> bool:
        """Whether the request still awaits a decision or a send."""
        return self.status in self.OPEN_STATUSES


class ApproverPortfolio(models.Model):
    """Grants an approver one portfolio; an approver with neither these nor an all-portfolios grant sees nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_portfolios")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="approvers")
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approver portfolio")
        verbose_name_plural = _("approver portfolios")
        constraints = [models.UniqueConstraint(fields=["user", "portfolio"], name="approver_portfolio_unique")]

    def __str__(self) -> str:
        return f"{self.user} / {self.portfolio}"


class ApproverAllPortfolios(models.Model):
    """The explicit grant of every portfolio, present and future, to an approver (scope fails closed without it).

    An approver holds either this or portfolio rows (`ApproverPortfolio`): the services granting one take the
    other away in the same transaction, so granting a single portfolio narrows an all-portfolios approver.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_all_portfolios"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("all-portfolios grant")
        verbose_name_plural = _("all-portfolios grants")

    def __str__(self) -> str:
        return f"{self.user} / *"


class PolicyProposal(models.Model):
    """A proposed policy change, in force only once a risk approver who did not propose it approves it and its
    effective time comes: new values for fields of a profile (the profile's next version), or another profile
    (of the same kind) for a portfolio.

    `profile` is the profile changed, or for a switch the portfolio's profile when it was filed. Approval records
    the version it added (`policy_version`), or for a switch when the portfolio moved (`applied_at`).
    """

    class Kind(models.TextChoices):
        PROFILE_CHANGE = "profile_change", _("profile change")
        PORTFOLIO_SWITCH = "portfolio_switch", _("portfolio switch")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    profile = models.ForeignKey(PolicyProfile, on_delete=models.PROTECT, related_name="proposals")
    # Field -> proposed value, as JSON (times as "HH:MM:SS"); never personal data.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.PROTECT, null=True, blank=True, related_name="policy_proposals"
    )
    new_profile = models.ForeignKey(
        PolicyProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("new profile")
    )
    effective_from = models.DateTimeField(_("in force from"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("policy proposal")
        verbose_name_plural = _("policy proposals")
        ordering = ["proposed_at", "id"]
        indexes = [models.Index(fields=["status", "proposed_at"], name="policy_proposal_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "approved", "rejected"]), name="pp_status_known"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="profile_change", portfolio__isnull=True, new_profile__isnull=True, applied_at__isnull=True
                )
                & ~Q(changes={})
                | Q(kind="portfolio_switch", portfolio__isnull=False, new_profile__isnull=False, changes={}),
                name="pp_kind_shape",
            ),
            # Four eyes, also for the admin and direct SQL.
            models.CheckConstraint(condition=~Q(decided_by=F("proposed_by")), name="pp_decider_is_not_proposer"),
            models.CheckConstraint(
                condition=Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True)
                | Q(status__in=["approved", "rejected"], decided_by__isnull=False, decided_at__isnull=False),
                name="pp_decision_has_decider",
            ),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reason=""), name="pp_rejection_has_reason"),
            models.CheckConstraint(
                condition=~Q(kind="profile_change", status="approved") | Q(policy_version__isnull=False),
                name="pp_approved_change_has_version",
            ),
            models.CheckConstraint(
                condition=Q(applied_at__isnull=True) | Q(status="approved"), name="pp_applied_only_once_approved"
            ),
        ]

    def __str__(self) -> str:
        label = _("Policy proposal")
        return f"{label} #{self.pk}"
