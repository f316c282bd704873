"""Reads of family-contact requests, always scoped to the user, and the facts the eligibility rules need."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from access.roles import RISK_APPROVER, user_has_role
from collections_app import account_rules as account_policy
from collections_app.dpd import BUCKETS_BY_CODE, DaysPastDue, bucket_case, days_past_due, lender_today
from collections_app.messaging.firewall.lint import Finding
from collections_app.messaging.opt_outs import phone_opted_out
from collections_app.models import (
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    Message,
    MessageTemplate,
    Payment,
    PlanInstalment,
    PolicyVersion,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
    TemplateVersion,
)
from collections_app.selectors.accounts import loan_account_get_for_user, loan_accounts_for_user
from review import family_messages
from review.models import ApproverAllPortfolios, ApproverPortfolio, FamilyContactRequest
from review.policy import EligibilityFacts, Evaluation, evaluate

User = AbstractBaseUser | AnonymousUser
QUEUE_PAGE_SIZE = 50
# Messages that never reached (or will never reach) the contact do not count towards frequency.
_NOT_DELIVERED = (Message.Status.FAILED, Message.Status.SUPPRESSED)


# --- eligibility facts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessagePreview:
    """The exact text that would be sent and what the firewall found in it."""

    body: str
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        """Whether the firewall found nothing."""
        return not self.findings


def family_templates() -> QuerySet[MessageTemplate]:
    """Family templates whose newest version is approved: the ones an officer may pick."""
    newest = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-version")
    return (
        MessageTemplate.objects.filter(audience=Message.Audience.FAMILY)
        .annotate(newest_approved_at=Subquery(newest.values("approved_at")[:1]))
        .filter(newest_approved_at__isnull=False)
        .order_by("code")
    )


def template_current_version(template: MessageTemplate) -> TemplateVersion | None:
    """The newest version of a template (approved or not): the only one a new request may use."""
    return template.current_version


def message_preview(
    *, account: LoanAccount, contact: Contact, template_version: TemplateVersion, policy_version: PolicyVersion
) -> MessagePreview:
    """Render the family message exactly as it would be sent and run the firewall on it."""
    body = family_messages.render_family_message(
        template_version=template_version, account=account, policy_version=policy_version
    )
    findings = family_messages.family_message_lint(body=body, policy_version=policy_version)
    return MessagePreview(body=body, findings=tuple(findings))


def eligibility_facts(
    *,
    account: LoanAccount,
    contact: Contact,
    template_version: TemplateVersion,
    policy_version: PolicyVersion,
    now: datetime.datetime | None = None,
    exclude_request_id: int | None = None,
    exclude_message_id: int | None = None,
    preview: MessagePreview | None = None,
) -> EligibilityFacts:
    """Load the facts of rules 1-7 for one account, contact and template (callers have checked scope)."""
    now = now or timezone.now()
    today = lender_today(now)
    failed, refusals = _attempt_dates(account, now, policy_version)
    broken, pending = _promise_facts(account, today, policy_version)
    plan_result = _active_plan_result(account, today)
    open_flags = tuple(Flag.objects.filter(account=account, closed_at__isnull=True).values_list("kind", flat=True))

    open_requests = FamilyContactRequest.objects.filter(contact=contact, status__in=FamilyContactRequest.OPEN_STATUSES)
    if exclude_request_id is not None:
        open_requests = open_requests.exclude(pk=exclude_request_id)
    contact_dates, borrower_messages = _family_message_facts(account, contact, now, policy_version, exclude_message_id)

    newest = template_version.template.current_version
    preview = preview or message_preview(
        account=account, contact=contact, template_version=template_version, policy_version=policy_version
    )
    return EligibilityFacts(
        today=today,
        dpd=days_past_due(account.oldest_unpaid_due_date, today),
        failed_attempt_dates=failed,
        refusal_dates=refusals,
        broken_promise_dates=broken,
        promise=pending,
        plan=plan_result,
        open_flags=open_flags,
        contact_of_borrower=contact.borrower_id == account.borrower_id,
        consent_basis=contact.consent_basis,
        consent_recorded=contact.consent_at is not None,
        contact_opted_out=phone_opted_out(contact.phone),
        other_open_requests=open_requests.count(),
        contact_message_dates=contact_dates,
        borrower_family_messages=borrower_messages,
        contact_id=contact.pk,
        template_audience=template_version.template.audience,
        template_approved=template_version.is_approved,
        template_current=newest is not None and newest.pk == template_version.pk,
        firewall_findings=tuple((finding.category, finding.text) for finding in preview.findings),
    )


def _attempt_dates(
    account: LoanAccount, now: datetime.datetime, numbers: PolicyVersion
) -> tuple[tuple[datetime.date, ...], tuple[datetime.date, ...]]:
    """The days of failed attempts to reach the borrower, and of their refusals, within the failed-attempts window.

    Calls to a contact are not attempts to reach the borrower.
    """
    interactions = list(
        Interaction.objects.filter(
            account=account,
            contact__isnull=True,
            occurred_at__gte=now - datetime.timedelta(days=numbers.failed_attempts_window_days + 1),
            outcome__in=[*Interaction.FAILED_OUTCOMES, Interaction.Outcome.REFUSED],
        ).values_list("outcome", "occurred_at")
    )
    failed = tuple(lender_today(at) for outcome, at in interactions if outcome in Interaction.FAILED_OUTCOMES)
    refusals = tuple(lender_today(at) for outcome, at in interactions if outcome == Interaction.Outcome.REFUSED)
    return failed, refusals


def _promise_facts(
    account: LoanAccount, today: datetime.date, numbers: PolicyVersion
) -> tuple[tuple[datetime.date, ...], account_policy.PromiseResult | None]:
    """The deadlines of the promises broken in the window, and the first promise still pending (if any)."""
    payments = [
        account_policy.PaymentFact(paid_on=lender_today(paid_at), amount=amount)
        for paid_at, amount in Payment.objects.filter(account=account).values_list("paid_at", "amount")
    ]
    broken: list[datetime.date] = []
    pending: account_policy.PromiseResult | None = None
    # A promise broken inside the window has its deadline in it; a pending one is dated from today minus grace on.
    oldest_relevant = today - datetime.timedelta(days=numbers.broken_promises_window_days + numbers.promise_grace_days)
    for promise in PromiseToPay.objects.filter(account=account, promised_date__gte=oldest_relevant):
        result = account_policy.promise_status(
            promised_date=promise.promised_date,
            amount=promise.amount,
            made_on=lender_today(promise.created_at),
            payments=payments,
            today=today,
            grace_days=numbers.promise_grace_days,
            horizon_days=numbers.promise_horizon_days,
        )
        if result.status == account_policy.PromiseStatus.BROKEN:
            broken.append(result.deadline)
        elif result.is_pending and pending is None:
            pending = result
    return tuple(broken), pending


def _active_plan_result(account: LoanAccount, today: datetime.date) -> account_policy.PlanResult | None:
    """Whether the account's repayment plan in force (approved or active) is being kept; None without one."""
    plan = RepaymentPlan.objects.filter(account=account, status__in=RepaymentPlan.IN_FORCE_STATUSES).first()
    if plan is None:
        return None
    instalments = [
        account_policy.InstalmentFact(due_date=due, paid_on=lender_today(paid) if paid else None)
        for due, paid in PlanInstalment.objects.filter(plan=plan).values_list("due_date", "paid_at")
    ]
    return account_policy.plan_kept(active=True, instalments=instalments, today=today)


def _family_message_facts(
    account: LoanAccount,
    contact: Contact,
    now: datetime.datetime,
    numbers: PolicyVersion,
    exclude_message_id: int | None,
) -> tuple[tuple[datetime.date, ...], tuple[tuple[int | None, datetime.date], ...]]:
    """The days the contact's phone got a family message, and the borrower's family messages in the window."""
    family_messages = Message.objects.filter(audience=Message.Audience.FAMILY).exclude(status__in=_NOT_DELIVERED)
    if exclude_message_id is not None:
        family_messages = family_messages.exclude(pk=exclude_message_id)
    contact_dates = tuple(
        lender_today(at)
        for at in family_messages.filter(Q(contact__phone=contact.phone) | Q(recipient=contact.phone))
        .values_list("created_at", flat=True)
        .distinct()
    )
    window_start = now - datetime.timedelta(days=numbers.contacts_window_days + 1)
    borrower_messages = tuple(
        (contact_id, lender_today(at))
        for contact_id, at in family_messages.filter(
            borrower_id=account.borrower_id, created_at__gte=window_start
        ).values_list("contact_id", "created_at")
    )
    return contact_dates, borrower_messages


def eligibility_evaluate(
    *,
    account: LoanAccount,
    contact: Contact,
    template_version: TemplateVersion,
    policy_version: PolicyVersion | None = None,
    now: datetime.datetime | None = None,
    exclude_request_id: int | None = None,
    exclude_message_id: int | None = None,
) -> tuple[Evaluation, MessagePreview, PolicyVersion]:
    """Evaluate rules 1-7 under the account's policy version in force at `now` (or the one given); returns the
    evaluation, the preview and the version."""
    policy_version = policy_version or family_messages.policy_version_for_account(account, at=now)
    preview = message_preview(
        account=account, contact=contact, template_version=template_version, policy_version=policy_version
    )
    facts = eligibility_facts(
        account=account,
        contact=contact,
        template_version=template_version,
        policy_version=policy_version,
        now=now,
        exclude_request_id=exclude_request_id,
        exclude_message_id=exclude_message_id,
        preview=preview,
    )
    return evaluate(facts, policy_version), preview, policy_version


# --- officer side -------------------------------------------------------------------------------------------------


def family_contact_requests_for_account(user: User, account: LoanAccount) -> QuerySet[FamilyContactRequest]:
    """The account's requests, newest first; none unless the user works the account (scope checked in the query)."""
    return (
        FamilyContactRequest.objects.filter(account=account, account__in=loan_accounts_for_user(user))
        .select_related("contact", "requested_by", "decided_by", "template_version__template")
        .order_by("-requested_at", "-id")
    )


def family_contact_request_get_for_officer(
    user: User, account_id: int | str, request_id: int | str
) -> FamilyContactRequest:
    """One request on an account of the user's caseload; Http404 outside it (scope follows the account)."""
    account = loan_account_get_for_user(user, account_id)
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise Http404("No such request.") from None
    request = (
        FamilyContactRequest.objects.select_related(
            "contact", "requested_by", "decided_by", "template_version__template", "message", "policy_version"
        )
        .filter(account=account, pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    request.account = account
    return request


def family_contact_latest_by_account(user: User, account_ids: Iterable[int]) -> dict[int, FamilyContactRequest]:
    """The newest request of each of these accounts the user works, in one query (for the caseload's column)."""
    rows = (
        FamilyContactRequest.objects.filter(
            account_id__in=loan_accounts_for_user(user).filter(pk__in=list(account_ids)).values("pk")
        )
        .select_related("decided_by")
        .order_by("account_id", "-requested_at", "-id")
    )
    latest: dict[int, FamilyContactRequest] = {}
    for request in rows:
        latest.setdefault(request.account_id, request)
    return latest


# --- approver side ------------------------------------------------------------------------------------------------


# Where approver_portfolio_ids keeps its answer on the user object, for the rest of the request (the grant
# services drop it when they change the scope).
APPROVER_SCOPE_ATTR = "_approver_portfolio_ids"


def approver_portfolio_ids(user: User) -> list[int] | None:
    """The portfolios the approver may review: None for an all-portfolios grant, else the granted ids (maybe none).

    Scope fails closed: an approver with no grant gets an empty list, and sees nothing. Loaded once per request
    and kept on the user object: the queue asks for it twice (scope and filter choices). Being a list of ids,
    not an OR with an EXISTS, the scope lets PostgreSQL skip joining every pending request to the accounts
    when the approver sees every portfolio.
    """
    cached: list[int] | None | bool = getattr(user, APPROVER_SCOPE_ATTR, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    ids: list[int] | None = None
    if not ApproverAllPortfolios.objects.filter(user_id=user.pk).exists():
        ids = sorted(ApproverPortfolio.objects.filter(user_id=user.pk).values_list("portfolio_id", flat=True))
    setattr(user, APPROVER_SCOPE_ATTR, ids)
    return ids


def reviewable_requests(user: User) -> QuerySet[FamilyContactRequest]:
    """Every request in the approver's portfolios: all with an all-portfolios grant, none without any grant."""
    if not user_has_role(user, RISK_APPROVER):
        return FamilyContactRequest.objects.none()
    portfolio_ids = approver_portfolio_ids(user)
    if portfolio_ids is None:
        return FamilyContactRequest.objects.all()
    if not portfolio_ids:
        return FamilyContactRequest.objects.none()
    return FamilyContactRequest.objects.filter(account__portfolio_id__in=portfolio_ids)


def review_request_get_for_user(user: User, request_id: int | str) -> FamilyContactRequest:
    """One request the approver may review; Http404 outside their portfolios."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise Http404("No such request.") from None
    request = (
        reviewable_requests(user)
        .select_related(
            "account__borrower",
            "account__portfolio",
            "account__officer",
            "contact",
            "requested_by",
            "decided_by",
            "template_version__template",
            "policy_version",
            "message",
        )
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, already validated."""

    portfolio: str = ""
    bucket: str = ""
    officer: str = ""
    age: str = ""  # "overdue" (waiting past the overdue threshold) or "fresh"


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue with its counts."""

    page: Page
    total: int
    overdue: int
    by_bucket: dict[str, int]
    overdue_hours: int
    now: datetime.datetime


def review_queue(user: User, filters: QueueFilters, *, page_number: int | str = 1) -> QueuePage:
    """Submitted requests in the approver's scope, oldest first, with waiting time and counts (fixed queries)."""
    now = timezone.now()
    today = lender_today(now)
    overdue_hours = family_messages.queue_overdue_hours(at=now)
    overdue_before = now - datetime.timedelta(hours=overdue_hours)
    base = reviewable_requests(user).filter(status=FamilyContactRequest.Status.SUBMITTED)
    if filters.portfolio:
        base = base.filter(account__portfolio__code=filters.portfolio)
    if filters.officer:
        base = base.filter(account__officer__username=filters.officer)
    if filters.bucket in BUCKETS_BY_CODE:
        base = base.filter(BUCKETS_BY_CODE[filters.bucket].due_date_q(today, "account__oldest_unpaid_due_date"))
    if filters.age == "overdue":
        base = base.filter(requested_at__lt=overdue_before)
    elif filters.age == "fresh":
        base = base.filter(requested_at__gte=overdue_before)

    # Counts come from one grouped query over the filtered set.
    grouped = (
        base.annotate(bucket=bucket_case(today, "account__oldest_unpaid_due_date"))
        .values("bucket")
        .annotate(n=Count("id"), late=Count("id", filter=Q(requested_at__lt=overdue_before)))
        .order_by()
    )
    by_bucket: dict[str, int] = {}
    total = overdue = 0
    for row in grouped:
        by_bucket[row["bucket"] or "paid"] = row["n"]
        total += row["n"]
        overdue += row["late"]

    # Page through narrow id rows first (the sort stays small and can use the queue index), then load the
    # page's 50 rows whole: a deep page costs the same two queries as the first.
    paginator = Paginator(base.order_by("requested_at", "id").values_list("pk", flat=True), QUEUE_PAGE_SIZE)
    # The paginator's own COUNT would be a second count of the same set; reuse ours.
    paginator.count = total  # type: ignore[misc]
    page = paginator.get_page(page_number)
    ids = list(page.object_list)
    page.object_list = list(
        FamilyContactRequest.objects.filter(pk__in=ids)
        .select_related("account__portfolio", "account__officer", "requested_by", "contact")
        .annotate(dpd=DaysPastDue(today, "account__oldest_unpaid_due_date"))
        .order_by("requested_at", "id")
    )
    return QueuePage(page=page, total=total, overdue=overdue, by_bucket=by_bucket, overdue_hours=overdue_hours, now=now)


def queue_filter_choices(user: User) -> dict[str, Any]:
    """Portfolios and officers the approver can filter by."""
    portfolio_ids = approver_portfolio_ids(user)
    portfolios = Portfolio.objects.order_by("code")
    if portfolio_ids is not None:
        portfolios = portfolios.filter(pk__in=portfolio_ids)
    return {"portfolios": list(portfolios.values("code", "name"))}


@dataclass(frozen=True)
class AccountSummary:
    """Counts behind the masked case context on the review page."""

    attempts_14d: int
    failed_14d: int
    connected_14d: int
    promises: int
    promises_open: int
    payments_90d: int
    last_payment_at: datetime.datetime | None


def account_summary(account: LoanAccount, *, now: datetime.datetime | None = None) -> AccountSummary:
    """Contact attempts, promises and payments on an account, as counts (no amounts)."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=14)
    interactions = Interaction.objects.filter(account=account, occurred_at__gte=since).aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(outcome__in=Interaction.FAILED_OUTCOMES)),
        connected=Count("id", filter=Q(outcome__in=Interaction.CONNECTED_OUTCOMES)),
    )
    promises = PromiseToPay.objects.filter(account=account).aggregate(
        total=Count("id"), open=Count("id", filter=Q(promised_date__gte=lender_today(now)))
    )
    payments = Payment.objects.filter(account=account)
    last_payment = payments.order_by("-paid_at").values_list("paid_at", flat=True).first()
    return AccountSummary(
        attempts_14d=interactions["total"],
        failed_14d=interactions["failed"],
        connected_14d=interactions["connected"],
        promises=promises["total"],
        promises_open=promises["open"],
        payments_90d=payments.filter(paid_at__gte=now - datetime.timedelta(days=90)).count(),
        last_payment_at=last_payment,
    )
