"""The caseload page's reads: the bucket summary, one page of the table, and the calls due, in fixed queries."""

import dataclasses
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.functional import Promise, cached_property

from collections_app import account_rules as policy
from collections_app.dpd import BUCKETS, BUCKETS_BY_CODE, DaysPastDue, bucket_case, bucket_for, lender_today
from collections_app.messaging.contact_facts import CallSubject, call_decisions
from collections_app.messaging.contact_gate import ContactDecision
from collections_app.models import (
    CallTask,
    Flag,
    Interaction,
    LoanAccount,
    Payment,
    PlanInstalment,
    PromiseToPay,
    RepaymentPlan,
)
from collections_app.selectors.accounts import (
    JSONArrayAgg,
    User,
    json_date,
    loan_accounts_for_user,
    promise_terms_of,
    promise_terms_subqueries,
)

CASELOAD_PAGE_SIZE = 50
# The caseload's "calls due today" list shows the oldest this many; it says how many more there are.
CALLS_DUE_LIMIT = 20


@dataclass(frozen=True)
class BucketSummary:
    """One DPD bucket of the caseload: how many accounts, how much outstanding, and its bar's share."""

    code: str
    label: str | Promise
    count: int
    outstanding: Decimal
    bar_percent: int
    selected: bool


@dataclass(frozen=True)
class CaseloadRow:
    """One line of the caseload table."""

    account: LoanAccount
    dpd: int | None
    bucket_label: str | Promise
    last_interaction_at: datetime.datetime | None
    last_interaction_outcome: str
    next_action: policy.NextAction


@dataclass(frozen=True)
class CallDue:
    """An account with a phone-call task open and due: the oldest such task's date, and today's DPD.

    `newest_due_date` is the newest such task's day (the call it asks for is stale once that day is over);
    `call_now` the contact gate's answer to the call now, for the lines the page shows.
    """

    account_id: int
    account_number: str
    borrower_id: int
    dpd: int | None
    due_date: datetime.date
    newest_due_date: datetime.date | None = None
    profile_id: int | None = None
    zone: str = ""
    call_now: ContactDecision | None = None


@dataclass(frozen=True)
class Caseload:
    """The caseload page: bucket summary over the filtered caseload, one page of rows, and the calls due."""

    buckets: list[BucketSummary]
    total_count: int
    total_outstanding: Decimal
    page: Page
    rows: list[CaseloadRow]
    # The oldest CALLS_DUE_LIMIT accounts to call, and how many accounts have a call due in all.
    calls_due: list[CallDue] = field(default_factory=list)
    calls_due_total: int = 0

    @property
    def borrower_ids(self) -> list[int]:
        """The borrowers listed on this page (table rows and calls due), for the audit event."""
        return sorted({row.account.borrower_id for row in self.rows} | {call.borrower_id for call in self.calls_due})


class _CountedPaginator(Paginator):
    """A paginator told its count, because the bucket summary already counted the rows.

    It asks `page_rows(bottom, top)` for a page's rows instead of slicing one big query: the rows query puts its
    per-row subqueries on the page's ids alone, which a slice of the annotated query would not.
    """

    def __init__(self, page_rows: Callable[[int, int], QuerySet[LoanAccount]], per_page: int, count: int) -> None:
        super().__init__([], per_page)
        self._page_rows = page_rows
        self._known_count = count

    @cached_property
    def count(self) -> int:
        """The number of rows, known in advance."""
        return self._known_count

    def page(self, number: int | str | None) -> Page:
        """The page `number`, its rows from `page_rows` (bounds computed as Paginator.page does)."""
        valid = self.validate_number(number)
        bottom = (valid - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._page_rows(bottom, top), valid, self)


def caseload_get(
    *,
    user: User,
    today: datetime.date,
    bucket: str = "",
    portfolio_id: int | None = None,
    q: str = "",
    page_number: int | str | None = 1,
    now: datetime.datetime | None = None,
) -> Caseload:
    """The user's caseload: per-bucket counts and totals, then a page sorted by DPD descending (constant queries).

    The calls due (accounts with an open phone-call task due by `today`) follow the portfolio and search filters,
    as the bucket summary does, but not the bucket filter. With `now`, each call due shown carries the contact
    gate's answer to that call now (one batch of queries for them all).
    """
    accounts = loan_accounts_for_user(user)
    if portfolio_id is not None:
        accounts = accounts.filter(portfolio_id=portfolio_id)
    if q:
        accounts = accounts.filter(account_number__icontains=q)

    grouped = _caseload_grouped(accounts, today)
    buckets = _bucket_summaries(grouped, bucket)
    total_count = sum(row["n"] for row in grouped.values())
    total_outstanding = sum((row["total"] or Decimal("0") for row in grouped.values()), start=Decimal("0"))

    selected = BUCKETS_BY_CODE.get(bucket)
    if selected is not None:
        accounts = accounts.filter(selected.due_date_q(today))
        count = grouped.get(selected.code, {}).get("n", 0)
    else:
        count = total_count

    paginator = _CountedPaginator(
        lambda bottom, top: _caseload_rows_query(accounts, today, bottom, top), CASELOAD_PAGE_SIZE, count
    )
    page = paginator.get_page(page_number)
    page_accounts: list[LoanAccount] = list(page.object_list)

    payments = _payments_since_promises(page_accounts)
    rows = [_caseload_row(account, today, payments.get(account.pk, [])) for account in page_accounts]
    calls_due = _calls_due(grouped.values())
    shown = _with_call_gate(calls_due[:CALLS_DUE_LIMIT], now) if now else calls_due[:CALLS_DUE_LIMIT]
    return Caseload(
        buckets,
        total_count,
        total_outstanding,
        page,
        rows,
        calls_due=shown,
        calls_due_total=len(calls_due),
    )


def _with_call_gate(calls: list[CallDue], now: datetime.datetime) -> list[CallDue]:
    """The calls due with the gate's answer to each call now: a call task whose day is over is stale."""
    subjects = [
        CallSubject(
            account_id=call.account_id,
            borrower_id=call.borrower_id,
            profile_id=call.profile_id,
            zone=call.zone,
            task_day=call.newest_due_date,
        )
        for call in calls
    ]
    decisions = call_decisions(subjects, now=now)
    return [dataclasses.replace(call, call_now=decision) for call, decision in zip(calls, decisions, strict=True)]


def _caseload_grouped(accounts: QuerySet[LoanAccount], today: datetime.date) -> dict[str, dict[str, Any]]:
    """Per bucket code: the count, the outstanding total and the calls due, in one GROUP BY query.

    The one query gives the whole summary, the paginator its count, and the calls due.
    """
    open_call_due = CallTask.objects.filter(account=OuterRef("pk"), status=CallTask.Status.OPEN, due_date__lte=today)
    return {
        row["bucket_code"]: row
        for row in accounts.annotate(
            bucket_code=bucket_case(today),
            call_due_date=Subquery(open_call_due.order_by("due_date").values("due_date")[:1]),
            newest_call_due_date=Subquery(open_call_due.order_by("-due_date").values("due_date")[:1]),
        )
        .values("bucket_code")
        .annotate(
            n=Count("pk"),
            total=Sum("outstanding"),
            calls_due=JSONArrayAgg(
                JSONObject(
                    account_id="pk",
                    account_number="account_number",
                    borrower_id="borrower_id",
                    dpd=DaysPastDue(today),
                    due_date="call_due_date",
                    newest_due_date="newest_call_due_date",
                    profile_id="portfolio__policy_profile_id",
                    zone="borrower__timezone",
                ),
                filter=Q(call_due_date__isnull=False),
            ),
        )
        .order_by()
    }


def _bucket_summaries(grouped: dict[str, dict[str, Any]], bucket: str) -> list[BucketSummary]:
    """Every bucket in order, with its count, outstanding and bar length relative to the largest bucket."""
    largest = max((row["n"] for row in grouped.values()), default=0)
    return [
        BucketSummary(
            code=b.code,
            label=b.label,
            count=grouped.get(b.code, {}).get("n", 0),
            outstanding=grouped.get(b.code, {}).get("total") or Decimal("0"),
            bar_percent=round(100 * grouped.get(b.code, {}).get("n", 0) / largest) if largest else 0,
            selected=b.code == bucket,
        )
        for b in BUCKETS
    ]


def _caseload_rows_query(
    accounts: QuerySet[LoanAccount], today: datetime.date, bottom: int, top: int
) -> QuerySet[LoanAccount]:
    """Rows `bottom` to `top` of the caseload table, each with what its row shows and its next action's facts.

    One query still: the page's ids come from a sliced subquery, so the per-row subqueries run for these rows
    only, not for every row an OFFSET skips. Both sort by DPD descending (paid accounts last), then id: the
    same order as the due date ascending, but an expression, so PostgreSQL starts from the user's permission
    rows instead of walking the whole book along the due-date index until it meets enough of them.
    """
    order = (F("dpd").desc(nulls_last=True), "pk")
    page_ids = accounts.alias(dpd=DaysPastDue(today)).order_by(*order).values("pk")[bottom:top]
    latest_interaction = Interaction.objects.filter(account=OuterRef("pk")).order_by("-occurred_at", "-pk")
    latest_promise = PromiseToPay.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        LoanAccount.objects.filter(pk__in=page_ids)
        .select_related("borrower", "portfolio")
        .annotate(
            dpd=DaysPastDue(today),
            last_interaction_at=Subquery(latest_interaction.values("occurred_at")[:1]),
            last_interaction_outcome=Subquery(latest_interaction.values("outcome")[:1]),
            promise_date=Subquery(latest_promise.values("promised_date")[:1]),
            promise_amount=Subquery(latest_promise.values("amount")[:1]),
            promise_created_at=Subquery(latest_promise.values("created_at")[:1]),
            dispute_open=Exists(Flag.objects.filter(account=OuterRef("pk"), kind="dispute", closed_at__isnull=True)),
            hardship_open=Exists(Flag.objects.filter(account=OuterRef("pk"), kind="hardship", closed_at__isnull=True)),
            plan_active=Exists(
                RepaymentPlan.objects.filter(account=OuterRef("pk"), status__in=RepaymentPlan.IN_FORCE_STATUSES)
            ),
            # The oldest unpaid instalment alone decides whether the plan in force is kept.
            plan_oldest_unpaid=Subquery(
                PlanInstalment.objects.filter(
                    plan__account=OuterRef("pk"),
                    plan__status__in=RepaymentPlan.IN_FORCE_STATUSES,
                    paid_at__isnull=True,
                )
                .order_by("due_date")
                .values("due_date")[:1]
            ),
            **promise_terms_subqueries("portfolio__policy_profile_id", at=timezone.now()),
        )
        .order_by(*order)
    )


def _calls_due(grouped: Iterable[dict[str, Any]]) -> list[CallDue]:
    """The summary's calls due, every bucket together: the longest-waiting call first, then the highest DPD."""
    calls = [
        CallDue(
            account_id=item["account_id"],
            account_number=item["account_number"],
            borrower_id=item["borrower_id"],
            dpd=item["dpd"],
            due_date=json_date(item["due_date"]),
            newest_due_date=json_date(item["newest_due_date"]),
            profile_id=item["profile_id"],
            zone=item["zone"],
        )
        for row in grouped
        for item in row["calls_due"] or []
    ]
    calls.sort(key=lambda call: (call.due_date, -(call.dpd or 0), call.account_number))
    return calls


def _payments_since_promises(accounts: list[LoanAccount]) -> dict[int, list[policy.PaymentFact]]:
    """One query: the payments that could count towards each listed account's latest promise."""
    with_promise = [a for a in accounts if a.promise_created_at is not None]
    if not with_promise:
        return {}
    since = min(a.promise_created_at for a in with_promise)
    facts: dict[int, list[policy.PaymentFact]] = {}
    for account_id, paid_at, amount in Payment.objects.filter(
        account_id__in=[a.pk for a in with_promise], paid_at__gte=since - datetime.timedelta(days=1)
    ).values_list("account_id", "paid_at", "amount"):
        facts.setdefault(account_id, []).append(policy.PaymentFact(lender_today(paid_at), amount))
    return facts


def _caseload_row(account: LoanAccount, today: datetime.date, payments: list[policy.PaymentFact]) -> CaseloadRow:
    grace, horizon = promise_terms_of(account)
    promise = None
    if account.promise_created_at is not None:
        promise = policy.promise_status(
            promised_date=account.promise_date,
            amount=account.promise_amount,
            made_on=lender_today(account.promise_created_at),
            payments=payments,
            today=today,
            grace_days=grace,
            horizon_days=horizon,
        )
    plan = None
    if account.plan_active:
        oldest = account.plan_oldest_unpaid
        plan = policy.plan_kept(active=True, instalments=[policy.InstalmentFact(oldest)] if oldest else [], today=today)
    open_flags = {
        kind for kind, is_open in (("dispute", account.dispute_open), ("hardship", account.hardship_open)) if is_open
    }
    bucket = bucket_for(account.dpd)
    return CaseloadRow(
        account=account,
        dpd=account.dpd,
        bucket_label=bucket.label if bucket else "",
        last_interaction_at=account.last_interaction_at,
        last_interaction_outcome=(
            Interaction.Outcome(account.last_interaction_outcome).label if account.last_interaction_outcome else ""
        ),
        next_action=policy.next_action(
            dpd=account.dpd,
            open_flags=open_flags,
            promise=promise,
            plan=plan,
            last_outcome=account.last_interaction_outcome,
            cease_requested=account.borrower.cease_requested_at is not None,
        ),
    )
