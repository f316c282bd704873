"""The password-reset link: e-mailed when a `reset_password` access change is approved, used once by its user.

Nobody else sees it. It goes through Django's e-mail backend (the console in the demo) to the address on the
user's record, which the admin cannot change; neither the access change, the admin nor the audit log holds it.
The token is Django's `PasswordResetTokenGenerator`'s, bound to the password hash and the last sign-in: it stops
working once the password is set (or a newer reset replaces the hash), and after PASSWORD_RESET_TIMEOUT
(24 hours). The set-password page is Django's `PasswordResetConfirmView`, which moves the token out of the URL
into the session before showing the form; the page audits each password set and each refused link.
"""

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.mail import send_mail
from django.db import transaction
from django.forms import Form
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from audit.record import audit_record

logger = logging.getLogger(__name__)


def _link(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("access:password_set", kwargs={"uidb64": uidb64, "token": token})


def _send(user: User, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [user.email])
    except (smtplib.SMTPException, OSError):
        # The approval stands (the old password is gone); the failure is logged and audited, so a new reset follows.
        logger.exception("password-reset e-mail to user %s could not be sent", user.pk)
        audit_record(
            action="password_reset",
            outcome="failed",
            object_type="user",
            object_id=user.pk,
            detail={"step": "link_not_sent"},
        )


def password_reset_link_send(*, user: User) -> None:
    """E-mail `user` a single-use link to set a password, once the caller's transaction commits.

    Made now, from the password hash just saved; sent after commit, so a rolled-back approval sends nothing.
    """
    link = _link(user)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Family-Contact Review: set your password")
        body = render_to_string("registration/password_reset_email.txt", {"user": user, "link": link, "hours": hours})
    transaction.on_commit(lambda: _send(user, subject, body))


class PasswordSetView(PasswordResetConfirmView):
    """The link's page: a new password for an active user whose token holds; anything else is a refused link."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("access:password_set_done")
    post_reset_login = False

    def get_user(self, uidb64: str) -> User | None:
        """The link's user, if active: a deactivated user's link is refused."""
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """The page's context; a refused link is audited (the token and the uid never are)."""
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            user = self.user
            audit_record(
                action="password_reset",
                outcome="failed",
                object_type="user" if user is not None else "",
                object_id=user.pk if user is not None else "",
                detail={"step": "link_refused"},
            )
        return context

    def form_valid(self, form: Form) -> HttpResponse:
        """Set the password (which spends the link) and audit it, in one transaction."""
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                action="password_reset",
                actor=form.user,
                object_type="user",
                object_id=form.user.pk,
                detail={"step": "password_set"},
            )
        return response
