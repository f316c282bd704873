"""Flags on a borrower that stop direct contact: represented, or a vulnerable customer."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import Borrower


class BorrowerFlag(models.Model):
    """Set and cleared by an officer with a reason; while open, the contact gate refuses the borrower.

    A represented borrower is contacted only through the representative (named here); a vulnerable customer's
    ladder is paused. One open flag of each kind per borrower; the history of earlier ones is kept.
    """

    class Kind(models.TextChoices):
        REPRESENTED = "represented", _("represented")
        VULNERABLE = "vulnerable", _("vulnerable customer")

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    # Who represents the borrower and how to reach them (a lawyer, a debt adviser): required for `represented`.
    representative = models.CharField(_("representative"), max_length=300, blank=True)
    opened_reason = models.TextField(_("reason for setting"), max_length=2000)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("set at"))
    closed_reason = models.TextField(_("reason for clearing"), max_length=2000, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        verbose_name = _("borrower flag")
        verbose_name_plural = _("borrower flags")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["borrower", "kind"],
                condition=models.Q(closed_at__isnull=True),
                name="borrower_flag_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True)
                | (models.Q(closed_by__isnull=False) & ~models.Q(closed_reason="")),
                name="borrower_flag_cleared_with_reason",
            ),
            models.CheckConstraint(condition=~models.Q(opened_reason=""), name="borrower_flag_set_with_reason"),
            models.CheckConstraint(
                condition=~models.Q(kind="represented") | ~models.Q(representative=""),
                name="borrower_flag_names_the_representative",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Borrower')} #{self.borrower_id} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        """Whether the flag is still set."""
        return self.closed_at is None
