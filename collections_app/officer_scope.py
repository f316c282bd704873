"""The officer's scope at the page: a read outside the caseload answers 404, audited as a denied access."""

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404, HttpRequest

from access.roles import CASE_OFFICER
from audit.record import audit_record
from collections_app.models import LoanAccount
from collections_app.selectors.accounts import loan_account_get_for_user

T = TypeVar("T")


def in_officer_scope(
    request: HttpRequest, account_id: int, load: Callable[[], T], object_type: str = "loanaccount"
) -> T:
    """Run a scoped read; a 404 (another officer's account or its objects, or none) is audited as denied.

    `account_id` is the id the URL named, of an `object_type` (an account unless the URL names another object).
    """
    try:
        return load()
    except Http404:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=CASE_OFFICER,
            object_type=object_type,
            object_id=account_id,
            outcome="not_found",
            detail={"path": request.path[:200]},
        )
        raise


def officer_account(request: HttpRequest, account_id: int) -> LoanAccount:
    """The signed-in officer's account with this id; a 404 outside the caseload, audited."""
    return in_officer_scope(request, account_id, lambda: loan_account_get_for_user(request.user, account_id))
