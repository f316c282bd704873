"""Accounts built from a few facts each, to hold the SQL form of eligibility (and the dry run) equal to the Python
rules: `build` writes one account with its borrower's contacts and history; `eligible_in_python` asks
`review.selectors.eligibility_evaluate` about every contact, as an officer filing a request would."""

import datetime
import itertools
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import time_machine
from django.contrib.auth.models import User

from collections_app.models import (
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    Message,
    MessageTemplate,
    PhoneOptOut,
    PolicyVersion,
    PromiseToPay,
)
from review.models import FamilyContactRequest
from review.selectors import eligibility_evaluate
from tests.factories import make_account, make_contact, make_payment, make_plan

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
_phones = itertools.count(1)


def local(days_ago: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """A lender-local moment `days_ago` days before TODAY."""
    day = TODAY - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class ContactSpec:
    """One contact: consent, opt-out, an open request, family messages (days ago) to its phone."""

    consent: bool = True
    opted_out: bool = False
    open_request: bool = False
    messaged_days_ago: tuple[int, ...] = ()


@dataclass(frozen=True)
class Spec:
    """One account's facts: DPD, calls to the borrower (days ago, hour, outcome), promises, pauses, contacts."""

    dpd: int | None = 45
    calls: tuple[tuple[int, int, str], ...] = ()
    # (promised days ago, made days ago, paid): a promise with no payment is broken once its deadline passed.
    promises: tuple[tuple[int, int, bool], ...] = ()
    kept_plan: bool = False
    open_flag: bool = False
    contacts: tuple[ContactSpec, ...] = (ContactSpec(),)
    # Family messages to other contacts of the borrower in the last days (their number).
    other_contacts_messaged: int = 0
    calls_to_a_contact: int = 0


NO_ANSWER = Interaction.Outcome.NO_ANSWER
REFUSED = Interaction.Outcome.REFUSED
FIVE_ON_THREE_DAYS = ((1, 10, NO_ANSWER), (1, 15, NO_ANSWER), (3, 11, NO_ANSWER), (5, 9, NO_ANSWER), (5, 16, NO_ANSWER))


def _family_message(account: LoanAccount, contact: Contact, template: MessageTemplate, days_ago: int) -> None:
    with time_machine.travel(local(days_ago, 12), tick=False):
        Message.objects.create(
            borrower=account.borrower,
            account=account,
            contact=contact,
            audience=Message.Audience.FAMILY,
            channel=Message.Channel.SMS,
            recipient=contact.phone,
            body="family",
            template_version=template.current_version,
            policy_version=PolicyVersion.objects.filter(profile__code="cn-default").first(),
            status=Message.Status.SENT,
            sent_at=local(days_ago, 12),
            send_date=TODAY - datetime.timedelta(days=days_ago),
            idempotency_key=f"fam:{contact.pk}:{days_ago}:{next(_phones)}",
        )


def build(spec: Spec, officer: User, template: MessageTemplate) -> LoanAccount:
    """Write one account as `spec` says (call inside `time_machine.travel(NOW)`)."""
    account = make_account(officer, dpd=spec.dpd, today=TODAY)
    for days_ago, hour, outcome in spec.calls:
        Interaction.objects.create(account=account, officer=officer, outcome=outcome, occurred_at=local(days_ago, hour))
    for promised_ago, made_ago, paid in spec.promises:
        with time_machine.travel(local(made_ago, 9), tick=False):
            PromiseToPay.objects.create(
                account=account,
                promised_date=TODAY - datetime.timedelta(days=promised_ago),
                amount=Decimal("100"),
                created_by=officer,
            )
        if paid:
            make_payment(account, Decimal("100"), paid_at=local(promised_ago, 12))
    if spec.kept_plan:
        make_plan(account, officer, instalments=[(TODAY + datetime.timedelta(days=10), Decimal("100"))])
    if spec.open_flag:
        Flag.objects.create(account=account, kind="dispute", opened_reason="not mine", opened_by=officer, opened_at=NOW)
    for contact_spec in spec.contacts:
        fields = {} if contact_spec.consent else {"consent_basis": "", "consent_at": None}
        contact = make_contact(account.borrower, **fields)
        if contact_spec.opted_out:
            PhoneOptOut.objects.create(phone=contact.phone, source=PhoneOptOut.Source.OFFICER, received_at=NOW)
        if contact_spec.open_request:
            FamilyContactRequest.objects.create(
                account=account,
                contact=contact,
                template_version=template.current_version,
                justification="An open request for this contact already.",
                policy_version=PolicyVersion.objects.filter(profile__code="cn-default").first(),
                requested_by=officer,
                requested_at=NOW,
            )
        for days_ago in contact_spec.messaged_days_ago:
            _family_message(account, contact, template, days_ago)
    for _ in range(spec.other_contacts_messaged):
        _family_message(account, make_contact(account.borrower, consent_at=None, consent_basis=""), template, 3)
    if spec.calls_to_a_contact:
        sister = make_contact(account.borrower, consent_at=None, consent_basis="")
        for days_ago, hour, outcome in FIVE_ON_THREE_DAYS[: spec.calls_to_a_contact]:
            Interaction.objects.create(
                account=account, officer=officer, contact=sister, outcome=outcome, occurred_at=local(days_ago, hour)
            )
    return account


def eligible_in_python(account: LoanAccount, policy: PolicyVersion, template: MessageTemplate) -> bool:
    """Whether any contact of the borrower passes every rule today with a fresh request under `policy`."""
    return any(
        eligibility_evaluate(
            account=account, contact=contact, template_version=template.current_version, policy_version=policy, now=NOW
        )[0].eligible
        for contact in account.borrower.contacts.all()
    )


def policy_with(**values: object) -> PolicyVersion:
    """cn-default's current numbers with `values` changed, unsaved (the values a proposal would make)."""
    current = PolicyVersion.objects.filter(profile__code="cn-default").order_by("-version").first()
    version = PolicyVersion.objects.get(pk=current.pk)
    version.pk = None
    version.version = current.version + 1
    for name, value in values.items():
        setattr(version, name, value)
    return version


# Each case alone on one rule's edge, under cn-default's numbers or a variant.
CASES: dict[str, Spec] = {
    "eligible": Spec(calls=FIVE_ON_THREE_DAYS),
    "dpd-29": Spec(dpd=29, calls=FIVE_ON_THREE_DAYS),
    "dpd-30": Spec(dpd=30, calls=FIVE_ON_THREE_DAYS),
    "paid": Spec(dpd=None, calls=FIVE_ON_THREE_DAYS),
    "four-attempts": Spec(calls=FIVE_ON_THREE_DAYS[:4]),
    "five-on-two-days": Spec(calls=tuple((d % 2 + 1, 10 + d, NO_ANSWER) for d in range(5))),
    "attempts-at-the-window-edge": Spec(calls=((13, 10, NO_ANSWER), (13, 11, NO_ANSWER), *FIVE_ON_THREE_DAYS[2:])),
    "attempts-past-the-window": Spec(calls=((14, 10, NO_ANSWER), (14, 11, NO_ANSWER), *FIVE_ON_THREE_DAYS[2:])),
    # 23:30 and 00:30 lender time: the day is the lender's, not UTC's.
    "attempts-near-midnight": Spec(
        calls=((2, 23, NO_ANSWER), (1, 0, NO_ANSWER), (1, 23, NO_ANSWER), (3, 0, NO_ANSWER), (4, 23, NO_ANSWER))
    ),
    "wrong-numbers": Spec(calls=tuple((d, 10, Interaction.Outcome.WRONG_NUMBER) for d in (1, 2, 3, 3, 4))),
    "attempts-to-a-contact": Spec(calls_to_a_contact=5),
    "refusal": Spec(calls=((2, 10, REFUSED),)),
    "old-refusal": Spec(calls=((20, 10, REFUSED),)),
    "two-broken-promises": Spec(promises=((40, 45, False), (20, 25, False))),
    "one-broken-promise": Spec(promises=((20, 25, False),)),
    "broken-and-kept": Spec(promises=((40, 45, False), (20, 25, True))),
    "broken-at-the-window-edge": Spec(promises=((60, 65, False), (20, 25, False))),
    "pending-promise": Spec(calls=FIVE_ON_THREE_DAYS, promises=((-3, 1, False),)),
    "promise-in-grace": Spec(calls=FIVE_ON_THREE_DAYS, promises=((1, 4, False),)),
    "kept-plan": Spec(calls=FIVE_ON_THREE_DAYS, kept_plan=True),
    "open-dispute": Spec(calls=FIVE_ON_THREE_DAYS, open_flag=True),
    "no-contact": Spec(calls=FIVE_ON_THREE_DAYS, contacts=()),
    "no-consent": Spec(calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(consent=False),)),
    "opted-out": Spec(calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(opted_out=True),)),
    "open-request": Spec(calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(open_request=True),)),
    "messaged-3-days-ago": Spec(calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(messaged_days_ago=(3,)),)),
    "messaged-10-days-ago": Spec(calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(messaged_days_ago=(10,)),)),
    "three-others-messaged": Spec(calls=FIVE_ON_THREE_DAYS, other_contacts_messaged=3),
    "two-others-messaged": Spec(calls=FIVE_ON_THREE_DAYS, other_contacts_messaged=2),
    "one-bad-one-good-contact": Spec(
        calls=FIVE_ON_THREE_DAYS, contacts=(ContactSpec(opted_out=True), ContactSpec(messaged_days_ago=(40,)))
    ),
}

# Policy variants (changes to cn-default's numbers) that move each edge above.
VARIANTS: dict[str, dict[str, object]] = {
    "cn-default": {},
    "refusals-count": {"family_only_when_unreachable": False},
    "dpd-45": {"family_min_dpd": 45},
    "dpd-31": {"family_min_dpd": 31},
    "four-on-two-days": {"failed_attempts_min": 4, "failed_attempt_days_min": 2},
    "no-attempts-needed": {"failed_attempts_min": 0, "failed_attempt_days_min": 0},
    "window-15": {"failed_attempts_window_days": 15, "family_only_when_unreachable": False},
    "one-broken-promise": {"broken_promises_min": 1, "family_only_when_unreachable": False},
    "broken-window-61": {"broken_promises_window_days": 61, "family_only_when_unreachable": False},
    "no-broken-needed": {"broken_promises_min": 0, "family_only_when_unreachable": False},
    "no-grace-short-horizon": {"promise_grace_days": 0, "promise_horizon_days": 2},
    "once-only": {"contact_once_only": True},
    "interval-2": {"contact_interval_days": 2},
    "interval-14": {"contact_interval_days": 14},
    "one-contact-a-window": {"max_contacts_per_borrower": 1},
    "no-contacts": {"max_contacts_per_borrower": 0},
    "contacts-window-2": {"contacts_window_days": 2},
}
