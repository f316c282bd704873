"""Audit events for sign-in, failed sign-in and sign-out, from Django's auth signals; partitions made ahead
after `migrate`."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.partitions import MONTHS_AHEAD_ON_MIGRATE, add_months, is_partitioned, lender_month, partitions_make
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


def make_partitions_ahead(sender: Any, using: str, **kwargs: Any) -> None:
    """After `migrate` (which runs as the schema owner): this month's and the coming months' partitions."""
    if is_partitioned(using):
        this_month = lender_month()
        partitions_make(first=this_month, last=add_months(this_month, MONTHS_AHEAD_ON_MIGRATE), using=using)
