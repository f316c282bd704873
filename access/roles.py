"""Roles are Django groups; this module is the one place that names them and checks them."""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpResponse

from audit.permissions import access_required

CASE_OFFICER = "case_officer"
RISK_APPROVER = "risk_approver"
COMPLIANCE_AUDITOR = "compliance_auditor"
TEAM_LEAD = "team_lead"
ALL_ROLES = (CASE_OFFICER, RISK_APPROVER, COMPLIANCE_AUDITOR, TEAM_LEAD)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The roles a user holds (superusers hold none implicitly); cached on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._role_names = cached
    return cached


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    """Whether the user holds `role` through group membership."""
    return role in user_roles(user)


def role_required(role: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view: anonymous users go to login, users without `role` get 403 (audited)."""
    return access_required(allowed=lambda user: user_has_role(user, role), role=role)
