"""The contact gate's facts, read for a whole batch of contacts in a fixed handful of queries.

`contact_book_load` reads what `contact_gate` needs about every target at once (the borrowers locked first for
the relay and call logging, so two never both pass a cap): their open flags, their accounts' states (paid, the
pause rules in their SQL form from `selectors.profiles`, a cease request), stopped channels, opted-out phones,
the messages handed per day and the calls of the last days. `ContactBook.facts` then builds one target's
`ContactFacts` in Python, and `ContactBook.count_message` counts a hand-off of the batch against the caps.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from collections_app.dpd import lender_today
from collections_app.messaging.contact_gate import (
    CALL_CHANNEL,
    REMINDER_CHANNELS,
    ContactDecision,
    ContactFacts,
    contact_gate,
    ladder_stage,
)
from collections_app.messaging.opt_outs import phones_opted_out
from collections_app.messaging.rules import CallFact, daily_cap_counted, recipient_zone
from collections_app.models import (
    Borrower,
    BorrowerFlag,
    ChannelStop,
    Contact,
    Interaction,
    LoanAccount,
    Message,
    PolicyVersion,
)
from collections_app.selectors.profiles import current_policy_versions, escalation_paused_q


@dataclass(frozen=True)
class ContactTarget:
    """One contact to decide: the borrower (and account) it is about, its recipient and channel, and its kind.

    `contact_id` is None for the borrower. `message` marks a message (the daily message cap applies); `stage`,
    `send_day` and `task_day` feed the staleness rules (`contact_gate.ContactFacts`).
    """

    borrower_id: int
    account_id: int | None
    channel: str
    zone: str
    policy: PolicyVersion
    contact_id: int | None = None
    phone: str = ""
    message: bool = False
    stage: str | None = None
    send_day: datetime.date | None = None
    task_day: datetime.date | None = None


def message_target(message: Message) -> ContactTarget:
    """The contact a message makes: to its borrower or contact, on its channel, under its policy version."""
    to_borrower = message.audience == Message.Audience.BORROWER
    code = message.template_version.template.code if message.template_version_id else None
    return ContactTarget(
        borrower_id=message.borrower_id,
        account_id=message.account_id,
        channel=message.channel,
        zone=message.recipient_timezone,
        policy=message.policy_version or PolicyVersion(),
        contact_id=message.contact_id,
        phone=message.recipient,
        message=True,
        stage=ladder_stage(code) if to_borrower else None,
        send_day=message.send_date if to_borrower and message.channel in REMINDER_CHANNELS else None,
    )


# A policy's promise grace and horizon (days): what a promise's pause depends on.
PromiseTerms = tuple[int, int]


def _promise_terms(policy: PolicyVersion) -> PromiseTerms:
    return policy.promise_grace_days, policy.promise_horizon_days


@dataclass(frozen=True)
class _AccountState:
    unpaid_due_date: datetime.date | None
    paused: bool


@dataclass
class ContactBook:
    """What the gate knows about a batch of targets, read once; `facts` answers per target."""

    ceased: set[int] = field(default_factory=set)
    flags: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    # By (account id, promise terms); accounts of a target without an account are listed by borrower. A pause
    # depends on the policy's grace and horizon.
    accounts: dict[tuple[int, PromiseTerms], _AccountState] = field(default_factory=dict)
    by_borrower: dict[tuple[int, PromiseTerms], list[_AccountState]] = field(default_factory=lambda: defaultdict(list))
    stopped: set[tuple[int, str]] = field(default_factory=set)
    opted_out: set[str] = field(default_factory=set)
    # Messages handed per local day, by (borrower, channel).
    messages: dict[tuple[int, str], dict[datetime.date, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    # Officers' calls as (moment, connected) and automated voice calls as local days, by (borrower, contact).
    calls: dict[tuple[int, int | None], list[tuple[datetime.datetime, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    voice: dict[tuple[int, int | None], list[datetime.date]] = field(default_factory=lambda: defaultdict(list))

    def _account(self, target: ContactTarget) -> _AccountState:
        terms = _promise_terms(target.policy)
        if target.account_id is not None:
            return self.accounts.get((target.account_id, terms), _AccountState(None, False))
        # A message about no one account speaks of the borrower's debt: any unpaid account, any pause counts.
        unpaid = [s for s in self.by_borrower[(target.borrower_id, terms)] if s.unpaid_due_date is not None]
        if not unpaid:
            return _AccountState(None, False)
        return _AccountState(min(s.unpaid_due_date for s in unpaid), any(s.paused for s in unpaid))

    def _calls(self, target: ContactTarget) -> tuple[CallFact, ...]:
        key = (target.borrower_id, target.contact_id)
        zone = recipient_zone(target.zone)
        calls = [CallFact(day=at.astimezone(zone).date(), connected=ok) for at, ok in self.calls.get(key, ())]
        calls += [CallFact(day=day, connected=True, automated=True) for day in self.voice.get(key, ())]
        return tuple(calls)

    def facts(self, target: ContactTarget) -> ContactFacts:
        """The gate's facts about one target of the batch."""
        account = self._account(target)
        flags = self.flags.get(target.borrower_id, set())
        messages = dict(self.messages.get((target.borrower_id, target.channel), {})) if target.message else None
        return ContactFacts(
            channel=target.channel,
            zone=target.zone,
            unpaid_due_date=account.unpaid_due_date,
            to_contact=target.contact_id is not None,
            stage=target.stage,
            paused=account.paused,
            ceased=target.borrower_id in self.ceased,
            channel_stopped=(target.borrower_id, target.channel) in self.stopped,
            opted_out=target.phone in self.opted_out,
            represented=BorrowerFlag.Kind.REPRESENTED in flags,
            vulnerable=BorrowerFlag.Kind.VULNERABLE in flags,
            messages_by_day=messages,
            calls=self._calls(target) if target.channel == CALL_CHANNEL else (),
            send_day=target.send_day,
            task_day=target.task_day,
        )

    def count_message(self, target: ContactTarget, day: datetime.date) -> None:
        """Count a message of this batch handed over on the recipient's `day` against the daily cap (which counts
        the borrower's own messages: one to a contact counts for nobody)."""
        if target.contact_id is None:
            self.messages[(target.borrower_id, target.channel)][day] += 1


def _load_accounts(book: ContactBook, targets: Sequence[ContactTarget], today: datetime.date) -> None:
    """The states of the targets' accounts, one query per promise terms in use (in practice one)."""
    by_terms: dict[PromiseTerms, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for target in targets:
        accounts, borrowers = by_terms[_promise_terms(target.policy)]
        if target.account_id is not None:
            accounts.add(target.account_id)
        else:
            borrowers.add(target.borrower_id)
    for terms, (accounts, borrowers) in by_terms.items():
        grace, horizon = terms
        paused = ExpressionWrapper(
            escalation_paused_q(today=today, grace_days=grace, horizon_days=horizon), output_field=BooleanField()
        )
        rows = (
            LoanAccount.objects.filter(Q(pk__in=accounts) | Q(borrower_id__in=borrowers))
            .annotate(paused=paused)
            .values_list("pk", "borrower_id", "oldest_unpaid_due_date", "paused", "borrower__cease_requested_at")
        )
        for pk, borrower_id, due, is_paused, ceased_at in rows:
            state = _AccountState(due, bool(is_paused))
            if ceased_at is not None:
                book.ceased.add(borrower_id)
            book.accounts[(pk, terms)] = state
            if borrower_id in borrowers:
                book.by_borrower[(borrower_id, terms)].append(state)


def _load_calls(book: ContactBook, targets: Sequence[ContactTarget], now: datetime.datetime) -> None:
    """Officers' and automated calls of the call targets' recipients over the longest window a cap looks back."""
    calling = [t for t in targets if t.channel == CALL_CHANNEL]
    if not calling:
        return
    borrowers = {t.borrower_id for t in calling}
    days = max(max(t.policy.call_attempts_window_days, t.policy.no_calls_after_conversation_days, 1) for t in calling)
    # One day more than the window: the recipient's day may begin before the lender's.
    first_day = lender_today(now) - datetime.timedelta(days=days + 1)
    since = datetime.datetime.combine(first_day, datetime.time(), tzinfo=datetime.UTC)
    for borrower_id, contact_id, at, outcome in Interaction.objects.filter(
        account__borrower_id__in=borrowers, channel=Interaction.Channel.PHONE, occurred_at__gte=since
    ).values_list("account__borrower_id", "contact_id", "occurred_at", "outcome"):
        book.calls[(borrower_id, contact_id)].append((at, outcome in Interaction.CONNECTED_OUTCOMES))
    for borrower_id, contact_id, day in (
        daily_cap_counted(queueing=False, audience=None)
        .filter(borrower_id__in=borrowers, channel=CALL_CHANNEL, send_date__gte=first_day)
        .values_list("borrower_id", "contact_id", "send_date")
    ):
        book.voice[(borrower_id, contact_id)].append(day)


def _lock_borrowers(borrower_ids: list[int]) -> None:
    """Lock the borrowers before their caps are counted: two relays (or two calls) then never both pass a cap.

    In id order, no key update: inserts referencing them go on.
    """
    list(Borrower.objects.select_for_update(no_key=True).filter(pk__in=borrower_ids).order_by("pk").values("pk"))


def contact_book_load(
    targets: Sequence[ContactTarget], *, now: datetime.datetime, lock_borrowers: bool = False
) -> ContactBook:
    """Read what the gate needs about every target, in a handful of queries whatever their number."""
    book = ContactBook()
    if not targets:
        return book
    borrower_ids = sorted({t.borrower_id for t in targets})
    if lock_borrowers:
        _lock_borrowers(borrower_ids)
    for borrower_id, kind in BorrowerFlag.objects.filter(
        borrower_id__in=borrower_ids, closed_at__isnull=True
    ).values_list("borrower_id", "kind"):
        book.flags[borrower_id].add(kind)
    _load_accounts(book, targets, lender_today(now))
    book.stopped = set(ChannelStop.objects.filter(borrower_id__in=borrower_ids).values_list("borrower_id", "channel"))
    if phones := {t.phone for t in targets if t.contact_id is not None and t.phone}:
        book.opted_out = phones_opted_out(phones)
    if any(t.message for t in targets):
        first_day = lender_today(now) - datetime.timedelta(days=2)
        for row in (
            daily_cap_counted(queueing=False)
            .filter(borrower_id__in=borrower_ids, send_date__gte=first_day)
            .values("borrower_id", "channel", "send_date")
            .annotate(n=Count("pk"))
        ):
            book.messages[(row["borrower_id"], row["channel"])][row["send_date"]] = row["n"]
    _load_calls(book, targets, now)
    return book


@dataclass(frozen=True)
class CallSubject:
    """Whom a call is to: an account (its borrower, its policy profile) and the recipient's zone and phone.

    `contact_id` None is a call to the borrower; `task_day` the day of the call task it answers, if any.
    """

    account_id: int
    borrower_id: int
    profile_id: int
    zone: str
    phone: str = ""
    contact_id: int | None = None
    task_day: datetime.date | None = None

    @classmethod
    def of(cls, account: LoanAccount, contact: Contact | None = None) -> "CallSubject":
        """A call about `account` to its borrower, or to `contact`; the account's borrower and portfolio loaded."""
        person = contact or account.borrower
        return cls(
            account_id=account.pk,
            borrower_id=account.borrower_id,
            profile_id=account.portfolio.policy_profile_id,
            zone=person.timezone,
            phone=person.phone,
            contact_id=contact.pk if contact else None,
        )


def call_decisions(
    subjects: Sequence[CallSubject], *, now: datetime.datetime, lock_borrowers: bool = False
) -> list[ContactDecision]:
    """The gate's answer to each call now, under the policy version in force for its account, in one batch."""
    if not subjects:
        return []
    policies = {version.profile_id: version for version in current_policy_versions(at=now).values()}
    targets = [
        ContactTarget(
            borrower_id=subject.borrower_id,
            account_id=subject.account_id,
            channel=CALL_CHANNEL,
            zone=subject.zone,
            policy=policies.get(subject.profile_id) or PolicyVersion(),
            contact_id=subject.contact_id,
            phone=subject.phone,
            task_day=subject.task_day,
        )
        for subject in subjects
    ]
    book = contact_book_load(targets, now=now, lock_borrowers=lock_borrowers)
    return [contact_gate(book.facts(target), policy=target.policy, now=now) for target in targets]
