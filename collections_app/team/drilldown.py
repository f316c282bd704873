"""The accounts behind a dashboard figure, always inside the lead's scope.

Bucket, roll and cure figures come from the monthly snapshots; activity figures from that month's interactions,
promises, messages and compliance exceptions of the team's officers; a provider's figures from the provider.
Each answer is a one-column queryset of account ids, intersected with the team's accounts by the caller.
"""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Left

from audit.models import AuditEvent
from collections_app.models import AccountMonthSnapshot, Interaction, LoanAccount, Message, PromiseToPay
from collections_app.team.activity import (
    COMPLIANCE_EXCEPTION,
    MESSAGE_KEYS,
    REASON_KEY_LENGTH,
    RIGHT_PARTY,
    SUPPRESSED_PREFIX,
    activity_providers,
    promises_due,
)
from collections_app.team.dashboard import BUCKET_LABELS, CURED_BUCKETS, OVERDUE_BUCKETS
from collections_app.team.figures import month_shift

BUILT_IN_KINDS = ("bucket", "roll", "cure", "calls", "promises", "messages", "exceptions")


@dataclass(frozen=True)
class FigureQuery:
    """Which figure: its kind and key, its month, and whose (the ids of the team's officers, or of one)."""

    kind: str
    key: str
    month: datetime.date
    officer_ids: list[int]

    @property
    def start(self) -> datetime.datetime:
        """The month's first instant in the lender's time zone."""
        return _midnight(self.month)

    @property
    def end(self) -> datetime.datetime:
        """The next month's first instant."""
        return _midnight(month_shift(self.month, 1))


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def figure_kinds() -> tuple[str, ...]:
    """Every figure kind a link may name: the built-in ones and the providers'."""
    return BUILT_IN_KINDS + tuple(kind for provider in activity_providers() for kind in provider.kinds)


def figure_account_ids(query: FigureQuery) -> QuerySet | list[int] | None:
    """The ids of the accounts behind the figure; None for a kind or key no figure has."""
    builders = {
        "bucket": _bucket,
        "roll": _roll,
        "cure": _cure,
        "calls": _calls,
        "promises": _promises,
        "messages": _messages,
        "exceptions": _exceptions,
    }
    if query.kind in builders:
        return builders[query.kind](query)
    for provider in activity_providers():
        if query.kind in provider.kinds:
            return provider.accounts_behind(
                kind=query.kind, key=query.key, officer_ids=query.officer_ids, start=query.start, end=query.end
            )
    return None


def _snapshots(month: datetime.date, officer_ids: list[int]) -> QuerySet[AccountMonthSnapshot]:
    return AccountMonthSnapshot.objects.filter(month=month, officer_id__in=officer_ids)


def _bucket(query: FigureQuery) -> QuerySet | None:
    if query.key not in BUCKET_LABELS:
        return None
    return _snapshots(query.month, query.officer_ids).filter(bucket=query.key).values("account_id")


def _rolled(query: FigureQuery, before: tuple[str, ...], after: tuple[str, ...]) -> QuerySet:
    previous = AccountMonthSnapshot.objects.filter(
        account_id=OuterRef("account_id"), month=month_shift(query.month, -1), bucket__in=before
    )
    return _snapshots(query.month, query.officer_ids).filter(Exists(previous), bucket__in=after).values("account_id")


def _roll(query: FigureQuery) -> QuerySet | None:
    before, _, after = query.key.partition(">")
    if before not in BUCKET_LABELS or after not in BUCKET_LABELS:
        return None
    return _rolled(query, (before,), (after,))


def _cure(query: FigureQuery) -> QuerySet | None:
    if query.key == "cured":
        return _rolled(query, OVERDUE_BUCKETS, CURED_BUCKETS)
    if query.key == "overdue":
        return _rolled(query, OVERDUE_BUCKETS, tuple(BUCKET_LABELS))
    return None


def _calls(query: FigureQuery) -> QuerySet | None:
    calls = Interaction.objects.filter(
        officer_id__in=query.officer_ids,
        channel=Interaction.Channel.PHONE,
        occurred_at__gte=query.start,
        occurred_at__lt=query.end,
    )
    if query.key == "connected":
        calls = calls.filter(RIGHT_PARTY)
    elif query.key != "attempts":
        return None
    return calls.values("account_id")


def _promises(query: FigureQuery) -> QuerySet | list[int] | None:
    if query.key == "made":
        return PromiseToPay.objects.filter(
            created_by_id__in=query.officer_ids, created_at__gte=query.start, created_at__lt=query.end
        ).values("account_id")
    if query.key not in ("kept", "broken"):
        return None
    # Kept or broken is derived from payments (account_rules.promise_status), so the month's promises are judged
    # in Python; they are the team's promises of one month, a bounded set.
    due = promises_due(query.month, month_shift(query.month, 1), officer_ids=query.officer_ids)
    return sorted({promise.account_id for promise, result in due if str(result.status) == query.key})


def _messages(query: FigureQuery) -> QuerySet | None:
    messages = Message.objects.filter(
        account__officer_id__in=query.officer_ids, created_at__gte=query.start, created_at__lt=query.end
    )
    statuses = [status for status, key in MESSAGE_KEYS.items() if key == query.key]
    if statuses:
        return messages.filter(status__in=statuses).values("account_id")
    if query.key.startswith(SUPPRESSED_PREFIX):
        reason = query.key.removeprefix(SUPPRESSED_PREFIX)
        suppressed = messages.filter(status=Message.Status.SUPPRESSED).annotate(
            reason_key=Left("status_reason", REASON_KEY_LENGTH)
        )
        reason_q = Q(reason_key="") | Q(reason_key__isnull=True) if reason == "-" else Q(reason_key=reason)
        return suppressed.filter(reason_q).values("account_id")
    return None


def _exceptions(query: FigureQuery) -> QuerySet | None:
    if query.key != COMPLIANCE_EXCEPTION:
        return None
    interaction_ids = [
        int(object_id)
        for object_id in AuditEvent.objects.filter(
            action=COMPLIANCE_EXCEPTION,
            actor_id__in=query.officer_ids,
            object_type="interaction",
            occurred_at__gte=query.start,
            occurred_at__lt=query.end,
        ).values_list("object_id", flat=True)
        if object_id.isdigit()
    ]
    return Interaction.objects.filter(pk__in=interaction_ids).values("account_id")


def figure_accounts(scope: QuerySet[LoanAccount], query: FigureQuery) -> QuerySet[LoanAccount] | None:
    """The accounts of `scope` behind the figure; None when no figure has that kind and key."""
    ids = figure_account_ids(query)
    if ids is None:
        return None
    return scope.filter(pk__in=ids)
