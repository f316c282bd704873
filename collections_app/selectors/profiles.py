"""Reads of policy profiles, and the escalation pauses and the ladder's accounts as SQL over the whole book.

The pause rules themselves live in `collections_app.account_rules` (pure, per account). The reminder ladder must
decide for a million accounts in one statement, so this module states the same rules as query expressions;
`tests/collections_app/messaging/test_escalation_pauses.py` checks that both agree case by case.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db.models import (
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least, Mod, TruncDate
from django.utils import timezone

from collections_app.account_rules import DEFAULT_PROMISE_HORIZON_DAYS
from collections_app.dpd import DaysPastDue
from collections_app.models import (
    BorrowerFlag,
    ChannelStop,
    Flag,
    LoanAccount,
    Message,
    Payment,
    PlanInstalment,
    PolicyVersion,
    PromiseToPay,
    RepaymentPlan,
)
from collections_app.models.profiles import IN_FORCE_ORDER


def policy_version_for_account(account: LoanAccount, *, at: datetime.datetime | None = None) -> PolicyVersion:
    """The version in force at `at` (default: now) of the policy profile of the account's portfolio."""
    return (
        PolicyVersion.objects.in_force(at=at or timezone.now())
        .select_related("profile")
        .filter(profile__portfolios__accounts=account)
        .first()
    )


def current_policy_versions(*, at: datetime.datetime | None = None) -> dict[int, PolicyVersion]:
    """The version in force at `at` (default: now) of every profile, by profile id."""
    current: dict[int, PolicyVersion] = {}
    # In-force order within each profile, so the first version seen of each is its own (no DISTINCT ON: SQLite too).
    versions = PolicyVersion.objects.in_force(at=at or timezone.now()).select_related("profile")
    for version in versions.order_by("profile_id", *IN_FORCE_ORDER):
        current.setdefault(version.profile_id, version)
    return current


def _lender_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def promises_with_outcome(
    *, grace_days: int, horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS, since: datetime.date | None = None
) -> QuerySet[PromiseToPay]:
    """Promises annotated with `deadline` (`policy.promise_deadline`) and `paid` (what arrived from the day the
    promise was made to its deadline): SQL of `policy.promise_status`'s two inputs.

    The deadline is the promised date, but no later than the horizon from the day the promise was made, plus the
    grace; a promise dated 9999-12-31 thus never reaches the calendar's end. `since` keeps only promises whose
    deadline can fall on or after it (the promised date bounds the deadline from above: an index-friendly cut).
    """
    zone = _lender_zone()
    paid_since = (
        Payment.objects.filter(account=OuterRef("account_id"))
        .annotate(paid_on=TruncDate("paid_at", tzinfo=zone))
        .filter(paid_on__gte=OuterRef("made_on"), paid_on__lte=OuterRef("deadline"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    decimal = DecimalField(max_digits=14, decimal_places=2)
    made_on = TruncDate("created_at", tzinfo=zone)
    latest_date = Least(F("promised_date"), made_on + datetime.timedelta(days=horizon_days), output_field=DateField())
    promises = PromiseToPay.objects.all()
    if since is not None:
        promises = promises.filter(promised_date__gte=since - datetime.timedelta(days=grace_days))
    return promises.annotate(
        made_on=made_on,
        deadline=ExpressionWrapper(latest_date + datetime.timedelta(days=grace_days), output_field=DateField()),
        paid=Coalesce(Subquery(paid_since, output_field=decimal), Value(0, output_field=decimal)),
    )


def pending_promise_q(
    *, today: datetime.date, grace_days: int, horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS, account_ref: str = "pk"
) -> Exists:
    """SQL of `policy.promise_status(...) == PENDING` for any promise of the account."""
    promises = promises_with_outcome(grace_days=grace_days, horizon_days=horizon_days, since=today).filter(
        account=OuterRef(account_ref), deadline__gte=today, paid__lt=F("amount")
    )
    return Exists(promises)


def kept_plan_q(*, today: datetime.date, account_ref: str = "pk") -> Exists:
    """SQL of `policy.plan_kept(...).kept`: a plan in force with no instalment unpaid past its due date."""
    missed = PlanInstalment.objects.filter(plan=OuterRef("pk"), paid_at__isnull=True, due_date__lt=today)
    in_force = RepaymentPlan.objects.filter(account=OuterRef(account_ref), status__in=RepaymentPlan.IN_FORCE_STATUSES)
    return Exists(in_force.exclude(Exists(missed)))


def open_flag_q(*, account_ref: str = "pk") -> Exists:
    """SQL: a dispute or hardship flag is open on the account."""
    return Exists(Flag.objects.filter(account=OuterRef(account_ref), closed_at__isnull=True))


def borrower_flagged_q(*, borrower_ref: str = "borrower_id") -> Exists:
    """SQL: the borrower is represented or a vulnerable customer (an open borrower flag): no direct contact."""
    return Exists(BorrowerFlag.objects.filter(borrower=OuterRef(borrower_ref), closed_at__isnull=True))


def escalation_paused_q(*, today: datetime.date, grace_days: int, horizon_days: int) -> Q:
    """SQL of `policy.escalation_pause(...).paused` over LoanAccount rows."""
    pending = pending_promise_q(today=today, grace_days=grace_days, horizon_days=horizon_days)
    return Q(pending) | Q(kept_plan_q(today=today)) | Q(open_flag_q())


# How far ahead of the due date the ladder looks (DOMAIN.md: due within 3 days).
LOOKAHEAD_DAYS = 3


def ladder_accounts(
    policy: PolicyVersion, today: datetime.date, *, portfolio_id: int | None = None
) -> QuerySet[LoanAccount]:
    """Accounts under `policy`'s profile, due within the lookahead or overdue, not paused, no cease request, and
    their borrower neither represented nor a vulnerable customer. With `portfolio_id`, that portfolio's accounts
    instead, whatever profile it uses today (a dry run of a switch puts them under `policy`).

    Annotated with `ladder_dpd` and `ladder_step` (0 on the days the SMS repeat falls on).
    """
    return (
        LoanAccount.objects.filter(
            Q(portfolio_id=portfolio_id)
            if portfolio_id is not None
            else Q(portfolio__policy_profile_id=policy.profile_id),
            oldest_unpaid_due_date__lte=today + datetime.timedelta(days=LOOKAHEAD_DAYS),
            borrower__cease_requested_at__isnull=True,
        )
        .exclude(
            escalation_paused_q(
                today=today, grace_days=policy.promise_grace_days, horizon_days=policy.promise_horizon_days
            )
        )
        .exclude(borrower_flagged_q())
        .annotate(
            ladder_dpd=DaysPastDue(today),
            ladder_step=Mod(DaysPastDue(today) - policy.sms_repeat_from_dpd, max(policy.sms_repeat_every_days, 1)),
        )
    )


def call_task_accounts(policy: PolicyVersion, today: datetime.date) -> QuerySet[LoanAccount]:
    """Ladder accounts overdue enough for a phone-call task whose borrower has not stopped calls (caps aside)."""
    voice_stopped = ChannelStop.objects.filter(borrower=OuterRef("borrower_id"), channel=Message.Channel.VOICE)
    return (
        ladder_accounts(policy, today)
        .filter(oldest_unpaid_due_date__lte=today - datetime.timedelta(days=policy.call_task_from_dpd))
        .exclude(Exists(voice_stopped))
    )
