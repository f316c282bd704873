"""Reads of loan accounts, always scoped to the user: the one place that decides what an officer may see.

This module holds the scope and the account page; the caseload page is in `selectors.caseload`.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.db.models import Aggregate, JSONField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise

from audit.record import person_key
from collections_app import account_rules as policy
from collections_app.dpd import (
    bucket_for,
    days_past_due,
    lender_today,
)
from collections_app.messaging.contact_facts import CallSubject, call_decisions
from collections_app.messaging.contact_gate import ContactDecision
from collections_app.messaging.opt_outs import phones_opted_out
from collections_app.models import (
    BorrowerFlag,
    CallTask,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    Message,
    Payment,
    PlanInstalment,
    PolicyVersion,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
)

WORK_PERMISSION = "work_loanaccount"
# The account page shows the newest entries of each history; the admin keeps the rest.
HISTORY_LIMIT = 200

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


def get_or_404(queryset: QuerySet[M], object_id: int | str, what: str = "account") -> M:
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
    """One account of the user's caseload, with its borrower, portfolio and profile; Http404 outside the caseload."""
    return get_or_404(loan_accounts_for_user(user).select_related("borrower", "portfolio__policy_profile"), account_id)


def loan_account_contacts(account: LoanAccount) -> QuerySet[Contact]:
    """The contacts the account's borrower registered, less those erased; the only contact ids a form on this account
    accepts."""
    return Contact.objects.filter(borrower_id=account.borrower_id, erased_at__isnull=True)


def contact_get_for_account(*, account: LoanAccount, contact_id: int | str) -> Contact:
    """One contact of the account's borrower; Http404 for any other contact id."""
    return get_or_404(loan_account_contacts(account), contact_id, "contact")


def call_task_get_for_account(*, account: LoanAccount, task_id: int | str) -> CallTask:
    """One phone-call task of the account, whatever its status; Http404 for any other task id."""
    return get_or_404(CallTask.objects.filter(account=account), task_id, "call task")


def borrower_flag_get_for_account(*, account: LoanAccount, flag_id: int | str) -> BorrowerFlag:
    """One flag of the account's borrower; Http404 for any other flag id."""
    return get_or_404(BorrowerFlag.objects.filter(borrower_id=account.borrower_id), flag_id, "borrower flag")


def flag_get_for_account(*, account: LoanAccount, flag_id: int | str) -> Flag:
    """One flag of the account; Http404 for any other flag id."""
    return get_or_404(Flag.objects.filter(account=account), flag_id, "flag")


def portfolios_list() -> list[Portfolio]:
    """Every portfolio, for the caseload filter (portfolio names are not personal data)."""
    return list(Portfolio.objects.order_by("code"))


def promise_terms_subqueries(profile_ref: str, *, at: datetime.datetime) -> dict[str, Subquery]:
    """The promise grace and horizon of the policy version in force at `at` for the referenced profile, as
    annotations `grace_days` and `horizon_days`."""
    in_force = PolicyVersion.objects.in_force(at=at).filter(profile_id=OuterRef(profile_ref))
    return {
        "grace_days": Subquery(in_force.values("promise_grace_days")[:1]),
        "horizon_days": Subquery(in_force.values("promise_horizon_days")[:1]),
    }


def promise_terms_of(account: LoanAccount) -> tuple[int, int]:
    """The (grace, horizon) an account annotated by `promise_terms_subqueries` carries, or the defaults."""
    grace = account.grace_days if account.grace_days is not None else policy.DEFAULT_PROMISE_GRACE_DAYS
    horizon = account.horizon_days if account.horizon_days is not None else policy.DEFAULT_PROMISE_HORIZON_DAYS
    return grace, horizon


def _local_date(moment: datetime.datetime) -> datetime.date:
    return lender_today(moment)


class JSONArrayAgg(Aggregate):
    """The aggregated values as one JSON array, on PostgreSQL and SQLite; element order is unspecified.

    It lets a page carry a short list inside a query it already runs instead of spending one more query on it.
    """

    # One aggregate under two names: Django has no JSON array aggregate but PostgreSQL's. No benchmark.
    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        """SQLite's name for the same aggregate."""
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def json_date(value: str) -> datetime.date:
    """A date read back from a JSON column: JSON carries dates as ISO text on both backends."""
    return datetime.date.fromisoformat(value[:10])


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
    borrower_flags: list[BorrowerFlag] = field(default_factory=list)
    # The contact gate's answer to a call now: to the borrower, and to each contact by id.
    call_now: ContactDecision | None = None
    contact_calls: dict[int, ContactDecision] = field(default_factory=dict)

    @property
    def contacts_with_calls(self) -> list[tuple[ContactRow, ContactDecision | None]]:
        """Each contact with the gate's answer to a call to them now."""
        return [(row, self.contact_calls.get(row.contact.pk)) for row in self.contacts]

    @property
    def open_borrower_flags(self) -> list[BorrowerFlag]:
        """The borrower's flags still set."""
        return [flag for flag in self.borrower_flags if flag.is_open]

    @property
    def persons(self) -> list[str]:
        """The borrower and every contact the page shows, as audit person keys."""
        keys = [person_key("borrower", self.account.borrower_id)]
        keys += [person_key("contact", row.contact.pk) for row in self.contacts]
        return keys


def loan_account_detail_get(
    *,
    user: User,
    account_id: int | str,
    today: datetime.date,
    now: datetime.datetime | None = None,
    scope: QuerySet[LoanAccount] | None = None,
) -> AccountDetail:
    """The account page's data for `user`; Http404 outside the caseload. A fixed number of queries.

    With `now`, also whether a call to the borrower and to each contact is allowed then (the contact gate).
    `scope` replaces the caseload for readers of other accounts (the team lead's accounts of their team).
    """
    account = _account_for_detail(
        loan_accounts_for_user(user) if scope is None else scope, account_id, at=now or timezone.now()
    )
    grace, horizon = promise_terms_of(account)
    dpd = days_past_due(account.oldest_unpaid_due_date, today)

    registered = list(loan_account_contacts(account).order_by("pk"))
    opted_out = phones_opted_out(contact.phone for contact in registered)
    contacts = [ContactRow(contact, contact.phone in opted_out) for contact in registered]
    payments = list(account.payments.order_by("-paid_at", "-pk"))
    promises = _promise_rows(account, payments, today, grace, horizon)
    plans = _plan_rows(account, today)
    flags = list(account.flags.select_related("opened_by", "closed_by").order_by("-opened_at"))
    open_flags = {flag.kind for flag in flags if flag.is_open}
    interactions = list(account.interactions.select_related("officer").order_by("-occurred_at", "-pk")[:HISTORY_LIMIT])
    messages = list(
        Message.objects.filter(Q(account=account) | Q(account__isnull=True, borrower_id=account.borrower_id))
        .select_related("contact")
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )

    latest_promise = promises[0].result if promises else None
    active_plan = next((row.result for row in plans if row.plan.in_force), None)
    bucket = bucket_for(dpd)
    calls = _call_now(account, [row.contact for row in contacts], now) if now else []
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
        timeline=_timeline(interactions, messages, promises, flags),
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
                OpenCallTask(pk=item["pk"], due_date=json_date(item["due_date"]), dpd=item["dpd"])
                for item in account.open_call_tasks or []
            ),
            key=lambda task: (task.due_date, task.pk),
        ),
        borrower_flags=list(
            BorrowerFlag.objects.filter(borrower_id=account.borrower_id)
            .select_related("opened_by", "closed_by")
            .order_by("-opened_at", "-pk")
        ),
        call_now=calls[0] if calls else None,
        contact_calls={row.contact.pk: decision for row, decision in zip(contacts, calls[1:], strict=False)},
    )


def _call_now(account: LoanAccount, contacts: list[Contact], now: datetime.datetime) -> list[ContactDecision]:
    """The gate's answer to a call now to the borrower, then to each contact, in one batch of queries."""
    subjects = [CallSubject.of(account)] + [CallSubject.of(account, contact) for contact in contacts]
    return call_decisions(subjects, now=now)


def _account_for_detail(scope: QuerySet[LoanAccount], account_id: int | str, *, at: datetime.datetime) -> LoanAccount:
    """The account with its borrower, portfolio, profile, promise terms and reveal purposes (`reveal_purposes`: the
    account then serves as the reveal rules' policy) of the version in force at `at`, and its open call tasks;
    Http404 outside `scope`."""
    # The open call tasks ride on the account's own query, as one JSON column: no query of their own.
    open_call_tasks = (
        CallTask.objects.filter(account=OuterRef("pk"), status=CallTask.Status.OPEN)
        .order_by()
        .values("account")
        .annotate(tasks=JSONArrayAgg(JSONObject(pk="pk", due_date="due_date", dpd="dpd")))
        .values("tasks")
    )
    return get_or_404(
        scope.select_related("borrower", "portfolio__policy_profile").annotate(
            **promise_terms_subqueries("portfolio__policy_profile_id", at=at),
            open_call_tasks=Subquery(open_call_tasks, output_field=JSONField()),
            reveal_purposes=Subquery(
                PolicyVersion.objects.in_force(at=at)
                .filter(profile_id=OuterRef("portfolio__policy_profile_id"))
                .values("reveal_purposes")[:1],
                output_field=JSONField(),
            ),
        ),
        account_id,
    )


def _promise_rows(
    account: LoanAccount, payments: list[Payment], today: datetime.date, grace: int, horizon: int
) -> list[PromiseRow]:
    """The account's promises, newest first, each with its status given the payments."""
    payment_facts = [policy.PaymentFact(_local_date(p.paid_at), p.amount) for p in payments]
    return [
        PromiseRow(
            promise,
            policy.promise_status(
                promised_date=promise.promised_date,
                amount=promise.amount,
                made_on=_local_date(promise.created_at),
                payments=payment_facts,
                today=today,
                grace_days=grace,
                horizon_days=horizon,
            ),
        )
        for promise in account.promises.select_related("created_by").order_by("-created_at", "-pk")
    ]


def _plan_rows(account: LoanAccount, today: datetime.date) -> list[PlanRow]:
    """The account's repayment plans, newest first, with their instalments and whether each is kept."""
    plans = []
    for plan in (
        account.plans.select_related("created_by", "decided_by")
        .prefetch_related("instalments")
        .order_by("-agreed_at", "-pk")
    ):
        instalments = list(plan.instalments.all())
        result = policy.plan_kept(
            active=plan.in_force,
            instalments=[
                policy.InstalmentFact(i.due_date, _local_date(i.paid_at) if i.paid_at else None) for i in instalments
            ],
            today=today,
        )
        plans.append(PlanRow(plan, instalments, result))
    return plans


def _timeline(
    interactions: list[Interaction], messages: list[Message], promises: list[PromiseRow], flags: list[Flag]
) -> list[TimelineEntry]:
    """Every dated event of the account, newest first."""
    timeline = [TimelineEntry(i.occurred_at, "interaction", i) for i in interactions]
    timeline += [TimelineEntry(m.created_at, "message", m) for m in messages]
    timeline += [TimelineEntry(row.promise.created_at, "promise", row) for row in promises]
    timeline += [TimelineEntry(f.opened_at, "flag_opened", f) for f in flags]
    timeline += [TimelineEntry(f.closed_at, "flag_closed", f) for f in flags if f.closed_at]
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    return timeline
