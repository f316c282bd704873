"""Retention: the personal data of accounts closed longer than their profile's period is erased, set-based.

A borrower is due when every account of theirs is closed (paid off: `closed_at`), each longer ago than its own
profile's `retention_years`, and they are not erased yet. A standing legal hold on the borrower or on any of their
contacts keeps them (counted as `held`). Due borrowers are erased as `borrowers_erase` does, with their contacts.
Each run, dry or real, is one `retention_run` event with its counts; a dry run erases in a transaction it then rolls
back, so its counts are the ones the real run would report. A second run finds nothing left: it reports 0.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.record import audit_record
from audit.selectors import held_persons
from collections_app.models import Borrower, Contact, LoanAccount, Portfolio
from collections_app.selectors.profiles import current_policy_versions
from collections_app.services.erasure import borrowers_erase

# The counts every run reports, zero included, in this order.
COUNTS = ("borrowers", "accounts", "contacts", "messages", "inbound_replies", "texts", "opt_outs_hashed", "held")


@dataclass(frozen=True)
class RetentionRun:
    """What one run erased (or, dry, would have), as of `now`."""

    now: datetime.datetime
    dry_run: bool
    counts: dict[str, int]


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def retention_cutoffs(now: datetime.datetime) -> dict[int, datetime.datetime]:
    """Per portfolio id: accounts closed before this moment are past their profile's retention period."""
    versions = current_policy_versions()
    return {
        portfolio_id: years_before(now, versions[profile_id].retention_years)
        for portfolio_id, profile_id in Portfolio.objects.values_list("pk", "policy_profile_id")
        if profile_id in versions
    }


def _past_retention_q(now: datetime.datetime) -> Q:
    """SQL of "closed longer ago than its profile's period", one term per portfolio."""
    past = Q(pk__in=[])
    for portfolio_id, cutoff in retention_cutoffs(now).items():
        past |= Q(portfolio_id=portfolio_id, closed_at__lt=cutoff)
    return past


def retention_due_borrowers(*, now: datetime.datetime) -> QuerySet[Borrower]:
    """Borrowers not erased yet whose every account is past its retention period (legal holds not considered)."""
    past = _past_retention_q(now)
    kept = LoanAccount.objects.filter(borrower_id=OuterRef("pk")).exclude(past)
    return Borrower.objects.filter(
        erased_at__isnull=True, pk__in=LoanAccount.objects.filter(past).values("borrower_id")
    ).exclude(Exists(kept))


def held_borrower_ids() -> set[int]:
    """Borrowers a standing legal hold covers, on them or on any of their contacts."""
    borrowers: set[int] = set()
    contacts: set[int] = set()
    for person in held_persons():
        kind, _colon, object_id = person.partition(":")
        (borrowers if kind == "borrower" else contacts).add(int(object_id))
    borrowers.update(Contact.objects.filter(pk__in=contacts).values_list("borrower_id", flat=True))
    return borrowers


def retention_run(
    *, now: datetime.datetime | None = None, dry_run: bool = False, actor: AbstractBaseUser | None = None
) -> RetentionRun:
    """Erase every borrower due for retention and not under a legal hold; audited as `retention_run` with counts.

    `dry_run` erases nothing: the same erasure runs in a transaction that is rolled back.
    """
    now = now or timezone.now()
    due = sorted(retention_due_borrowers(now=now).values_list("pk", flat=True))
    held = held_borrower_ids().intersection(due)
    due = [borrower_id for borrower_id in due if borrower_id not in held]
    if dry_run:
        with transaction.atomic():
            counts = borrowers_erase(borrower_ids=due, actor=None, reason="retention")
            transaction.set_rollback(True)
    else:
        counts = borrowers_erase(borrower_ids=due, actor=None, reason="retention")
    counts["held"] = len(held)
    result = RetentionRun(now=now, dry_run=dry_run, counts={name: counts[name] for name in COUNTS})
    with transaction.atomic():
        audit_record(
            action="retention_run",
            actor=actor,
            object_type="retention",
            detail={"dry_run": dry_run, "as_of": now.isoformat(), **result.counts},
        )
    return result
