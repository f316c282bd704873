"""Reads of data-subject requests: every request for a compliance auditor (pending first, overdue ones before the
rest), an account's pending requests for its page."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Case, QuerySet, Value, When

from access.roles import COMPLIANCE_AUDITOR, user_has_role
from collections_app.models import DataSubjectRequest, LoanAccount
from collections_app.models.privacy import PENDING_STATUSES, privacy_request_overdue_q
from collections_app.selectors.accounts import User, get_or_404

# The most requests the auditor's list shows at once (the pending ones come first).
LIST_LIMIT = 200


def _require_auditor(user: User) -> None:
    if not user_has_role(user, COMPLIANCE_AUDITOR):
        raise PermissionDenied


def _ordered(queryset: QuerySet[DataSubjectRequest], now: datetime.datetime) -> QuerySet[DataSubjectRequest]:
    """Each request marked `pending` and `overdue`: pending first, the overdue ones before them, then by deadline."""
    return (
        queryset.annotate(
            pending=Case(When(status__in=PENDING_STATUSES, then=Value(True)), default=Value(False)),
            overdue=Case(When(privacy_request_overdue_q(now), then=Value(True)), default=Value(False)),
        )
        .select_related("account", "contact")
        .order_by("-pending", "-overdue", "deadline", "pk")
    )


def privacy_requests_for_auditor(
    *, user: User, now: datetime.datetime, status: str = "", limit: int = LIST_LIMIT
) -> list[DataSubjectRequest]:
    """Every request (of `status`, when given), for a compliance auditor; pending and overdue ones first."""
    _require_auditor(user)
    queryset = DataSubjectRequest.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return list(_ordered(queryset, now)[:limit])


def privacy_requests_pending_for_account(*, account: LoanAccount, now: datetime.datetime) -> list[DataSubjectRequest]:
    """The account's requests still to be decided (the account already scoped by the caller), overdue ones first."""
    return list(_ordered(DataSubjectRequest.objects.filter(account=account, status__in=PENDING_STATUSES), now))


def privacy_request_get_for_auditor(*, user: User, request_id: int | str) -> DataSubjectRequest:
    """One request, for a compliance auditor; Http404 when there is none with this id."""
    _require_auditor(user)
    queryset = DataSubjectRequest.objects.select_related(
        "account__borrower", "account__portfolio", "contact", "filed_by", "decided_by", "policy_version__profile"
    )
    return get_or_404(queryset, request_id, "request")
