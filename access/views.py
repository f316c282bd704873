"""Sign-in: password, then the TOTP second factor for those who need it, enrolment and recovery codes."""

import base64
import datetime
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AccessChange
from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER, TEAM_LEAD, user_roles
from access.security import mfa_pending, user_is_verified, user_needs_mfa
from audit.record import audit_record

NEXT_SESSION_KEY = "_security_next"
# The id of the unconfirmed TOTP device this session's enrolment shows (access.views._pending_device).
ENROL_DEVICE_KEY = "_mfa_enrol_device"
RECOVERY_DEVICE_NAME = "recovery"
LOCKOUT_MESSAGE = _("Too many failed sign-in attempts for this username. Try again in 15 minutes.")


class OtpTokenForm(forms.Form):
    """The second step's single field: a 6-digit authenticator code or a recovery code."""

    otp_token = forms.CharField(
        label=_("Authentication code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_otp_token(self) -> str:
        """Ignore spaces and hyphens people type when copying a code."""
        token = "".join(self.cleaned_data["otp_token"].split()).replace("-", "").lower()
        if not token.isalnum() or len(token) > 16:
            raise forms.ValidationError(_("Enter the code shown by your authenticator app, or a recovery code."))
        return token


def _access_changes_await(user: AbstractBaseUser) -> bool:
    pending = AccessChange.objects.filter(status=AccessChange.Status.PENDING)
    return pending.exclude(requested_by=user).exclude(user=user).exists()


def landing_url(user: AbstractBaseUser | AnonymousUser) -> str:
    """Where a user lands after signing in: their main page by role."""
    roles = user_roles(user)
    if CASE_OFFICER in roles:
        return "/cases/"
    if RISK_APPROVER in roles:
        return "/review/"
    if COMPLIANCE_AUDITOR in roles:
        return "/audit/"
    if TEAM_LEAD in roles:
        return "/team/"
    if user.is_superuser:
        # An access change waiting for this administrator's decision comes first: it is in force only once decided.
        return "/access/changes/" if _access_changes_await(user) else "/admin/"
    # No role yet: the root page says so instead of sending the user into a 403.
    return "/"


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _finish(request: HttpRequest, user: User) -> HttpResponse:
    """The sign-in is complete: clear the failure counter and go where the user was going."""
    axes_reset(username=user.get_username())
    next_url = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, None))
    return redirect(next_url or landing_url(user))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """Axes' lockout page: the same words whether or not the username exists (AXES_LOCKOUT_CALLABLE)."""
    if request.user.is_authenticated:
        # A lockout reached at the second step ends the half-signed-in session too.
        auth_logout(request)
    context = {"form": AuthenticationForm(request), "lockout_message": LOCKOUT_MESSAGE}
    return render(request, "registration/signin.html", context, status=429)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """The password step: fields `username` and `password`."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and not mfa_pending(request.user):
        return redirect(next_url or landing_url(request.user))
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        # login() gives the session a new key, so a key planted before sign-in is worthless.
        auth_login(request, user)
        if next_url:
            request.session[NEXT_SESSION_KEY] = next_url
        if user_needs_mfa(user):
            has_totp = TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
            return redirect("mfa_verify" if has_totp else "mfa_enrol")
        return _finish(request, user)
    return render(request, "registration/signin.html", {"form": form, "next": next_url or ""})


def _verify(user: User, token: str) -> Device | None:
    """The device that accepts `token`: TOTP for digit codes, a recovery code otherwise (each used once)."""
    model = TOTPDevice if token.isdigit() and len(token) in (6, 8) else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


def _complete_second_factor(request: HttpRequest, device: Device, *, method: str) -> None:
    otp_login(request, device)
    # A new session key once the session gains its second factor.
    request.session.cycle_key()
    audit_record(
        action="login", actor=request.user, object_type="user", object_id=request.user.pk, detail={"mfa": method}
    )


@sensitive_post_parameters("otp_token")
@sensitive_variables("token")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step: field `otp_token`, a code from the authenticator app or a recovery code."""
    user = request.user
    if not mfa_pending(user):
        return _finish(request, user)
    if not TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        return redirect("mfa_enrol")
    next_url = _safe_next(request, request.GET.get("next"))
    if next_url:
        request.session[NEXT_SESSION_KEY] = next_url
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return lockout_response(request, None, credentials)
    form = OtpTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"]
        device = _verify(user, token)
        if device is not None:
            _complete_second_factor(
                request, device, method="recovery_code" if isinstance(device, StaticDevice) else "totp"
            )
            return _finish(request, user)
        # A wrong code counts toward the same lockout as a wrong password (and is audited as login_failed).
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, credentials)
        form.add_error("otp_token", _("That code is not valid. Try the current code from your app."))
    return render(request, "registration/mfa_verify.html", {"form": form})


def _qr_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data: URI, so the page needs no inline script or extra request."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def recovery_codes_issue(*, user: User) -> list[str]:
    """Replace the user's recovery codes with a fresh set (each usable once) and return them (audited)."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        audit_record(
            action="update", actor=user, object_type="user", object_id=user.pk, detail={"mfa": "recovery_codes"}
        )
    return codes


def totp_device_enrol(*, user: User, device: TOTPDevice) -> None:
    """Make the verified, previously unconfirmed `device` the user's only authenticator (audited).

    Every other device goes, the pending ones other sessions started included: whatever secret another
    enrolment page showed stops working once this one is confirmed.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(action="update", actor=user, object_type="user", object_id=user.pk, detail={"mfa": "enrolled"})


def _pending_device(request: HttpRequest) -> TOTPDevice:
    """This session's unconfirmed authenticator, made for it: another session (the same password) gets its own.

    The device's id is kept in the (server-side) session, so its secret is shown only to the session that
    started the enrolment; pending devices older than any session can be are deleted on the way.
    """
    user = request.user
    device_id = request.session.get(ENROL_DEVICE_KEY)
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first() if device_id else None
    if device is None:
        stale = timezone.now() - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
        TOTPDevice.objects.filter(user=user, confirmed=False, created_at__lt=stale).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
        request.session[ENROL_DEVICE_KEY] = device.pk
    return device


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: QR code, then one code to confirm; shows the recovery codes once."""
    user = request.user
    has_device = any(True for _ in devices_for_user(user, confirmed=True))
    # Someone with only the password must not swap in their own authenticator.
    if has_device and not user_is_verified(user):
        return redirect("mfa_verify")
    device = _pending_device(request)
    form = OtpTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"]):
            totp_device_enrol(user=user, device=device)
            # The pending secret belongs to this enrolment only: a next one starts with a fresh key.
            del request.session[ENROL_DEVICE_KEY]
            codes = recovery_codes_issue(user=user)
            if not user_is_verified(user):
                _complete_second_factor(request, device, method="totp")
            next_url = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, None)) or landing_url(user)
            axes_reset(username=user.get_username())
            return render(request, "registration/recovery_codes.html", {"codes": codes, "next_url": next_url})
        form.add_error("otp_token", _("That code is not valid. Try the current code from your app."))
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {"form": form, "qr_code": _qr_data_uri(device.config_url), "secret": secret}
    return render(request, "registration/mfa_enrol.html", context)


@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; POST issues a new set (the middleware has already asked for the OTP)."""
    user = request.user
    if request.method == "POST":
        if not user_is_verified(user):
            return redirect("mfa_verify")
        codes = recovery_codes_issue(user=user)
        return render(request, "registration/recovery_codes.html", {"codes": codes, "next_url": landing_url(user)})
    remaining = StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()
    return render(request, "registration/recovery_codes_status.html", {"remaining": remaining})


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The site root: each user's main page by role, or a note that they hold none yet."""
    target = landing_url(request.user)
    if target == "/":
        return render(request, "registration/no_role.html")
    return redirect(target)


@require_POST
@csrf_protect
@never_cache
def signout(request: HttpRequest) -> HttpResponse:
    """End the session on the server (POST only) and return to the sign-in page."""
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    """The admin signs in through the same two-step login as everyone else."""
    next_url = _safe_next(request, request.GET.get("next")) or "/admin/"
    return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")
