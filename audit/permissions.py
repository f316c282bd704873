"""Who may read the audit log: whoever holds `audit.view_auditevent` through a group.

Granted to the `compliance_auditor` group (access/migrations). Only group permissions count, read here
rather than through `user.has_perm`: Django's ModelBackend gives a superuser every permission, and
superusers hold no role (CONTRACT.md: they administer through /admin/, not the auditor's pages).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from audit.record import audit_record

VIEW_AUDIT_LOG = "audit.view_auditevent"
# The role recorded on the auditor's own events: the group `access.roles.COMPLIANCE_AUDITOR` names (audit
# may not import access; tests/audit/test_auditor_permission.py holds the two equal).
AUDITOR_ROLE = "compliance_auditor"


def user_can_audit(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether an active user holds `audit.view_auditevent` through one of their groups; cached on the user."""
    if not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_can_audit", None)
    if cached is None:
        app_label, codename = VIEW_AUDIT_LOG.split(".")
        cached = Permission.objects.filter(
            group__user=user, content_type__app_label=app_label, codename=codename
        ).exists()
        user._can_audit = cached
    return cached


View = Callable[..., HttpResponse]


def access_required(*, allowed: Callable[[AbstractBaseUser], bool], role: str) -> Callable[[View], View]:
    """Decorate a view: anonymous users go to login; users `allowed` refuses get 403 and a `permission_denied`
    event naming the role they lacked; the others act in `role`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user):
                audit_record(
                    action="permission_denied",
                    actor=request.user,
                    outcome="denied",
                    detail={"path": request.path[:200], "required_role": role},
                )
                raise PermissionDenied
            request.acting_role = role
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# An auditor's page: the permission through a group, or 403 (audited).
auditor_required = access_required(allowed=user_can_audit, role=AUDITOR_ROLE)
