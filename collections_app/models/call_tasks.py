"""Phone-call tasks the reminder ladder creates for officers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import LoanAccount
from collections_app.models.profiles import PolicyVersion


class CallTask(models.Model):
    """Call the borrower of one account on one day; at most one per account per day."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    # Lookups by account and by officer use the unique constraint and `calltask_officer_idx`. Every reference
    # is checked once per statement by triggers, not per row (migrations 0008, 0010): escalation inserts
    # a million tasks at once.
    account = models.ForeignKey(
        LoanAccount, on_delete=models.PROTECT, related_name="call_tasks", db_index=False, db_constraint=False
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call_tasks",
        db_index=False,
        db_constraint=False,
    )
    due_date = models.DateField(_("due date"))
    dpd = models.IntegerField(_("days past due when created"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.OPEN)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="call_tasks", db_index=False, db_constraint=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone-call task")
        verbose_name_plural = _("phone-call tasks")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["officer", "status", "due_date"], name="calltask_officer_idx")]
        constraints = [
            models.UniqueConstraint(fields=["account", "due_date"], name="calltask_one_per_account_per_day"),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | (~models.Q(status="open") & models.Q(closed_at__isnull=False)),
                name="calltask_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.due_date}"
