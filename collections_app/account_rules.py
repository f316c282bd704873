"""Pure rules about promises, repayment plans, flags and the officer's next action.

Every function here takes plain values (dates, amounts, codes) and returns a result with its reason, so the
rules can be tested without a database and reused by the caseload, the reminder ladder and the eligibility
checks alike. Callers load the facts; these functions decide.
"""

import datetime
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Default grace after a promised date (DOMAIN.md); the active policy version's `promise_grace_days` overrides it.
DEFAULT_PROMISE_GRACE_DAYS = 1
# DOMAIN.md: a promise lies within the profile's horizon, 30 days unless the profile says otherwise
# (`promise_horizon_days`, whose default this is).
DEFAULT_PROMISE_HORIZON_DAYS = 30


class PromiseStatus(models.TextChoices):
    """What a promise-to-pay has become."""

    PENDING = "pending", _("pending")
    KEPT = "kept", _("kept")
    BROKEN = "broken", _("broken")


@dataclass(frozen=True)
class PaymentFact:
    """A payment as the rules see it: its date in the lender's time zone and its amount."""

    paid_on: datetime.date
    amount: Decimal


@dataclass(frozen=True)
class PromiseResult:
    """A promise's derived status, the last day payments count towards it, and what arrived by then."""

    status: PromiseStatus
    deadline: datetime.date
    paid: Decimal
    reason: str | Promise

    @property
    def is_pending(self) -> bool:
        """Whether the promise still pauses escalation."""
        return self.status == PromiseStatus.PENDING


def _days_after(day: datetime.date, days: int) -> datetime.date:
    """`day` plus `days`, stopping at the calendar's last day instead of overflowing."""
    return datetime.date.fromordinal(min(day.toordinal() + days, datetime.date.max.toordinal()))


def promise_deadline(
    promised_date: datetime.date,
    grace_days: int = DEFAULT_PROMISE_GRACE_DAYS,
    *,
    made_on: datetime.date,
    horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS,
) -> datetime.date:
    """The last day (lender's time zone, inclusive) on which a payment still keeps the promise.

    A promise counts as dated no later than the horizon from the day it was made: one recorded further ahead
    (before the horizon was checked, or by a changed policy) pauses escalation no longer than the horizon.
    """
    return _days_after(min(promised_date, _days_after(made_on, horizon_days)), grace_days)


def promise_status(
    *,
    promised_date: datetime.date,
    amount: Decimal,
    made_on: datetime.date,
    payments: Iterable[PaymentFact],
    today: datetime.date,
    grace_days: int = DEFAULT_PROMISE_GRACE_DAYS,
    horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS,
) -> PromiseResult:
    """Kept once payments made from `made_on` to the deadline reach `amount`; pending until then; broken after."""
    deadline = promise_deadline(promised_date, grace_days, made_on=made_on, horizon_days=horizon_days)
    paid = sum(
        (payment.amount for payment in payments if made_on <= payment.paid_on <= deadline),
        start=Decimal("0"),
    )
    if paid >= amount:
        return PromiseResult(PromiseStatus.KEPT, deadline, paid, _("The promised amount arrived in time."))
    if today <= deadline:
        return PromiseResult(
            PromiseStatus.PENDING, deadline, paid, _("The promised date and its grace have not passed.")
        )
    return PromiseResult(PromiseStatus.BROKEN, deadline, paid, _("The promised amount did not arrive in time."))


def promise_terms_errors(
    *,
    promised_date: datetime.date,
    amount: Decimal,
    outstanding: Decimal,
    today: datetime.date,
    horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS,
) -> dict[str, str]:
    """Why a new promise cannot be taken, by field (empty when it can): its date lies from today to the horizon,
    its amount in (0, outstanding]."""
    errors: dict[str, str] = {}
    latest = _days_after(today, horizon_days)
    if promised_date < today:
        errors["promised_date"] = gettext("The promised date cannot be in the past.")
    elif promised_date > latest:
        errors["promised_date"] = gettext(
            "The promised date must lie within %(days)d days: %(latest)s at the latest."
        ) % {"days": horizon_days, "latest": latest.isoformat()}
    if amount <= 0:
        errors["amount"] = gettext("The amount must be greater than zero.")
    elif amount > outstanding:
        errors["amount"] = gettext("The amount cannot exceed the outstanding balance (%(outstanding)s).") % {
            "outstanding": outstanding
        }
    return errors


@dataclass(frozen=True)
class InstalmentFact:
    """An instalment as the rules see it: due date and, once paid, the day it was paid (lender's time zone)."""

    due_date: datetime.date
    paid_on: datetime.date | None = None


@dataclass(frozen=True)
class PlanResult:
    """Whether a repayment plan is being kept, and why."""

    kept: bool
    reason: str | Promise
    missed: tuple[datetime.date, ...] = field(default=())


def plan_kept(
    *, active: bool, instalments: Iterable[InstalmentFact], today: datetime.date, grace_days: int = 0
) -> PlanResult:
    """An active plan is kept while no instalment is unpaid past its due date (plus grace)."""
    if not active:
        return PlanResult(False, _("The plan is not active."))
    missed = tuple(
        sorted(
            instalment.due_date
            for instalment in instalments
            if instalment.paid_on is None and instalment.due_date + datetime.timedelta(days=grace_days) < today
        )
    )
    if missed:
        return PlanResult(False, _("An instalment is unpaid past its due date."), missed)
    return PlanResult(True, _("Every instalment due so far is paid."))


@dataclass(frozen=True)
class ProposedInstalment:
    """One instalment of a proposed plan: its due date and amount."""

    due_date: datetime.date
    amount: Decimal


# Bounds of a proposal: how many instalments, how far ahead the last may fall, how long an explained difference is.
PLAN_MAX_INSTALMENTS = 24
PLAN_HORIZON_DAYS = 3 * 366
PLAN_DIFFERENCE_REASON_MIN_LENGTH = 20


def plan_proposal_errors(
    *,
    kind: str,
    instalments: Sequence[ProposedInstalment],
    outstanding: Decimal,
    difference_reason: str,
    today: datetime.date,
) -> dict[str, list[str | Promise]]:
    """Field errors of a plan proposal; empty when it may be filed.

    Instalments fall from today to the horizon in strictly increasing order, each for a positive amount; an
    extension is one instalment. Their total equals the outstanding amount, or the difference is explained.
    """
    errors: dict[str, list[str | Promise]] = {}
    if not instalments:
        errors["instalments"] = [_("Enter at least one instalment.")]
        return errors
    problems: list[str | Promise] = []
    if kind == "extension" and len(instalments) != 1:
        problems.append(_("An extension is one new date for one amount."))
    if len(instalments) > PLAN_MAX_INSTALMENTS:
        problems.append(_("A plan has at most %(max)d instalments.") % {"max": PLAN_MAX_INSTALMENTS})
    dates = [instalment.due_date for instalment in instalments]
    if any(day < today or day > today + datetime.timedelta(days=PLAN_HORIZON_DAYS) for day in dates):
        problems.append(_("Each due date lies between today and three years from now."))
    if any(later <= earlier for earlier, later in itertools.pairwise(dates)):
        problems.append(_("Due dates must follow one another, each after the one before."))
    if any(instalment.amount <= 0 for instalment in instalments):
        problems.append(_("Each amount must be greater than zero."))
    if problems:
        errors["instalments"] = problems
    total = sum((instalment.amount for instalment in instalments), start=Decimal("0"))
    if total != outstanding and len(difference_reason.strip()) < PLAN_DIFFERENCE_REASON_MIN_LENGTH:
        errors["difference_reason"] = [
            _(
                "The instalments total %(total)s but %(outstanding)s is outstanding: explain the difference "
                "in at least %(min)d characters."
            )
            % {"total": total, "outstanding": outstanding, "min": PLAN_DIFFERENCE_REASON_MIN_LENGTH}
        ]
    return errors


@dataclass(frozen=True)
class TimedPayment:
    """A payment with its exact time, for settling instalments in the order the money arrived."""

    paid_at: datetime.datetime
    amount: Decimal


def instalments_settled(
    *, amounts: Sequence[Decimal], payments: Iterable[TimedPayment]
) -> list[datetime.datetime | None]:
    """When each instalment (in due-date order) was paid: payments fill them in turn, oldest first.

    An instalment is paid at the moment the payments so far reach the total of it and every earlier one;
    None while they do not.
    """
    settled: list[datetime.datetime | None] = []
    ordered = sorted(payments, key=lambda payment: payment.paid_at)
    paid, index, owed = Decimal("0"), 0, Decimal("0")
    for amount in amounts:
        owed += amount
        while paid < owed and index < len(ordered):
            paid += ordered[index].amount
            index += 1
        settled.append(ordered[index - 1].paid_at if paid >= owed and index else None)
    return settled


@dataclass(frozen=True)
class PauseResult:
    """Whether reminders and family contact are paused for an account, with every reason that applies."""

    paused: bool
    reasons: tuple[str | Promise, ...]
    codes: tuple[str, ...]


def escalation_pause(
    *, promise: PromiseResult | None, plan: PlanResult | None, open_flags: Collection[str]
) -> PauseResult:
    """Escalation pauses while a promise is pending, a plan is kept, or a dispute or hardship flag is open."""
    codes: list[str] = []
    reasons: list[str | Promise] = []
    if promise is not None and promise.is_pending:
        codes.append("promise_pending")
        reasons.append(_("A promise to pay is pending."))
    if plan is not None and plan.kept:
        codes.append("plan_kept")
        reasons.append(_("A repayment plan is being kept."))
    if "dispute" in open_flags:
        codes.append("dispute_open")
        reasons.append(_("A dispute is open."))
    if "hardship" in open_flags:
        codes.append("hardship_open")
        reasons.append(_("A hardship flag is open."))
    return PauseResult(bool(codes), tuple(reasons), tuple(codes))


@dataclass(frozen=True)
class NextAction:
    """What the officer should do next on an account, as a code and a label."""

    code: str
    label: str | Promise


def next_action(
    *,
    dpd: int | None,
    open_flags: Collection[str] = (),
    promise: PromiseResult | None = None,
    plan: PlanResult | None = None,
    last_outcome: str | None = None,
    cease_requested: bool = False,
) -> NextAction:
    """The officer's next step, from the most to the least pressing fact about the account."""
    if dpd is None:
        return NextAction("none", _("Nothing: the account is paid"))
    if cease_requested:
        return NextAction("cease", _("Only required notices: the borrower asked communication to cease"))
    if "dispute" in open_flags:
        return NextAction("resolve_dispute", _("Resolve the dispute"))
    if "hardship" in open_flags:
        return NextAction("review_hardship", _("Review the hardship case"))
    if promise is not None and promise.status == PromiseStatus.PENDING:
        return NextAction("await_promise", _("Wait for the promised payment"))
    if plan is not None and plan.kept:
        return NextAction("monitor_plan", _("Monitor the repayment plan"))
    if plan is not None and plan.missed:
        return NextAction("plan_missed", _("Follow up the missed instalment"))
    if promise is not None and promise.status == PromiseStatus.BROKEN:
        return NextAction("promise_broken", _("Follow up the broken promise"))
    if last_outcome == "wrong_number":
        return NextAction("find_number", _("Find a working phone number"))
    if dpd < 0:
        return NextAction("pre_due", _("Pre-due reminder"))
    if dpd == 0:
        return NextAction("due_today", _("Due today: remind the borrower"))
    return NextAction("call", _("Call the borrower"))


class RevealPurpose(models.TextChoices):
    """The purposes for which a full personal value may be shown; each reveal records one."""

    VERIFY_IDENTITY = "verify_identity", _("verify the borrower's identity")
    CALL_BORROWER = "call_borrower", _("call the borrower")
    CALL_CONTACT = "call_contact", _("call a contact")
    LEGAL_REQUEST = "legal_request", _("legal request")
    COMPLAINT = "complaint", _("handle a complaint")
    # Not an officer's purpose (no field allows it on the account page): an auditor's download of a person's access
    # file for their data-subject request (collections_app/privacy/views.py).
    DATA_SUBJECT_ACCESS = "data_subject_access", _("answer a data-subject access request")


# Which attributes of which person may be revealed, and the audit field name each one goes by.
REVEALABLE_BORROWER_FIELDS = ("name", "phone", "id_number")
REVEALABLE_CONTACT_FIELDS = ("name", "phone")


@dataclass(frozen=True)
class RevealTarget:
    """A parsed reveal field: whose value (`borrower` or `contact` with its id) and which attribute."""

    person_type: str
    attribute: str
    contact_id: int | None = None

    @property
    def kind(self) -> str:
        """Whose attribute, without the contact's id: `borrower.phone`, `contact.name` (what purposes are set for)."""
        return f"{self.person_type}.{self.attribute}"

    @property
    def field(self) -> str:
        """The field in its canonical form, as the audit event records it: `borrower.phone`, `contact.7.name`."""
        if self.contact_id is None:
            return f"{self.person_type}.{self.attribute}"
        return f"{self.person_type}.{self.contact_id}.{self.attribute}"


def reveal_target_parse(value: str) -> RevealTarget | None:
    """Parse `borrower.<attr>` or `contact.<id>.<attr>`; None for anything else."""
    parts = value.split(".")
    if len(parts) == 2 and parts[0] == "borrower" and parts[1] in REVEALABLE_BORROWER_FIELDS:
        return RevealTarget("borrower", parts[1])
    if (
        len(parts) == 3
        and parts[0] == "contact"
        and parts[1].isascii()
        and parts[1].isdigit()
        and parts[2] in REVEALABLE_CONTACT_FIELDS
    ):
        return RevealTarget("contact", parts[2], int(parts[1]))
    return None


# --- which purposes may reveal which field ------------------------------------------------------------------------

RevealPurposes = Mapping[str, frozenset[str]]
REVEALABLE_KINDS = (
    *(f"borrower.{attribute}" for attribute in REVEALABLE_BORROWER_FIELDS),
    *(f"contact.{attribute}" for attribute in REVEALABLE_CONTACT_FIELDS),
)


def reveal_purposes_checked(purposes: Mapping[str, Iterable[str]]) -> RevealPurposes:
    """`purposes` frozen, once checked: every revealable field named, each with known purposes and at least one.

    Raises ValueError otherwise: a field nobody may reveal, or a typo in a purpose, must not pass silently.
    """
    if set(purposes) != set(REVEALABLE_KINDS):
        raise ValueError(f"reveal purposes must name exactly {REVEALABLE_KINDS}, not {sorted(purposes)}")
    checked = {kind: frozenset(allowed) for kind, allowed in purposes.items()}
    for kind, allowed in checked.items():
        if not allowed or not allowed <= set(RevealPurpose.values):
            raise ValueError(f"reveal purposes of {kind} must be some of {RevealPurpose.values}, not {sorted(allowed)}")
    return MappingProxyType(checked)


_P = RevealPurpose
# The default: an ID number only to verify identity and for legal requests and complaints, a phone or name for
# calling its own person, and legal requests and complaints may reveal anything.
DEFAULT_REVEAL_PURPOSES = reveal_purposes_checked(
    {
        "borrower.name": {_P.VERIFY_IDENTITY, _P.CALL_BORROWER, _P.LEGAL_REQUEST, _P.COMPLAINT},
        "borrower.phone": {_P.VERIFY_IDENTITY, _P.CALL_BORROWER, _P.LEGAL_REQUEST, _P.COMPLAINT},
        "borrower.id_number": {_P.VERIFY_IDENTITY, _P.LEGAL_REQUEST, _P.COMPLAINT},
        "contact.name": {_P.CALL_CONTACT, _P.LEGAL_REQUEST, _P.COMPLAINT},
        "contact.phone": {_P.CALL_CONTACT, _P.LEGAL_REQUEST, _P.COMPLAINT},
    }
)


class HasRevealPurposes(Protocol):
    """A policy version, or anything holding its `reveal_purposes` (kind -> purposes, as JSON)."""

    reveal_purposes: Mapping[str, Iterable[str]]


def reveal_purposes_for(policy: HasRevealPurposes) -> RevealPurposes:
    """Which purposes may reveal which field (by `RevealTarget.kind`) under `policy`, the version in force.

    The mapping is part of the profile's versions, so it changes only by an approved policy proposal.
    """
    return reveal_purposes_checked(policy.reveal_purposes)


def reveal_purpose_choices(policy: HasRevealPurposes) -> dict[str, list[tuple[str, str | Promise]]]:
    """The purposes each field may be revealed for, as form choices, keyed `borrower_id_number`, `contact_phone`..."""
    return {
        kind.replace(".", "_"): [(choice.value, choice.label) for choice in RevealPurpose if choice.value in allowed]
        for kind, allowed in reveal_purposes_for(policy).items()
    }


def reveal_purpose_refusal(*, policy: HasRevealPurposes, target: RevealTarget, purpose: str) -> str | None:
    """Why `purpose` may not reveal `target` under `policy` (in the active language), or None when it may."""
    allowed = reveal_purposes_for(policy)[target.kind]
    if purpose in allowed:
        return None
    labels = ", ".join(str(choice.label) for choice in RevealPurpose if choice.value in allowed)
    return _("This purpose does not allow revealing %(field)s. Allowed: %(allowed)s.") % {
        "field": target.kind,
        "allowed": labels,
    }


def closed_at_after(
    *, outstanding: Decimal, closed_at: datetime.datetime | None, at: datetime.datetime
) -> datetime.datetime | None:
    """When an account with `outstanding` left counts as closed: from the moment nothing is owed (`at`, unless it was
    closed already), and not at all once it owes again (the retention clock then starts over at the next payoff)."""
    if outstanding > 0:
        return None
    return closed_at or at
