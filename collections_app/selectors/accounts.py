"""Reads of loan accounts, always scoped to the user: the one place that decides what an officer may see."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.core.paginator import Page, Paginator
from django.db.models import Aggregate, Count, Exists, F, JSONField, Model, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import JSONObject
from django.http import Http404
from django.utils.functional import Promise, cached_property

from collections_app import account_rules as policy
from collections_app.dpd import (
    BUCKETS,
    BUCKETS_BY_CODE,
    DaysPastDue,
    bucket_case,
    bucket_for,
    days_past_due,
    lender_today,
)
from collections_app.models import (
    CallTask,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    Message,
    Payment,
    PhoneOptOut,
    PlanInstalment,
    PolicyVersion,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
)

WORK_PERMISSION = "work_loanaccount"
CASELOAD_PAGE_SIZE = 50
# The account page shows the newest entries of each history; the admin keeps the rest.
HISTORY_LIMIT = 200
# The caseload's "calls due today" list shows the oldest this many; it says how many more there are.
CALLS_DUE_LIMIT = 20

User = AbstractBaseUser | AnonymousUser

M = TypeVar("M", bound=Model)


def _work_permission_id() -> Subquery:
    # A scalar subquery, not a cached id: PostgreSQL runs it once per statement (an InitPlan), so the
    # (user, permission, content_object) index still applies and a flushed test database never sees a stale id.
    return Subquery(
        Permission.objects.filter(content_type__app_label="collections_app", codename=WORK_PERMISSION)
        .order_by()
        .values("pk")[:1]
    )


def loan_accounts_for_user(user: User) -> QuerySet[LoanAccount]:
    """Every loan account `user` may work: a `pk__in` subquery on the direct-FK object-permission table."""
    if not user.is_authenticated or not user.is_active:
        return LoanAccount.objects.none()
    granted = LoanAccountUserObjectPermission.objects.filter(user_id=user.pk, permission_id=_work_permission_id())
    return LoanAccount.objects.filter(pk__in=granted.values("content_object_id"))


def _get_or_404(queryset: QuerySet[M], object_id: int | str, what: str = "account") -> M:
    """The row of `queryset` with this id, parsed from a URL; Http404 when it is no integer or not there."""
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def loan_account_get_for_user(user: User, account_id: int | str) -> LoanAccount:
    """One account of the user's caseload, with its borrower and portfolio; Http404 outside the caseload."""
    return _get_or_404(loan_accounts_for_user(user).select_related("borrower", "portfolio"), account_id)


def loan_account_contacts(account: LoanAccount) -> QuerySet[Contact]:
    """The contacts the account's borrower registered; the only contact ids a form on this account accepts."""
    return Contact.objects.filter(borrower_id=account.borrower_id)


def contact_get_for_account(*, account: LoanAccount, contact_id: int | str) -> Contact:
    """One contact of the account's borrower; Http404 for any other contact id."""
    return _get_or_404(loan_account_contacts(account), contact_id, "contact")


def call_task_get_for_account(*, account: LoanAccount, task_id: int | str) -> CallTask:
    """One phone-call task of the account, whatever its status; Http404 for any other task id."""
    return _get_or_404(CallTask.objects.filter(account=account), task_id, "call task")


def flag_get_for_account(*, account: LoanAccount, flag_id: int | str) -> Flag:
    """One flag of the account; Http404 for any other flag id."""
    return _get_or_404(Flag.objects.filter(account=account), flag_id, "flag")


def portfolios_list() -> list[Portfolio]:
    """Every portfolio, for the caseload filter (portfolio names are not personal data)."""
    return list(Portfolio.objects.order_by("code"))


def _grace_days_subquery(profile_ref: str) -> Subquery:
    """The promise grace of the policy version in force for the referenced profile."""
    return Subquery(
        PolicyVersion.objects.filter(profile_id=OuterRef(profile_ref))
        .order_by("-version")
        .values("promise_grace_days")[:1]
    )


def _local_date(moment: datetime.datetime) -> datetime.date:
    return lender_today(moment)


class _JSONArrayAgg(Aggregate):
    """The aggregated values as one JSON array, on PostgreSQL and SQLite; element order is unspecified.

    It lets a page carry a short list inside a query it already runs instead of spending one more query on it.
    """

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        """SQLite's name for the same aggregate."""
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def _json_date(value: str) -> datetime.date:
    # JSON carries dates as ISO text on both backends.
    return datetime.date.fromisoformat(value[:10])


# ---------------------------------------------------------------------------------------------------------------
# The caseload page
# ---------------------------------------------------------------------------------------------------------------


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
    """An account with a phone-call task open and due: the oldest such task's date, and today's DPD."""

    account_id: int
    account_number: str
    borrower_id: int
    dpd: int | None
    due_date: datetime.date


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
    """A paginator told its count, because the bucket summary already counted the rows."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        """The number of rows, known in advance."""
        return self._known_count


def caseload_get(
    *,
    user: User,
    today: datetime.date,
    bucket: str = "",
    portfolio_id: int | None = None,
    q: str = "",
    page_number: int | str | None = 1,
) -> Caseload:
    """The user's caseload: per-bucket counts and totals, then a page sorted by DPD descending (constant queries).

    The calls due (accounts with an open phone-call task due by `today`) follow the portfolio and search filters,
    as the bucket summary does, but not the bucket filter.
    """
    accounts = loan_accounts_for_user(user)
    if portfolio_id is not None:
        accounts = accounts.filter(portfolio_id=portfolio_id)
    if q:
        accounts = accounts.filter(account_number__icontains=q)

    # One GROUP BY query for the whole summary; it also gives the paginator its count and collects the calls due.
    oldest_call_due = CallTask.objects.filter(
        account=OuterRef("pk"), status=CallTask.Status.OPEN, due_date__lte=today
    ).order_by("due_date")
    grouped = {
        row["bucket_code"]: row
        for row in accounts.annotate(
            bucket_code=bucket_case(today), call_due_date=Subquery(oldest_call_due.values("due_date")[:1])
        )
        .values("bucket_code")
        .annotate(
            n=Count("pk"),
            total=Sum("outstanding"),
            calls_due=_JSONArrayAgg(
                JSONObject(
                    account_id="pk",
                    account_number="account_number",
                    borrower_id="borrower_id",
                    dpd=DaysPastDue(today),
                    due_date="call_due_date",
                ),
                filter=Q(call_due_date__isnull=False),
            ),
        )
        .order_by()
    }
    largest = max((row["n"] for row in grouped.values()), default=0)
    buckets = [
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
    total_count = sum(row["n"] for row in grouped.values())
    total_outstanding = sum((row["total"] or Decimal("0") for row in grouped.values()), start=Decimal("0"))

    selected = BUCKETS_BY_CODE.get(bucket)
    if selected is not None:
        accounts = accounts.filter(selected.due_date_q(today))
        count = grouped.get(selected.code, {}).get("n", 0)
    else:
        count = total_count

    latest_interaction = Interaction.objects.filter(account=OuterRef("pk")).order_by("-occurred_at", "-pk")
    latest_promise = PromiseToPay.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-pk")
    rows_query = (
        accounts.select_related("borrower", "portfolio")
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
                RepaymentPlan.objects.filter(account=OuterRef("pk"), status=RepaymentPlan.Status.ACTIVE)
            ),
            # The oldest unpaid instalment alone decides whether an active plan is kept.
            plan_oldest_unpaid=Subquery(
                PlanInstalment.objects.filter(
                    plan__account=OuterRef("pk"), plan__status=RepaymentPlan.Status.ACTIVE, paid_at__isnull=True
                )
                .order_by("due_date")
                .values("due_date")[:1]
            ),
            grace_days=_grace_days_subquery("portfolio__policy_profile_id"),
        )
        .order_by(F("oldest_unpaid_due_date").asc(nulls_last=True), "pk")
    )
    paginator = _CountedPaginator(rows_query, CASELOAD_PAGE_SIZE, count)
    page = paginator.get_page(page_number)
    page_accounts: list[LoanAccount] = list(page.object_list)

    payments = _payments_since_promises(page_accounts)
    rows = [_caseload_row(account, today, payments.get(account.pk, [])) for account in page_accounts]
    calls_due = _calls_due(grouped.values())
    return Caseload(
        buckets,
        total_count,
        total_outstanding,
        page,
        rows,
        calls_due=calls_due[:CALLS_DUE_LIMIT],
        calls_due_total=len(calls_due),
    )


def _calls_due(grouped: Iterable[dict[str, Any]]) -> list[CallDue]:
    """The summary's calls due, every bucket together: the longest-waiting call first, then the highest DPD."""
    calls = [
        CallDue(
            account_id=item["account_id"],
            account_number=item["account_number"],
            borrower_id=item["borrower_id"],
            dpd=item["dpd"],
            due_date=_json_date(item["due_date"]),
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
        facts.setdefault(account_id, []).append(policy.PaymentFact(_local_date(paid_at), amount))
    return facts


def _caseload_row(account: LoanAccount, today: datetime.date, payments: list[policy.PaymentFact]) -> CaseloadRow:
    grace = account.grace_days if account.grace_days is not None else policy.DEFAULT_PROMISE_GRACE_DAYS
    promise = None
    if account.promise_created_at is not None:
        promise = policy.promise_status(
            promised_date=account.promise_date,
            amount=account.promise_amount,
            made_on=_local_date(account.promise_created_at),
            payments=payments,
            today=today,
            grace_days=grace,
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


# ---------------------------------------------------------------------------------------------------------------
# The account page
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    """A contact with whether its phone number has opted out."""

    contact: Contact
    opted_out: bool


@dataclass(frozen=True)
class PromiseRow:
    """A promise with its derived status."""

    promise: PromiseToPay
    result: policy.PromiseResult


@dataclass(frozen=True)
class PlanRow:
    """A repayment plan, its instalments, and whether it is being kept."""

    plan: RepaymentPlan
    instalments: list[PlanInstalment]
    result: policy.PlanResult


@dataclass(frozen=True)
class OpenCallTask:
    """An open phone-call task of the account: the day it is for and the DPD when the ladder created it."""

    pk: int
    due_date: datetime.date
    dpd: int


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event on the account's timeline."""

    at: datetime.datetime
    kind: str
    item: Any


@dataclass
class AccountDetail:
    """Everything the account page shows, already scoped and derived."""

    account: LoanAccount
    dpd: int | None
    bucket_label: str | Promise
    grace_days: int
    contacts: list[ContactRow]
    payments: list[Payment]
    promises: list[PromiseRow]
    plans: list[PlanRow]
    flags: list[Flag]
    timeline: list[TimelineEntry]
    next_action: policy.NextAction
    pause: policy.PauseResult
    open_flags: set[str] = field(default_factory=set)
    call_tasks: list[OpenCallTask] = field(default_factory=list)

    @property
    def persons(self) -> list[str]:
        """The borrower and every contact the page shows, as audit person keys."""
        keys = [f"borrower:{self.account.borrower_id}"]
        keys += [f"contact:{row.contact.pk}" for row in self.contacts]
        return keys


def loan_account_detail_get(*, user: User, account_id: int | str, today: datetime.date) -> AccountDetail:
    """The account page's data for `user`; Http404 outside the caseload. A fixed number of queries."""
    # The open call tasks ride on the account's own query, as one JSON column: no query of their own.
    open_call_tasks = (
        CallTask.objects.filter(account=OuterRef("pk"), status=CallTask.Status.OPEN)
        .order_by()
        .values("account")
        .annotate(tasks=_JSONArrayAgg(JSONObject(pk="pk", due_date="due_date", dpd="dpd")))
        .values("tasks")
    )
    account = _get_or_404(
        loan_accounts_for_user(user)
        .select_related("borrower", "portfolio")
        .annotate(
            grace_days=_grace_days_subquery("portfolio__policy_profile_id"),
            open_call_tasks=Subquery(open_call_tasks, output_field=JSONField()),
        ),
        account_id,
    )
    grace = account.grace_days if account.grace_days is not None else policy.DEFAULT_PROMISE_GRACE_DAYS
    dpd = days_past_due(account.oldest_unpaid_due_date, today)

    contacts = [
        ContactRow(contact, contact.opted_out)
        for contact in loan_account_contacts(account)
        .annotate(opted_out=Exists(PhoneOptOut.objects.filter(phone=OuterRef("phone"))))
        .order_by("pk")
    ]
    payments = list(account.payments.order_by("-paid_at", "-pk"))
    payment_facts = [policy.PaymentFact(_local_date(p.paid_at), p.amount) for p in payments]
    promises = [
        PromiseRow(
            promise,
            policy.promise_status(
                promised_date=promise.promised_date,
                amount=promise.amount,
                made_on=_local_date(promise.created_at),
                payments=payment_facts,
                today=today,
                grace_days=grace,
            ),
        )
        for promise in account.promises.select_related("created_by").order_by("-created_at", "-pk")
    ]
    plans = []
    for plan in account.plans.prefetch_related("instalments").order_by("-agreed_at"):
        instalments = list(plan.instalments.all())
        result = policy.plan_kept(
            active=plan.status == RepaymentPlan.Status.ACTIVE,
            instalments=[
                policy.InstalmentFact(i.due_date, _local_date(i.paid_at) if i.paid_at else None) for i in instalments
            ],
            today=today,
        )
        plans.append(PlanRow(plan, instalments, result))
    flags = list(account.flags.select_related("opened_by", "closed_by").order_by("-opened_at"))
    open_flags = {flag.kind for flag in flags if flag.is_open}
    interactions = list(account.interactions.select_related("officer").order_by("-occurred_at", "-pk")[:HISTORY_LIMIT])
    messages = list(
        Message.objects.filter(Q(account=account) | Q(account__isnull=True, borrower_id=account.borrower_id))
        .select_related("contact")
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )

    timeline = [TimelineEntry(i.occurred_at, "interaction", i) for i in interactions]
    timeline += [TimelineEntry(m.created_at, "message", m) for m in messages]
    timeline += [TimelineEntry(row.promise.created_at, "promise", row) for row in promises]
    timeline += [TimelineEntry(f.opened_at, "flag_opened", f) for f in flags]
    timeline += [TimelineEntry(f.closed_at, "flag_closed", f) for f in flags if f.closed_at]
    timeline.sort(key=lambda entry: entry.at, reverse=True)

    latest_promise = promises[0].result if promises else None
    active_plan = next((row.result for row in plans if row.plan.status == RepaymentPlan.Status.ACTIVE), None)
    bucket = bucket_for(dpd)
    return AccountDetail(
        account=account,
        dpd=dpd,
        bucket_label=bucket.label if bucket else "",
        grace_days=grace,
        contacts=contacts,
        payments=payments,
        promises=promises,
        plans=plans,
        flags=flags,
        timeline=timeline,
        next_action=policy.next_action(
            dpd=dpd,
            open_flags=open_flags,
            promise=latest_promise,
            plan=active_plan,
            last_outcome=interactions[0].outcome if interactions else None,
            cease_requested=account.borrower.cease_requested_at is not None,
        ),
        pause=policy.escalation_pause(promise=latest_promise, plan=active_plan, open_flags=open_flags),
        open_flags=open_flags,
        call_tasks=sorted(
            (
                OpenCallTask(pk=item["pk"], due_date=_json_date(item["due_date"]), dpd=item["dpd"])
                for item in account.open_call_tasks or []
            ),
            key=lambda task: (task.due_date, task.pk),
        ),
    )
