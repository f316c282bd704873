"""One day of each officer's activity, counted by the nightly job: calls, promises, messages, compliance exceptions.

Each kind is one grouped query over that day's rows (PostgreSQL reads them through BRIN indexes on their time,
migration 0013), so the job's cost follows the day's activity, not the book. Other apps add their own kinds
through the providers named in the `TEAM_ACTIVITY_PROVIDERS` setting (review counts family-contact requests),
as `ACCOUNT_PAGE_PANELS` adds to the account page: collections_app never imports them.
"""

import datetime
import functools
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.models import AuditEvent
from collections_app import account_rules as rules
from collections_app.dpd import lender_today
from collections_app.models import Interaction, Message, Payment, PolicyVersion, PromiseToPay
from collections_app.selectors.accounts import promise_terms_of, promise_terms_subqueries
from collections_app.team.figures import FigureLink, FigureTable

# How much of a suppression reason names its figure (OfficerDayActivity.key holds 48 characters).
REASON_KEY_LENGTH = 40
# The message statuses each figure counts; a suppressed message counts under `suppressed:<reason>`.
MESSAGE_KEYS = {
    Message.Status.SENT: "sent",
    Message.Status.DELIVERED: "sent",
    Message.Status.FAILED: "failed",
    Message.Status.QUEUED: "pending",
    Message.Status.WAITING: "pending",
    Message.Status.SENDING: "pending",
}
SUPPRESSED_PREFIX = "suppressed:"
COMPLIANCE_EXCEPTION = "compliance_exception"


@dataclass(frozen=True)
class ActivityRow:
    """One officer's count (and amount) of one figure on one day."""

    officer_id: int
    kind: str
    key: str
    count: int
    amount: Decimal = Decimal("0")


@dataclass(frozen=True)
class DayWindow:
    """A day in the lender's time zone and the instants that bound it."""

    day: datetime.date
    start: datetime.datetime
    end: datetime.datetime


def day_window(day: datetime.date) -> DayWindow:
    """The lender's day `day`, from its midnight to the next."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return DayWindow(day, start, end)


class TeamActivityProvider(Protocol):
    """Another app's figures on the team lead's dashboard: counted each night, shown in its own section."""

    # The partial that renders the dashboard section from `section` (the context `section_context` returns).
    section_template: str
    # The figure kinds it counts; the dashboard's links to the accounts behind a figure name one of them.
    kinds: tuple[str, ...]

    def day_rows(self, window: DayWindow) -> Iterable[ActivityRow]:
        """Its figures for one day, per officer, in a fixed number of queries."""
        ...

    def section_context(self, months: list[datetime.date], figures: FigureTable, link: FigureLink) -> dict[str, Any]:
        """The section's context from the month figures, oldest month first; `link` leads to a figure's accounts."""
        ...

    def accounts_behind(
        self, *, kind: str, key: str, officer_ids: list[int], start: datetime.datetime, end: datetime.datetime
    ) -> QuerySet | None:
        """The ids of the accounts behind one of its figures in [start, end) (a one-column queryset); None for a key
        it does not count."""
        ...


@functools.cache
def _load(paths: tuple[str, ...]) -> tuple[TeamActivityProvider, ...]:
    return tuple(import_string(path)() for path in paths)


def activity_providers() -> tuple[TeamActivityProvider, ...]:
    """The providers named in TEAM_ACTIVITY_PROVIDERS, imported once per list of names."""
    return _load(tuple(getattr(settings, "TEAM_ACTIVITY_PROVIDERS", ())))


def activity_day_rows(day: datetime.date) -> list[ActivityRow]:
    """Every officer's figures of `day`: the built-in kinds, then each provider's."""
    window = day_window(day)
    rows = [*_call_rows(window), *_promise_made_rows(window), *_promise_due_rows(window)]
    rows += [*_message_rows(window), *_exception_rows(window)]
    for provider in activity_providers():
        rows += provider.day_rows(window)
    return rows


# A call that reached the borrower themself: a connected outcome, and no contact named as whom it was to.
RIGHT_PARTY = Q(outcome__in=Interaction.CONNECTED_OUTCOMES, contact__isnull=True)


def _call_rows(window: DayWindow) -> Iterable[ActivityRow]:
    """Phone calls the officer logged: attempts, and those that reached the borrower in person (right-party
    contacts; a call that reached one of the borrower's contacts is an attempt, not a right-party contact)."""
    calls = (
        Interaction.objects.filter(
            channel=Interaction.Channel.PHONE, occurred_at__gte=window.start, occurred_at__lt=window.end
        )
        .order_by()
        .values("officer_id")
        .annotate(attempts=Count("pk"), connected=Count("pk", filter=RIGHT_PARTY))
    )
    for row in calls:
        yield ActivityRow(row["officer_id"], "calls", "attempts", row["attempts"])
        yield ActivityRow(row["officer_id"], "calls", "connected", row["connected"])


def _promise_made_rows(window: DayWindow) -> Iterable[ActivityRow]:
    made = (
        PromiseToPay.objects.filter(created_at__gte=window.start, created_at__lt=window.end)
        .order_by()
        .values("created_by_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    for row in made:
        yield ActivityRow(row["created_by_id"], "promises", "made", row["n"], row["total"] or Decimal("0"))


def promises_due(
    start: datetime.date, end: datetime.date, *, officer_ids: list[int] | None = None
) -> list[tuple[PromiseToPay, rules.PromiseResult]]:
    """The promises whose last day (promised date plus grace) falls in [start, end), each with its outcome; only
    those recorded by `officer_ids` when given.

    Decided by `account_rules.promise_status` as of the day after the deadline, when it is final. The payments
    are read for those promises' accounts alone, through a subquery (no list of ids, whatever their number).
    """
    longest_grace = PolicyVersion.objects.aggregate(longest=Max("promise_grace_days"))["longest"] or 0
    candidates = PromiseToPay.objects.filter(
        promised_date__gte=start - datetime.timedelta(days=longest_grace), promised_date__lt=end
    )
    if officer_ids is not None:
        candidates = candidates.filter(created_by_id__in=officer_ids)
    promises = list(
        candidates.annotate(**promise_terms_subqueries("account__portfolio__policy_profile_id", at=timezone.now()))
    )
    due = [promise for promise in promises if start <= _deadline(promise) < end]
    payments: dict[int, list[rules.PaymentFact]] = {}
    if due:
        earliest = min(promise.created_at for promise in due) - datetime.timedelta(days=1)
        paid = Payment.objects.filter(account_id__in=candidates.values("account_id"), paid_at__gte=earliest)
        for account_id, paid_at, amount in paid.values_list("account_id", "paid_at", "amount"):
            payments.setdefault(account_id, []).append(rules.PaymentFact(lender_today(paid_at), amount))
    return [
        (
            promise,
            rules.promise_status(
                promised_date=promise.promised_date,
                amount=promise.amount,
                made_on=lender_today(promise.created_at),
                payments=payments.get(promise.account_id, []),
                today=_deadline(promise) + datetime.timedelta(days=1),
                grace_days=promise_terms_of(promise)[0],
                horizon_days=promise_terms_of(promise)[1],
            ),
        )
        for promise in due
    ]


def _deadline(promise: PromiseToPay) -> datetime.date:
    """The promise's last day under its policy's grace and horizon (annotated by `promise_terms_subqueries`)."""
    grace, horizon = promise_terms_of(promise)
    made_on = lender_today(promise.created_at)
    return rules.promise_deadline(promise.promised_date, grace, made_on=made_on, horizon_days=horizon)


def _promise_due_rows(window: DayWindow) -> Iterable[ActivityRow]:
    """Promises whose last day was this day, kept or broken, by the officer who recorded them."""
    counted: Counter[tuple[int, str]] = Counter()
    amounts: dict[tuple[int, str], Decimal] = {}
    for promise, result in promises_due(window.day, window.day + datetime.timedelta(days=1)):
        key = (promise.created_by_id, str(result.status))
        counted[key] += 1
        amounts[key] = amounts.get(key, Decimal("0")) + promise.amount
    for (officer_id, status), n in sorted(counted.items()):
        yield ActivityRow(officer_id, "promises", status, n, amounts[(officer_id, status)])


def _message_rows(window: DayWindow) -> Iterable[ActivityRow]:
    """Messages created that day on each officer's accounts, by what became of them (suppressions by reason)."""
    messages = (
        Message.objects.filter(
            created_at__gte=window.start, created_at__lt=window.end, account__officer_id__isnull=False
        )
        .order_by()
        .values("account__officer_id", "status", reason=Left("status_reason", REASON_KEY_LENGTH))
        .annotate(n=Count("pk"))
    )
    counted: Counter[tuple[int, str]] = Counter()
    for row in messages:
        key = MESSAGE_KEYS.get(row["status"]) or f"{SUPPRESSED_PREFIX}{row['reason'] or '-'}"
        counted[(row["account__officer_id"], key)] += row["n"]
    for (officer_id, key), n in sorted(counted.items()):
        yield ActivityRow(officer_id, "messages", key, n)


def _exception_rows(window: DayWindow) -> Iterable[ActivityRow]:
    """Compliance exceptions the officer recorded (a call logged against the contact gate)."""
    exceptions = (
        AuditEvent.objects.filter(
            action=COMPLIANCE_EXCEPTION,
            occurred_at__gte=window.start,
            occurred_at__lt=window.end,
            actor_id__isnull=False,
        )
        .order_by()
        .values("actor_id")
        .annotate(n=Count("pk"))
    )
    for row in exceptions:
        yield ActivityRow(row["actor_id"], "exceptions", COMPLIANCE_EXCEPTION, row["n"])


def histogram_median(histogram: dict[int, int]) -> int | None:
    """The median of values counted in a histogram (value -> how many), the lower middle for an even count."""
    total = sum(histogram.values())
    if total == 0:
        return None
    seen, middle = 0, (total + 1) // 2
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= middle:
            return value
    return None
