"""Audit events for sign-in, failed sign-in and sign-out, from Django's auth signals."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.record import audit_record

# An attempted username is kept (it shows credential stuffing); longer input is cut, passwords never reach here.
MAX_ATTEMPTED_USERNAME = 150


def record_login(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    """`login`: a user signed in."""
    audit_record(action="login", actor=user, object_type="user", object_id=user.pk)


def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """`login_failed`: the attempted username in detail; Django already masks the password, which is dropped."""
    attempted = str(credentials.get("username", ""))[:MAX_ATTEMPTED_USERNAME]
    audit_record(action="login_failed", outcome="failed", detail={"username": attempted})


def record_logout(sender: Any, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    """`logout`: a user signed out (user is None when the session had already expired)."""
    audit_record(action="logout", actor=user, object_type="user" if user else "", object_id=user.pk if user else "")
