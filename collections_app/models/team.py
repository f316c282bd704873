"""What the team lead's dashboard reads: monthly account snapshots and per-officer figures built from them.

A scheduled, set-based job (`collections_app.team.snapshots`) writes all three tables; the dashboard reads only
`OfficerMonthFigure`, whose size grows with officers and months, never with the book. The per-account snapshots
give roll rates and cures (an account's bucket at the end of two months) and the accounts behind each figure.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collections_app.models.accounts import LoanAccount, Portfolio


class AccountMonthSnapshot(models.Model):
    """One account at the end of one month (or as of the job's last run within the month): officer, bucket, balance."""

    # Paid accounts have no DPD and no bucket of DOMAIN.md; the snapshot names them `paid`.
    PAID = "paid"

    # References are valid by construction (the job selects them from the accounts themselves, and accounts,
    # portfolios and users are never deleted: PROTECT everywhere); no per-row check on a million-row insert.
    account = models.ForeignKey(
        LoanAccount, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    # The first day of the month.
    month = models.DateField(_("month"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    bucket = models.CharField(_("bucket"), max_length=8)
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2)
    dpd = models.IntegerField(_("days past due"), null=True, blank=True)
    as_of = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("account month snapshot")
        verbose_name_plural = _("account month snapshots")
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="snapshot_one_per_account_month"),
        ]
        indexes = [models.Index(fields=["month", "officer", "bucket"], name="snapshot_month_officer_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.bucket}"


class OfficerDayActivity(models.Model):
    """What one officer's work produced on one day (lender's time zone): calls, promises, messages, exceptions."""

    day = models.DateField(_("day"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    kind = models.CharField(_("kind"), max_length=32)
    key = models.CharField(_("key"), max_length=48)
    count = models.BigIntegerField(_("count"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("officer day activity")
        verbose_name_plural = _("officer day activity")
        constraints = [
            models.UniqueConstraint(fields=["day", "officer", "kind", "key"], name="day_activity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.officer_id} {self.kind}:{self.key}"


class OfficerMonthFigure(models.Model):
    """One figure of one officer's month: a bucket, a roll from one bucket to another, or a month of activity."""

    month = models.DateField(_("month"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    kind = models.CharField(_("kind"), max_length=32)
    key = models.CharField(_("key"), max_length=48)
    count = models.BigIntegerField(_("count"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("officer month figure")
        verbose_name_plural = _("officer month figures")
        constraints = [
            models.UniqueConstraint(fields=["officer", "month", "kind", "key"], name="month_figure_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.officer_id} {self.kind}:{self.key}"
