"""Data-subject requests (PIPL arts. 44-47): a borrower or a contact asks to access, correct or delete their data, or
objects to its processing; a compliance auditor decides, and the request keeps what was done. A correction of data
the core lending system owns is forwarded to it through an outbox row (`CoreCorrection`)."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import Borrower, Contact, LoanAccount
from collections_app.models.profiles import PolicyVersion

# The longest request text kept: the person's own words, not a file.
REQUEST_TEXT_MAX = 4000


class DataSubjectRequest(models.Model):
    """One request of a borrower (`borrower` set) or of one of their contacts (`contact` set), filed on an account."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("access")
        CORRECTION = "correction", _("correction")
        DELETION = "deletion", _("deletion")
        OBJECTION = "objection", _("objection to processing")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        IN_PROGRESS = "in_progress", _("in progress")
        FULFILLED = "fulfilled", _("fulfilled")
        REFUSED = "refused", _("refused")

    # The account the request was filed on: whose officer sees it, whose profile gives the deadline.
    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="privacy_requests")
    # The subject: exactly one of the two (a database check).
    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, null=True, blank=True, related_name="privacy_requests"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="privacy_requests"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.RECEIVED)
    text = models.TextField(_("the person's words"), max_length=REQUEST_TEXT_MAX)
    # A correction's new values by field (`borrower.name`, `contact.phone`, ...): what the person says is right.
    correction = models.JSONField(_("corrected values"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"))
    deadline = models.DateTimeField(_("deadline"))
    # The profile version whose `privacy_request_deadline_days` set the deadline.
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_role = models.CharField(_("filed in the role"), max_length=32)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons"), max_length=REQUEST_TEXT_MAX, blank=True)
    # What was done, as codes and ids (never values): {"done": [...], ...}; the page explains each code.
    outcome = models.JSONField(_("what was done"), default=dict, blank=True)

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["received", "in_progress", "fulfilled", "refused"]),
                name="privacy_request_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["access", "correction", "deletion", "objection"]),
                name="privacy_request_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(borrower__isnull=False, contact__isnull=True)
                | models.Q(borrower__isnull=True, contact__isnull=False),
                name="privacy_request_one_subject",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["fulfilled", "refused"])
                | (models.Q(decided_by__isnull=False, decided_at__isnull=False) & ~models.Q(decision_reason="")),
                name="privacy_request_decided_with_reasons",
            ),
            # Four eyes: whoever filed a request does not decide it.
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("filed_by")), name="privacy_request_decided_by_another"
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="privacy_request_text_set"),
            models.CheckConstraint(
                condition=models.Q(deadline__gt=models.F("received_at")), name="privacy_request_deadline_after"
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="privacy_request_pending_idx")]

    def __str__(self) -> str:
        return f"{_('Data-subject request')} #{self.pk}"

    @property
    def subject(self) -> str:
        """`borrower` or `contact:<id>`, as the filing form names the subject."""
        return "borrower" if self.contact_id is None else f"contact:{self.contact_id}"

    @property
    def person(self) -> str:
        """The subject as the audit log names a person: `borrower:<id>` or `contact:<id>`."""
        if self.contact_id is None:
            return f"borrower:{self.borrower_id}"
        return f"contact:{self.contact_id}"

    @property
    def is_pending(self) -> bool:
        """Whether the request still awaits its decision."""
        return self.status in PENDING_STATUSES


# Still to be decided: the statuses whose deadline matters.
PENDING_STATUSES = (DataSubjectRequest.Status.RECEIVED, DataSubjectRequest.Status.IN_PROGRESS)


def privacy_request_overdue_q(now: datetime.datetime) -> models.Q:
    """The one rule of an overdue request: its deadline has passed and it is not yet decided."""
    return models.Q(deadline__lt=now, status__in=PENDING_STATUSES)


class CoreCorrection(models.Model):
    """A correction of data the core lending system owns, forwarded to it (`CORE_LENDING_CORRECTIONS`).

    Written in the transaction that fulfils the request; handed over after it commits, once (`forwarded_at`).
    """

    request = models.OneToOneField(DataSubjectRequest, on_delete=models.PROTECT, related_name="core_correction")
    # The new values by field, as the core system receives them.
    fields = models.JSONField(_("corrected values"))
    created_at = models.DateTimeField(_("created at"))
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    # Where it went: `file:<name>` or `console`.
    forwarded_to = models.CharField(_("forwarded to"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("correction forwarded to the core system")
        verbose_name_plural = _("corrections forwarded to the core system")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(forwarded_at__isnull=True) | ~models.Q(forwarded_to=""),
                name="core_correction_forwarded_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Core correction')} #{self.pk}"
