"""Audit events for sign-in, failed sign-in and sign-out, from Django's auth signals; partitions made ahead
after `migrate`."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.partitions import MONTHS_AHEAD_ON_MIGRATE, add_months, is_partitioned, lender_month, partitions_make
from audit.record import audit_record, keyed_hash

# What `keyed_hash` is salted with for attempted usernames.
ATTEMPTED_USERNAME_PURPOSE = "login_failed.username"


def record_login(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    """`login`: a user signed in."""
    audit_record(action="login", actor=user, object_type="user", object_id=user.pk)


def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """`login_failed`: a keyed hash of the attempted username, never the text; the password is dropped.

    What was typed as a username may be anything, a password in the wrong field too: the hash still shows one
    username tried again and again (credential stuffing). An existing account is named as the object, by id.
    """
    attempted = str(credentials.get("username", ""))
    known = get_user_model().objects.filter(username=attempted).values_list("pk", flat=True).first()
    audit_record(
        action="login_failed",
        outcome="failed",
        object_type="user" if known is not None else "",
        object_id=known if known is not None else "",
        detail={"username_hmac": keyed_hash(attempted, purpose=ATTEMPTED_USERNAME_PURPOSE)},
    )


def record_logout(sender: Any, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    """`logout`: a user signed out (user is None when the session had already expired)."""
    audit_record(action="logout", actor=user, object_type="user" if user else "", object_id=user.pk if user else "")


def make_partitions_ahead(sender: Any, using: str, **kwargs: Any) -> None:
    """After `migrate` (which runs as the schema owner): this month's and the coming months' partitions."""
    if is_partitioned(using):
        this_month = lender_month()
        partitions_make(first=this_month, last=add_months(this_month, MONTHS_AHEAD_ON_MIGRATE), using=using)
