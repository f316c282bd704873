"""The dry run of a policy change: what a proposed version of a profile would change today, before anyone approves it.

It compares the version in force (`PolicyProfile.version_in_force`) with the proposed one (unsaved: the values a
proposal would make) over the accounts of the profile's portfolios, or, for a portfolio switching profile, that
portfolio's accounts under its profile's version in force and under the new profile's; it writes nothing:
- accounts that become eligible or ineligible for family contact (`review.eligibility_sql`, held equal to the
  Python rules by a test);
- messages the reminder ladder would add or drop today: its own selection statement
  (`ladder.ladder_selection_ctes`) under each version, side by side, before the daily cap.
Set-based: on PostgreSQL two statements do the counting whatever the size of the book (a dozen small reads
find the ladder's templates). The SQLite demo reads the two sides' rows and compares them in Python.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from collections_app.dpd import lender_today
from collections_app.messaging.ladder import CHANNELS, ladder_selection_ctes, ladder_selection_rows
from collections_app.models import LoanAccount, PolicyProfile, PolicyVersion, Portfolio
from review.eligibility_sql import askable_contacts, failed_attempt_days, family_contact_eligible_q

# How many account ids each change shows, for a look at a few of them.
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Change:
    """How many accounts (or messages) a change concerns, and the smallest few account ids among them."""

    count: int = 0
    sample: tuple[int, ...] = ()


@dataclass(frozen=True)
class DryRun:
    """What the proposed version would change today against the version in force."""

    today: datetime.date
    version_in_force_id: int
    accounts: int
    eligible_now: int
    eligible_proposed: int
    become_eligible: Change
    become_ineligible: Change
    messages_added: Change
    messages_dropped: Change
    # By channel: (added, dropped).
    messages_by_channel: dict[str, tuple[int, int]] = field(default_factory=dict)


def policy_dry_run(*, profile: PolicyProfile, proposed: PolicyVersion, now: datetime.datetime | None = None) -> DryRun:
    """Compare `proposed` (unsaved) with `profile`'s version in force over the profile's accounts, for today."""
    if proposed.profile_id is None:
        proposed.profile = profile
    if proposed.profile_id != profile.pk:
        raise ValueError("the proposed version belongs to another profile")
    now = now or timezone.now()
    current = profile.version_in_force(at=now)
    accounts = LoanAccount.objects.filter(portfolio__policy_profile_id=profile.pk)
    return _compare(accounts, current, proposed, lender_today(now), portfolio_id=None)


def policy_switch_dry_run(
    *, portfolio: Portfolio, new_profile: PolicyProfile, now: datetime.datetime | None = None
) -> DryRun:
    """What moving `portfolio` to `new_profile` would change today: its accounts under the version in force of
    its profile against the same accounts under `new_profile`'s version in force.

    Both sides count the portfolio's accounts alone: a borrower with accounts in other portfolios of the old
    profile is compared on this portfolio's accounts only.
    """
    now = now or timezone.now()
    current = portfolio.policy_profile.version_in_force(at=now)
    proposed = new_profile.version_in_force(at=now)
    accounts = LoanAccount.objects.filter(portfolio_id=portfolio.pk)
    return _compare(accounts, current, proposed, lender_today(now), portfolio_id=portfolio.pk)


def _compare(
    accounts: QuerySet[LoanAccount],
    current: PolicyVersion,
    proposed: PolicyVersion,
    today: datetime.date,
    *,
    portfolio_id: int | None,
) -> DryRun:
    """Both sides over `accounts` (the ladder's over one portfolio's when `portfolio_id` is given)."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                # As for the ladder's run: JIT compiling these big, cheap statements would take most of their time.
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
                # The planner cannot estimate how many accounts pass a HAVING, guesses a handful and probes the book
                # account by account; every set here is large, and hash joins over whole tables win by far.
                cursor.execute("SET LOCAL enable_nestloop = off")
            eligibility = _eligibility_postgresql(accounts, current, proposed, today)
            added, dropped, by_channel = _ladder_postgresql(current, proposed, today, portfolio_id)
            # Rolled back: the settings end with this block even inside a caller's transaction (it wrote nothing).
            transaction.set_rollback(True)
    else:
        eligibility = _eligibility_in_python(accounts, current, proposed, today)
        added, dropped, by_channel = _ladder_in_python(current, proposed, today, portfolio_id)
    total, now_count, proposed_count, become, cease = eligibility
    return DryRun(
        today=today,
        version_in_force_id=current.pk,
        accounts=total,
        eligible_now=now_count,
        eligible_proposed=proposed_count,
        become_eligible=become,
        become_ineligible=cease,
        messages_added=added,
        messages_dropped=dropped,
        messages_by_channel=by_channel,
    )


def _change(count: int, sample: list[int] | None) -> Change:
    return Change(count=count, sample=tuple(sample or ()))


def _eligible_ids(
    accounts: QuerySet[LoanAccount], policy: PolicyVersion, today: datetime.date, **shared: str
) -> QuerySet[LoanAccount]:
    return accounts.filter(family_contact_eligible_q(policy, today, **shared)).values("pk")


def _eligibility_postgresql(
    accounts: QuerySet[LoanAccount], current: PolicyVersion, proposed: PolicyVersion, today: datetime.date
) -> tuple[int, int, int, Change, Change]:
    """One statement: both sides' eligible accounts, full-joined on the account.

    The costliest facts are read once for both sides: the failed attempts per account and day (over the longer of
    the two windows), and the borrowers with a contact that could be asked when both versions' contact rules agree.
    """
    window = max(current.failed_attempts_window_days, proposed.failed_attempts_window_days)
    ctes = [("attempt_days", failed_attempt_days(today, window).query.sql_with_params())]
    shared = {"attempt_days": "attempt_days"}
    askable = [
        askable_contacts(policy, today).values("borrower_id").query.sql_with_params() for policy in (current, proposed)
    ]
    if askable[0] == askable[1]:
        ctes.append(("askable_borrowers", askable[0]))
        shared["askable_borrowers"] = "askable_borrowers"
    ctes.append(("now_eligible (id)", _eligible_ids(accounts, current, today, **shared).query.sql_with_params()))
    ctes.append(("new_eligible (id)", _eligible_ids(accounts, proposed, today, **shared).query.sql_with_params()))
    total_sql, total_params = accounts.values("pk").query.sql_with_params()
    with_sql = ",\n".join(f"{name} AS MATERIALIZED ({sql})" for name, (sql, _) in ctes)
    sql = f"""
        WITH {with_sql}
        SELECT (SELECT count(*) FROM ({total_sql}) AS book),
               count(n.id), count(p.id),
               count(*) FILTER (WHERE n.id IS NULL),
               (array_agg(p.id ORDER BY p.id) FILTER (WHERE n.id IS NULL))[1:%s],
               count(*) FILTER (WHERE p.id IS NULL),
               (array_agg(n.id ORDER BY n.id) FILTER (WHERE p.id IS NULL))[1:%s]
        FROM now_eligible AS n FULL JOIN new_eligible AS p ON p.id = n.id
    """  # noqa: S608 - SQL composed from the ORM's own queries; values are parameters
    params = [value for _, (_, cte_params) in ctes for value in cte_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *total_params, SAMPLE_SIZE, SAMPLE_SIZE])
        total, now_count, new_count, become, become_sample, cease, cease_sample = cursor.fetchone()
    return total, now_count, new_count, _change(become, become_sample), _change(cease, cease_sample)


def _eligibility_in_python(
    accounts: QuerySet[LoanAccount], current: PolicyVersion, proposed: PolicyVersion, today: datetime.date
) -> tuple[int, int, int, Change, Change]:
    now_ids = set(_eligible_ids(accounts, current, today).values_list("pk", flat=True))
    new_ids = set(_eligible_ids(accounts, proposed, today).values_list("pk", flat=True))
    become, cease = sorted(new_ids - now_ids), sorted(now_ids - new_ids)
    return (
        accounts.count(),
        len(now_ids),
        len(new_ids),
        Change(len(become), tuple(become[:SAMPLE_SIZE])),
        Change(len(cease), tuple(cease[:SAMPLE_SIZE])),
    )


# A side whose ladder sends nothing today (no usable template).
_NOTHING = (
    "{p}picked (e_account, borrower_id, channel, stage) AS "
    "(SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::int WHERE FALSE)"
)


def _ladder_postgresql(
    current: PolicyVersion, proposed: PolicyVersion, today: datetime.date, portfolio_id: int | None
) -> tuple[Change, Change, dict[str, tuple[int, int]]]:
    """One statement: each version's ladder selection for today, full-joined on (account, borrower, channel, stage)."""
    ctes, params = [], []
    for prefix, policy in (("now_", current), ("new_", proposed)):
        selection = ladder_selection_ctes(policy, today, prefix=prefix, portfolio_id=portfolio_id)
        if selection is None:
            ctes.append(_NOTHING.format(p=prefix))
        else:
            ctes.append(selection[0])
            params += selection[1]
    sql = f"""
        WITH {", ".join(ctes)}
        SELECT coalesce(n.channel, p.channel),
               count(*) FILTER (WHERE n.borrower_id IS NULL),
               (array_agg(p.e_account ORDER BY p.e_account) FILTER (WHERE n.borrower_id IS NULL))[1:%s],
               count(*) FILTER (WHERE p.borrower_id IS NULL),
               (array_agg(n.e_account ORDER BY n.e_account) FILTER (WHERE p.borrower_id IS NULL))[1:%s]
        FROM now_picked AS n FULL JOIN new_picked AS p
            ON p.borrower_id = n.borrower_id AND p.channel = n.channel AND p.e_account = n.e_account
               AND p.stage = n.stage
        WHERE n.borrower_id IS NULL OR p.borrower_id IS NULL
        GROUP BY 1
    """  # noqa: S608 - SQL composed from the ladder's own statement; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, SAMPLE_SIZE, SAMPLE_SIZE])
        rows = cursor.fetchall()
    return _ladder_changes(rows)


def _ladder_in_python(
    current: PolicyVersion, proposed: PolicyVersion, today: datetime.date, portfolio_id: int | None
) -> tuple[Change, Change, dict[str, tuple[int, int]]]:
    now_rows = ladder_selection_rows(current, today, portfolio_id=portfolio_id)
    new_rows = ladder_selection_rows(proposed, today, portfolio_id=portfolio_id)
    rows = []
    for channel in CHANNELS:
        added = sorted(row[0] for row in new_rows - now_rows if row[2] == channel)
        dropped = sorted(row[0] for row in now_rows - new_rows if row[2] == channel)
        rows.append((channel, len(added), added[:SAMPLE_SIZE], len(dropped), dropped[:SAMPLE_SIZE]))
    return _ladder_changes(rows)


def _ladder_changes(
    rows: list[tuple[str, int, list[int] | None, int, list[int] | None]],
) -> tuple[Change, Change, dict[str, tuple[int, int]]]:
    """Totals over the channels, with the smallest account ids of all channels as the samples."""
    by_channel = {channel: (0, 0) for channel in CHANNELS}
    added_sample: set[int] = set()
    dropped_sample: set[int] = set()
    for channel, added, a_sample, dropped, d_sample in rows:
        by_channel[channel] = (added, dropped)
        added_sample.update(a_sample or ())
        dropped_sample.update(d_sample or ())
    added_total = sum(added for added, _ in by_channel.values())
    dropped_total = sum(dropped for _, dropped in by_channel.values())
    return (
        Change(added_total, tuple(sorted(added_sample)[:SAMPLE_SIZE])),
        Change(dropped_total, tuple(sorted(dropped_sample)[:SAMPLE_SIZE])),
        by_channel,
    )
