"""Sign-in security: session lifetimes, the MFA requirement, ending a user's sessions."""

import time
from collections.abc import Callable
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import user_has_device

from access.roles import COMPLIANCE_AUDITOR, RISK_APPROVER, TEAM_LEAD, user_roles
from audit.record import audit_record

# Session keys this module owns.
AUTH_AT_KEY = "_security_auth_at"
LAST_SEEN_KEY = "_security_last_seen"
# The idle clock is refreshed at most this often, so a page view does not always cost a session write.
LAST_SEEN_RESOLUTION = 60

MFA_ROLES = frozenset({RISK_APPROVER, COMPLIANCE_AUDITOR, TEAM_LEAD})

# Pages an authenticated but not yet OTP-verified user may still reach.
_MFA_EXEMPT_PREFIXES = ("/accounts/login/", "/accounts/mfa/", "/accounts/logout/", "/hooks/")
_MFA_EXEMPT_EXACT = ("/healthz", "/readyz")


def user_needs_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether `user` must pass a TOTP second factor: the MFA roles and superusers, unless demo mode."""
    if settings.DEMO_SKIP_MFA or not user.is_authenticated:
        return False
    return bool(user.is_superuser or MFA_ROLES & user_roles(user))


def user_is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether this request's session passed the second factor (django-otp's OTPMiddleware sets it)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def mfa_pending(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the signed-in user still owes the second factor in this session."""
    return user_needs_mfa(user) and not user_is_verified(user)


def _is_mfa_exempt(path: str) -> bool:
    return (
        path in _MFA_EXEMPT_EXACT
        or path.startswith(_MFA_EXEMPT_PREFIXES)
        or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
    )


class SessionTimeoutMiddleware:
    """End a session after SESSION_IDLE_TIMEOUT without requests or SESSION_ABSOLUTE_TIMEOUT after sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            auth_at = session.get(AUTH_AT_KEY)
            last_seen = session.get(LAST_SEEN_KEY, auth_at)
            if auth_at is None:
                # A session made without the login signal (e.g. before this module loaded) starts its clocks now.
                session[AUTH_AT_KEY] = session[LAST_SEEN_KEY] = now
            elif now - auth_at >= settings.SESSION_ABSOLUTE_TIMEOUT or now - last_seen >= settings.SESSION_IDLE_TIMEOUT:
                # logout() flushes the session on the server and sends user_logged_out, which the audit log records.
                logout(request)
                return redirect_to_login(request.get_full_path())
            elif now - last_seen >= LAST_SEEN_RESOLUTION:
                session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class MfaRequiredMiddleware:
    """Send a signed-in user who owes the second factor to /accounts/mfa/ (or enrolment) for every other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _is_mfa_exempt(request.path_info) and mfa_pending(request.user):
            target = reverse("mfa_verify") if user_has_device(request.user) else reverse("mfa_enrol")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class AdminStaffOnlyMiddleware:
    """A signed-in user who is not active staff gets 403 (audited) at /admin/, not the admin's login redirect.

    The admin sends such a user to its login page, which leads to the one sign-in, which sends a signed-in user
    back to /admin/: a loop. Anonymous users still go to the sign-in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if request.path_info.startswith("/admin/") and user.is_authenticated and not (user.is_active and user.is_staff):
            audit_record(
                action="permission_denied",
                actor=user,
                outcome="denied",
                detail={"path": request.path[:200], "required": "staff"},
            )
            raise PermissionDenied
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="access.security.start_session_clocks")
def _start_session_clocks(sender: type, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[AUTH_AT_KEY] = now
        request.session[LAST_SEEN_KEY] = now


@receiver(user_locked_out, dispatch_uid="access.security.audit_lockout")
def _audit_lockout(sender: str, request: HttpRequest, username: str | None, **kwargs: Any) -> None:
    # Only a known account is named (as the actor): a typo'd or guessed username may be anything, even a password.
    known = User.objects.filter(username=username).first() if username else None
    audit_record(
        action="lockout",
        actor=known,
        outcome="denied",
        detail={"username_known": known is not None, "cooloff_minutes": _cooloff_minutes()},
    )


def _cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def user_sessions_end(*, user: User) -> int:
    """Delete every live server-side session of `user`; returns how many were ended."""
    ended = 0
    user_id = str(user.pk)
    # Sessions are few (30 minutes idle), so decoding the live ones is cheaper than keeping an index of them.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == user_id:
            session.delete()
            ended += 1
    return ended


def database_audit_silence(tag: str) -> None:
    """Tell the database's group and flag audit trigger (access migration 0004) that the app audits this change.

    Set for the current transaction only (`set_config(..., true)`); `tag` names the change, "" ends the silence.
    Only PostgreSQL has that trigger.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.access_change', %s, true)", [tag])


def user_deactivate(*, user: User, actor: User | None) -> int:
    """Deactivate `user` and end all their sessions at once (audited); returns how many sessions ended."""
    with transaction.atomic():
        database_audit_silence(f"user_deactivate:{user.pk}")
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = user_sessions_end(user=user)
        audit_record(
            action="update",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            fields=["is_active"],
            detail={"is_active": False, "sessions_ended": ended},
        )
        database_audit_silence("")
    return ended
