"""Reads of the complaint register, scoped to the officer's caseload; overdue complaints first."""

import datetime

from django.db.models import Case, QuerySet, Value, When

from collections_app.models import Complaint, LoanAccount
from collections_app.models.complaints import complaint_overdue_q
from collections_app.selectors.accounts import User, get_or_404, loan_accounts_for_user


def _with_overdue(queryset: QuerySet[Complaint], now: datetime.datetime) -> QuerySet[Complaint]:
    """Each complaint marked `overdue`, the overdue ones first, then by deadline."""
    return (
        queryset.annotate(overdue=Case(When(complaint_overdue_q(now), then=Value(True)), default=Value(False)))
        .select_related("account", "owner")
        .order_by("-overdue", "deadline", "pk")
    )


def complaints_for_officer(*, user: User, now: datetime.datetime) -> list[Complaint]:
    """The complaints about the accounts of the officer's caseload, overdue ones first."""
    return list(_with_overdue(Complaint.objects.filter(account__in=loan_accounts_for_user(user)), now))


def complaints_for_account(*, account: LoanAccount, now: datetime.datetime) -> list[Complaint]:
    """The account's complaints (the account already scoped by the caller), overdue ones first."""
    return list(_with_overdue(Complaint.objects.filter(account=account), now))


def complaint_get_for_user(*, user: User, complaint_id: int | str) -> Complaint:
    """A complaint about an account of the officer's caseload; Http404 for any other (or none)."""
    return get_or_404(
        Complaint.objects.filter(account__in=loan_accounts_for_user(user)).select_related("account"),
        complaint_id,
        "complaint",
    )
