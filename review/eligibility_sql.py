"""Family-contact eligibility as SQL over the whole book: the account-level twin of `review.policy`'s rules 1-6.

An account is *eligible for family contact* under a policy version, on a day, when at least one contact of its
borrower passes rules 1-6 of `review.policy.evaluate` that day for a fresh request (one that is not yet filed,
so rule 5 counts every open request for the contact), with an approved, current family template whose message
passes the firewall (rule 7 depends on the template an officer picks, not on the account, and is left out).
`family_contact_eligible_q` states exactly that over LoanAccount rows, so the dry run of a policy change can
count accounts set-based; `tests/review/test_eligibility_in_sql.py` holds it equal to the Python rules case by
case. The account must still be under a profile for the version to apply: callers filter by portfolio. What the
contact gate refuses at hand-off (a represented or vulnerable borrower, a cease request, the hours) is not an
eligibility rule, and is not counted here either.

Counts are set-based (`pk IN (SELECT ... GROUP BY ... HAVING ...)`): PostgreSQL hashes each set once rather
than probing per account. "In the last N days" is, as in `review.policy`, the lender-local dates (today - N, today].
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate

from collections_app.models import Contact, Interaction, Message, PhoneOptOut, PolicyVersion
from collections_app.selectors.profiles import escalation_paused_q, promises_with_outcome
from review.models import FamilyContactRequest

# Family messages that never reached (or never will reach) the contact do not count towards rule 6.
_NOT_DELIVERED = (Message.Status.FAILED, Message.Status.SUPPRESSED)
# Always true / always false, for a rule whose numbers decide it whatever the data (a minimum of 0, a cap of 0).
_ALWAYS = Q(pk__isnull=False)
_NEVER = Q(pk__in=[])


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _window(field: str, today: datetime.date, days: int) -> Q:
    """Rows whose lender-local day `field` (an annotation) lies in (today - days, today]."""
    return Q(**{f"{field}__gt": today - datetime.timedelta(days=days), f"{field}__lte": today})


def dpd_q(numbers: PolicyVersion, today: datetime.date) -> Q:
    """Rule 1: unpaid and at least `family_min_dpd` days past due."""
    return Q(oldest_unpaid_due_date__lte=today - datetime.timedelta(days=numbers.family_min_dpd))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=_zone())


def _borrower_calls(today: datetime.date, days: int, outcomes: tuple[str, ...]) -> QuerySet[Interaction]:
    """Interactions with the borrower (not a contact) with these outcomes, on lender-local days in the window."""
    first_day = today - datetime.timedelta(days=max(days, 1) - 1)
    return (
        # The moments bound the days (so a scan can skip the rest); the local day keeps the window exact.
        Interaction.objects.filter(
            contact__isnull=True,
            outcome__in=outcomes,
            occurred_at__gte=_local_midnight(first_day),
            occurred_at__lt=_local_midnight(today + datetime.timedelta(days=1)),
        )
        .annotate(local_day=TruncDate("occurred_at", tzinfo=_zone()))
        .filter(_window("local_day", today, days))
    )


def failed_attempt_days(today: datetime.date, days: int) -> QuerySet[Interaction]:
    """Per account and lender-local day of the window, the failed attempts to reach the borrower: rows of
    (account_id, local_day, n). A dry run computes them once for both of its sides (`attempt_days`)."""
    return (
        _borrower_calls(today, days, tuple(Interaction.FAILED_OUTCOMES))
        .order_by()
        .values("account_id", "local_day")
        .annotate(n=Count("pk"))
    )


def unreachable_q(numbers: PolicyVersion, today: datetime.date, *, attempt_days: str | None = None) -> Q:
    """Rule 2: enough failed attempts on enough days; unless only that half counts, a refusal or enough broken
    promises. `attempt_days` names a relation of `failed_attempt_days` rows covering the window, if one is at hand.
    """
    window = numbers.failed_attempts_window_days
    if numbers.failed_attempts_min <= 0 and numbers.failed_attempt_days_min <= 0:
        attempts = _ALWAYS
    else:
        if attempt_days is None:
            sql, params = failed_attempt_days(today, window).query.sql_with_params()
            source, params = f"({sql})", list(params)
        else:
            source, params = attempt_days, []
        # Per account: attempts and days in the window (grouped by day first: no DISTINCT sort).
        by_account = RawSQL(  # noqa: S611 - `source` is our own SQL or a CTE name; values are parameters
            f"SELECT account_id FROM {source} AS attempt_days WHERE local_day > %s"  # noqa: S608
            " GROUP BY account_id HAVING sum(n) >= %s AND count(*) >= %s",
            [
                *params,
                today - datetime.timedelta(days=window),
                numbers.failed_attempts_min,
                numbers.failed_attempt_days_min,
            ],
        )
        attempts = Q(pk__in=by_account)
    if numbers.family_only_when_unreachable:
        return attempts
    refused = Q(pk__in=_borrower_calls(today, window, (Interaction.Outcome.REFUSED,)).values("account_id"))
    if numbers.broken_promises_min <= 0:
        return _ALWAYS
    start = today - datetime.timedelta(days=numbers.broken_promises_window_days)
    broken = (
        promises_with_outcome(
            grace_days=numbers.promise_grace_days, horizon_days=numbers.promise_horizon_days, since=start
        )
        # Broken: the deadline has passed (in the window) and the amount did not arrive by it.
        .filter(deadline__gt=start, deadline__lt=today, paid__lt=F("amount"))
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=numbers.broken_promises_min)
        .values("account_id")
    )
    return attempts | refused | Q(pk__in=broken)


def askable_contacts(numbers: PolicyVersion, today: datetime.date) -> QuerySet[Contact]:
    """Rules 4-6 over Contact rows: consent recorded, not opted out, no open request, and the frequency rule."""
    zone = _zone()
    family = (
        Message.objects.filter(audience=Message.Audience.FAMILY)
        .exclude(status__in=_NOT_DELIVERED)
        .annotate(local_day=TruncDate("created_at", tzinfo=zone))
    )
    # A message reached this phone if it went to it, or to a contact with it (two tests, not one OR: each can then
    # be a hash join over the book).
    to_phone = (
        family.filter(recipient=OuterRef("phone")),
        family.filter(contact__phone=OuterRef("phone")),
    )
    contacts = Contact.objects.filter(consent_at__isnull=False).exclude(consent_basis="")
    contacts = contacts.exclude(Exists(PhoneOptOut.objects.filter(phone=OuterRef("phone"))))
    open_requests = FamilyContactRequest.objects.filter(
        contact=OuterRef("pk"), status__in=FamilyContactRequest.OPEN_STATUSES
    )
    contacts = contacts.exclude(Exists(open_requests))
    for messages in to_phone:
        if numbers.contact_once_only:
            contacts = contacts.exclude(Exists(messages))
        contacts = contacts.exclude(Exists(messages.filter(_window("local_day", today, numbers.contact_interval_days))))
    if numbers.max_contacts_per_borrower <= 0:
        return contacts.filter(_NEVER)
    # Other contacts of the borrower messaged in the window; a message to no contact counts as one more (as the
    # Python rule's set of contact ids holds None).
    others = (
        family.filter(_window("local_day", today, numbers.contacts_window_days), borrower_id=OuterRef("borrower_id"))
        .exclude(contact_id=OuterRef("pk"))
        .order_by()
        .values("borrower_id")
        .annotate(n=Count(Coalesce("contact_id", Value(0)), distinct=True))
        .values("n")
    )
    return contacts.annotate(other_contacts=Coalesce(Subquery(others, output_field=IntegerField()), Value(0))).filter(
        other_contacts__lt=numbers.max_contacts_per_borrower
    )


def family_contact_eligible_q(
    policy: PolicyVersion,
    today: datetime.date,
    *,
    attempt_days: str | None = None,
    askable_borrowers: str | None = None,
) -> Q:
    """SQL over LoanAccount rows: eligible for family contact under `policy` today (the module's definition).

    A dry run may name relations it computed once for both of its sides: `attempt_days` (`failed_attempt_days`
    rows) and `askable_borrowers` (the `borrower_id` of `askable_contacts` rows under this policy).
    """
    askable = askable_contacts(policy, today).values("borrower_id")
    if askable_borrowers is not None:
        askable = RawSQL(f"SELECT borrower_id FROM {askable_borrowers}", [])  # noqa: S608, S611 - a CTE's name
    paused = escalation_paused_q(
        today=today, grace_days=policy.promise_grace_days, horizon_days=policy.promise_horizon_days
    )
    unreachable = unreachable_q(policy, today, attempt_days=attempt_days)
    return dpd_q(policy, today) & unreachable & ~paused & Q(borrower_id__in=askable)
