"""Family-contact eligibility (DOMAIN.md rules 1-7) as pure functions over plain facts.

Each rule returns pass or fail with its reason and the numbers behind it; the numbers it compares against come
from the policy version active for the account's portfolio. Callers load the facts (review.selectors); these
functions decide, so the same code explains the decision in the UI and can be tested without a database.

"In the last N days" means the N lender-local dates ending today: (today - N, today].
"""

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext, ngettext

from collections_app.account_rules import PlanResult, PromiseResult, escalation_pause


class EligibilityNumbers(Protocol):
    """The numbers the rules read; `collections_app.PolicyVersion` provides them."""

    family_min_dpd: int
    failed_attempts_min: int
    failed_attempt_days_min: int
    failed_attempts_window_days: int
    broken_promises_min: int
    broken_promises_window_days: int
    family_only_when_unreachable: bool
    contact_interval_days: int
    contact_once_only: bool
    max_contacts_per_borrower: int
    contacts_window_days: int


@dataclass(frozen=True)
class EligibilityFacts:
    """What the rules need to know about one account, one contact and one template, as plain values."""

    today: datetime.date
    dpd: int | None
    # Rule 2: lender-local dates of failed attempts and explicit refusals; deadlines of broken promises.
    failed_attempt_dates: tuple[datetime.date, ...] = ()
    refusal_dates: tuple[datetime.date, ...] = ()
    broken_promise_dates: tuple[datetime.date, ...] = ()
    # Rule 3: the account's current promise and plan as collections_app.account_rules derives them, and open flags.
    promise: PromiseResult | None = None
    plan: PlanResult | None = None
    open_flags: tuple[str, ...] = ()
    # Rule 4: the contact as the borrower registered it.
    contact_of_borrower: bool = True
    consent_basis: str = ""
    consent_recorded: bool = False
    contact_opted_out: bool = False
    # Rule 5: other open (submitted or approved-unsent) requests for the same borrower and contact.
    other_open_requests: int = 0
    # Rule 6: lender-local dates of earlier family messages to this contact's phone, and (contact id, date) of
    # family messages to this borrower's contacts.
    contact_message_dates: tuple[datetime.date, ...] = ()
    borrower_family_messages: tuple[tuple[int, datetime.date], ...] = ()
    contact_id: int = 0
    # Rule 7: the template version and what the firewall found in the rendered message.
    template_audience: str = ""
    template_approved: bool = False
    template_current: bool = False
    firewall_findings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict, its reason and the numbers it compared."""

    rule: int
    code: str
    passed: bool
    reason: str
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """All seven rules; eligible only when every one passes."""

    results: tuple[RuleResult, ...]

    @property
    def eligible(self) -> bool:
        """Whether every rule passed."""
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The rules that failed, in order."""
        return tuple(result for result in self.results if not result.passed)

    def failure_summary(self) -> str:
        """The failed rules' reasons on one line, for a cancellation reason."""
        return "; ".join(f"{gettext('Rule')} {result.rule}: {result.reason}" for result in self.failed)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable form to store with the request."""
        return {"eligible": self.eligible, "results": [asdict(result) for result in self.results]}


def _in_window(dates: Iterable[datetime.date], today: datetime.date, days: int) -> list[datetime.date]:
    start = today - datetime.timedelta(days=days)
    return [day for day in dates if start < day <= today]


def rule_dpd(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 1: the account is at least `family_min_dpd` days past due."""
    values = {"dpd": facts.dpd, "min_dpd": numbers.family_min_dpd}
    if facts.dpd is None:
        return RuleResult(1, "dpd", False, gettext("The account is paid: it has no days past due."), values)
    if facts.dpd < numbers.family_min_dpd:
        reason = gettext("DPD is %(dpd)d, below the threshold of %(min_dpd)d.") % values
        return RuleResult(1, "dpd", False, reason, values)
    return RuleResult(1, "dpd", True, gettext("DPD is %(dpd)d, at least %(min_dpd)d.") % values, values)


def rule_unreachable(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 2: enough failed attempts on enough days, or an explicit refusal, or enough broken promises.

    Under `family_only_when_unreachable` (the cn floor) only the first half counts: a borrower who refuses or
    breaks promises can be reached, and their family is not asked.
    """
    attempts = _in_window(facts.failed_attempt_dates, facts.today, numbers.failed_attempts_window_days)
    refusals = _in_window(facts.refusal_dates, facts.today, numbers.failed_attempts_window_days)
    broken = _in_window(facts.broken_promise_dates, facts.today, numbers.broken_promises_window_days)
    values = {
        "failed_attempts": len(attempts),
        "failed_attempt_days": len(set(attempts)),
        "failed_attempts_min": numbers.failed_attempts_min,
        "failed_attempt_days_min": numbers.failed_attempt_days_min,
        "attempts_window_days": numbers.failed_attempts_window_days,
        "refusals": len(refusals),
        "broken_promises": len(broken),
        "broken_promises_min": numbers.broken_promises_min,
        "broken_promises_window_days": numbers.broken_promises_window_days,
        "only_unreachable": bool(numbers.family_only_when_unreachable),
    }
    if len(attempts) >= numbers.failed_attempts_min and len(set(attempts)) >= numbers.failed_attempt_days_min:
        reason = (
            gettext(
                "%(failed_attempts)d failed attempts on %(failed_attempt_days)d days in the last "
                "%(attempts_window_days)d days (needs %(failed_attempts_min)d on %(failed_attempt_days_min)d)."
            )
            % values
        )
        return RuleResult(2, "unreachable", True, reason, values)
    if values["only_unreachable"]:
        reason = (
            gettext(
                "Not shown unreachable: %(failed_attempts)d failed attempts on %(failed_attempt_days)d days "
                "(needs %(failed_attempts_min)d on %(failed_attempt_days_min)d in %(attempts_window_days)d days). "
                "Under this profile refusals and broken promises do not count: the borrower can be reached."
            )
            % values
        )
        return RuleResult(2, "unreachable", False, reason, values)
    if refusals:
        reason = gettext("The borrower refused explicitly in the last %(attempts_window_days)d days.") % values
        return RuleResult(2, "unreachable", True, reason, values)
    if len(broken) >= numbers.broken_promises_min:
        reason = (
            gettext("%(broken_promises)d broken promises in the last %(broken_promises_window_days)d days.") % values
        )
        return RuleResult(2, "unreachable", True, reason, values)
    reason = (
        gettext(
            "Not shown unreachable: %(failed_attempts)d failed attempts on %(failed_attempt_days)d days "
            "(needs %(failed_attempts_min)d on %(failed_attempt_days_min)d in %(attempts_window_days)d days), "
            "no refusal, %(broken_promises)d broken promises (needs %(broken_promises_min)d in "
            "%(broken_promises_window_days)d days)."
        )
        % values
    )
    return RuleResult(2, "unreachable", False, reason, values)


def rule_not_paused(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 3: no pending promise, no kept plan, no open dispute or hardship flag (the escalation pause)."""
    pause = escalation_pause(promise=facts.promise, plan=facts.plan, open_flags=facts.open_flags)
    values: dict[str, Any] = {"pause": list(pause.codes)}
    if facts.promise is not None and facts.promise.is_pending:
        values["promise_deadline"] = facts.promise.deadline.isoformat()
    if pause.paused:
        return RuleResult(3, "not_paused", False, " ".join(str(reason) for reason in pause.reasons), values)
    reason = gettext("No pending promise, no kept repayment plan, no open dispute or hardship flag.")
    return RuleResult(3, "not_paused", True, reason, values)


def rule_contact(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 4: a contact the borrower registered, with a recorded consent basis, who has not opted out."""
    values = {
        "contact_of_borrower": facts.contact_of_borrower,
        "consent_recorded": facts.consent_recorded and bool(facts.consent_basis),
        "opted_out": facts.contact_opted_out,
    }
    if not facts.contact_of_borrower:
        return RuleResult(4, "contact", False, gettext("The contact is not registered by this borrower."), values)
    if not values["consent_recorded"]:
        reason = gettext("The contact has no recorded consent basis from registration.")
        return RuleResult(4, "contact", False, reason, values)
    if facts.contact_opted_out:
        return RuleResult(4, "contact", False, gettext("The contact's phone number has opted out."), values)
    reason = gettext("Registered by the borrower with a recorded consent basis; not opted out.")
    return RuleResult(4, "contact", True, reason, values)


def rule_no_open_request(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 5: no other request for the same borrower and contact is pending or approved but unsent."""
    values = {"other_open_requests": facts.other_open_requests}
    if facts.other_open_requests:
        reason = gettext("Another request for this contact is pending or approved but not sent.")
        return RuleResult(5, "no_open_request", False, reason, values)
    return RuleResult(5, "no_open_request", True, gettext("No other open request for this contact."), values)


def rule_frequency(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 6: one message per contact per interval (or ever, when once only); few contacts per borrower."""
    recent = _in_window(facts.contact_message_dates, facts.today, numbers.contact_interval_days)
    in_window = _in_window(
        [day for _, day in facts.borrower_family_messages], facts.today, numbers.contacts_window_days
    )
    window_start = facts.today - datetime.timedelta(days=numbers.contacts_window_days)
    others = {cid for cid, day in facts.borrower_family_messages if window_start < day <= facts.today}
    others.discard(facts.contact_id)
    values = {
        "messages_to_contact_in_interval": len(recent),
        "messages_to_contact_ever": len(facts.contact_message_dates),
        "interval_days": numbers.contact_interval_days,
        "once_only": numbers.contact_once_only,
        "other_contacts_in_window": len(others),
        "max_contacts": numbers.max_contacts_per_borrower,
        "contacts_window_days": numbers.contacts_window_days,
        "family_messages_in_window": len(in_window),
    }
    if numbers.contact_once_only and facts.contact_message_dates:
        reason = gettext("This contact has already been contacted once; the profile allows only once.")
        return RuleResult(6, "frequency", False, reason, values)
    if recent:
        reason = (
            ngettext(
                "This contact received a family message in the last %(interval_days)d day.",
                "This contact received a family message in the last %(interval_days)d days.",
                numbers.contact_interval_days,
            )
            % values
        )
        return RuleResult(6, "frequency", False, reason, values)
    if len(others) >= numbers.max_contacts_per_borrower:
        reason = (
            gettext(
                "%(other_contacts_in_window)d other contacts of this borrower were messaged in the last "
                "%(contacts_window_days)d days (at most %(max_contacts)d)."
            )
            % values
        )
        return RuleResult(6, "frequency", False, reason, values)
    reason = (
        gettext(
            "No message to this contact in %(interval_days)d days; %(other_contacts_in_window)d other contacts "
            "in %(contacts_window_days)d days (at most %(max_contacts)d)."
        )
        % values
    )
    return RuleResult(6, "frequency", True, reason, values)


def rule_template(facts: EligibilityFacts, numbers: EligibilityNumbers) -> RuleResult:
    """Rule 7: an approved, current `family` template whose message passes the content firewall."""
    values = {
        "audience": facts.template_audience,
        "approved": facts.template_approved,
        "current": facts.template_current,
        "findings": [{"category": category, "text": text} for category, text in facts.firewall_findings],
    }
    if facts.template_audience != "family":
        return RuleResult(7, "template", False, gettext("The template is not a family template."), values)
    if not facts.template_approved or not facts.template_current:
        reason = gettext("The template's current version is not approved.")
        return RuleResult(7, "template", False, reason, values)
    if facts.firewall_findings:
        categories = ", ".join(sorted({category for category, _ in facts.firewall_findings}))
        reason = gettext("The message fails the content firewall: %(categories)s.") % {"categories": categories}
        return RuleResult(7, "template", False, reason, values)
    reason = gettext("Approved family template; the message passes the content firewall.")
    return RuleResult(7, "template", True, reason, values)


RULES = (rule_dpd, rule_unreachable, rule_not_paused, rule_contact, rule_no_open_request, rule_frequency, rule_template)


def evaluate(facts: EligibilityFacts, numbers: EligibilityNumbers) -> Evaluation:
    """Run every rule (all are reported, not just the first failure)."""
    return Evaluation(tuple(rule(facts, numbers) for rule in RULES))
