"""Teams of officers and four-eyed access changes: who may do what changes only by two administrators."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A team lead's officers; membership changes are access changes."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams_led",
        verbose_name=_("team lead"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class AccessChange(models.Model):
    """One change of who may do what: requested by one superuser, in force once a second one approves it."""

    class Kind(models.TextChoices):
        GRANT_ROLE = "grant_role", _("grant role")
        REVOKE_ROLE = "revoke_role", _("revoke role")
        GRANT_PORTFOLIO = "grant_portfolio", _("grant portfolio")
        REVOKE_PORTFOLIO = "revoke_portfolio", _("revoke portfolio")
        GRANT_ALL_PORTFOLIOS = "grant_all_portfolios", _("grant all portfolios")
        ADD_TO_TEAM = "add_to_team", _("add to team")
        REMOVE_FROM_TEAM = "remove_from_team", _("remove from team")
        SET_STAFF = "set_staff", _("set staff")
        SET_SUPERUSER = "set_superuser", _("set superuser")
        RESET_PASSWORD = "reset_password", _("reset password")
        RESET_MFA = "reset_mfa", _("reset MFA")
        DEACTIVATE = "deactivate", _("deactivate")
        REACTIVATE = "reactivate", _("reactivate")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_changes", verbose_name=_("user")
    )
    kind = models.CharField(_("change"), max_length=32, choices=Kind.choices)
    role = models.CharField(_("role"), max_length=32, blank=True)
    # A portfolio code, not a foreign key: access depends on no other app's models (portfolios live in collections_app).
    portfolio = models.CharField(_("portfolio"), max_length=60, blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team"))
    # The flag's new value for set_staff and set_superuser.
    value = models.BooleanField(_("value"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_changes_requested"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_changes_decided",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]), name="access_change_status_valid"
            ),
            models.CheckConstraint(condition=~Q(requested_by=F("user")), name="access_change_not_self_requested"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("user")), name="access_change_not_self_decided"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="access_change_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True)
                | Q(~Q(status="pending"), decided_by__isnull=False),
                name="access_change_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id} ({self.status})"
