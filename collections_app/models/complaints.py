"""The complaint register: what a borrower or a contact complained of, its owner, deadline, status, resolution."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import Contact, LoanAccount

# The longest complaint text kept: the complainant's own words, not a file.
COMPLAINT_TEXT_MAX = 4000


class Complaint(models.Model):
    """One complaint about an account, from its borrower or one of their contacts (`contact` set)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("letter")
        IN_PERSON = "in_person", _("in person")
        REGULATOR = "regulator", _("through the regulator")

    class Category(models.TextChoices):
        UNWANTED_CONTACT = "unwanted_contact", _("unwanted contact")
        CONDUCT = "conduct", _("staff conduct")
        AMOUNT = "amount", _("amount owed")
        PRIVACY = "privacy", _("privacy")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")

    account = models.ForeignKey(LoanAccount, on_delete=models.PROTECT, related_name="complaints")
    # The complainant: the account's borrower when empty, else this contact of theirs.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    category = models.CharField(_("category"), max_length=16, choices=Category)
    text = models.TextField(_("the complainant's words"), max_length=COMPLAINT_TEXT_MAX)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"))
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.OPEN)
    resolution = models.TextField(_("resolution"), max_length=COMPLAINT_TEXT_MAX, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "in_progress", "resolved", "closed"]),
                name="complaint_status_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "closed"])
                | (~models.Q(resolution="") & models.Q(resolved_at__isnull=False)),
                name="complaint_resolved_with_resolution",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_at__isnull=False),
                name="complaint_closed_with_moment",
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="complaint_text_set"),
            models.CheckConstraint(
                condition=models.Q(deadline__gt=models.F("filed_at")), name="complaint_deadline_after_filing"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Complaint')} #{self.pk}"

    @property
    def complainant(self) -> str:
        """`borrower` or `contact:<id>`, as the filing form names the complainant."""
        return "borrower" if self.contact_id is None else f"contact:{self.contact_id}"


# Still to be answered: the statuses whose deadline matters.
PENDING_STATUSES = (Complaint.Status.OPEN, Complaint.Status.IN_PROGRESS)


def complaint_overdue_q(now: datetime.datetime) -> models.Q:
    """The one rule of an overdue complaint: its deadline has passed and it is neither resolved nor closed."""
    return models.Q(deadline__lt=now, status__in=PENDING_STATUSES)
