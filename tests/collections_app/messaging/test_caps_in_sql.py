"""Each cap's SQL form agrees with its Python form in collections_app.messaging.rules, over a grid of cases.

One book of borrowers, each with its own history of messages or calls (at the day's edges, on another
account of the same borrower, on another channel, tomorrow, to a contact, automated), in several zones; for
every setting of a rule, the accounts its
SQL form lets through are exactly those its Python form allows.
"""

import datetime
import itertools
import zoneinfo
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import OuterRef, Q
from django.utils import timezone

from collections_app.messaging.rules import (
    CAP_STATUSES,
    NEVER_SENT_STATUSES,
    CallFact,
    call_attempts_cap,
    call_attempts_cap_q,
    connected_calls_cap,
    connected_calls_cap_q,
    daily_cap,
    daily_cap_messages,
    daily_cap_probe_sql,
    daily_cap_q,
    no_calls_after_conversation,
    no_calls_after_conversation_q,
    recipient_zone,
    zones_in_use,
)
from collections_app.models import Interaction, LoanAccount, Message
from tests.collections_app.messaging.messaging_support import ladder_version, policy
from tests.factories import make_account, make_borrower, make_contact

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)
LENDER = zoneinfo.ZoneInfo(settings.TIME_ZONE)
Outcome = Interaction.Outcome


def at(days: int, clock: datetime.time) -> datetime.datetime:
    """An instant `days` days from TODAY at `clock`, lender time."""
    return datetime.datetime.combine(TODAY + datetime.timedelta(days=days), clock, tzinfo=LENDER)


def allowed_in_sql(accounts: list[LoanAccount], q: Q) -> set[int]:
    return set(LoanAccount.objects.filter(pk__in=[a.pk for a in accounts]).filter(q).values_list("pk", flat=True))


# --- messages: the daily cap -----------------------------------------------------------------------------------

MESSAGE_STATUSES = list(Message.Status)
# Messages that must never count towards today's SMS cap, whatever their status.
MESSAGE_NOISE = [None, ("in_app", 0, Message.Status.SENT), ("sms", -1, Message.Status.SENT)]


def message(account: LoanAccount, channel: str, days: int, status: str, key: str) -> Message:
    handed = status in ("sending", "sent", "delivered")
    return Message(
        borrower_id=account.borrower_id,
        account=account,
        audience=Message.Audience.BORROWER,
        channel=channel,
        recipient=account.borrower.phone,
        body="x",
        template_version=ladder_version(channel=channel),
        status=status,
        status_reason="cap test" if status == "suppressed" else "",
        idempotency_key=key,
        policy_version=policy(),
        send_date=TODAY + datetime.timedelta(days=days),
        sent_at=timezone.now() if handed else None,
    )


@pytest.fixture
def message_book() -> dict[int, list[str]]:
    """Accounts by id, each with the statuses of its borrower's SMS messages today (other messages as noise)."""
    book: dict[int, list[str]] = {}
    rows: list[Message] = []
    cases = [s for r in range(3) for s in itertools.combinations_with_replacement(MESSAGE_STATUSES, r)]
    for n, (statuses, noise) in enumerate(itertools.product(cases, MESSAGE_NOISE)):
        account = make_account(dpd=10, today=TODAY)
        rows += [message(account, "sms", 0, status, f"cap-{n}-{i}") for i, status in enumerate(statuses)]
        if noise is not None:
            rows.append(message(account, noise[0], noise[1], noise[2], f"cap-{n}-noise"))
        book[account.pk] = list(statuses)
    Message.objects.bulk_create(rows)
    return book


def probe_allows(queueing: bool, limit: int) -> set[int]:
    """The accounts the SQL fragment form lets through, joined LATERAL as the ladder joins it."""
    probe_sql, params = daily_cap_probe_sql(
        borrower_sql="a.borrower_id", channel_sql="want.channel", day=TODAY, limit=limit, queueing=queueing
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id FROM {LoanAccount._meta.db_table} AS a CROSS JOIN (VALUES ('sms')) AS want (channel)"  # noqa: S608
            f" LEFT JOIN LATERAL ({probe_sql}) AS capped ON TRUE WHERE capped.id IS NULL",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("queueing", [True, False])
def test_the_daily_message_cap_in_sql_matches_the_pure_rule(message_book: dict[int, list[str]], queueing: bool):
    accounts = list(LoanAccount.objects.filter(pk__in=message_book))

    def counted(statuses: list[str]) -> int:
        return sum(
            1 for status in statuses if (status not in NEVER_SENT_STATUSES if queueing else status in CAP_STATUSES)
        )

    answers = set()
    for limit in (None, 0, 1, 2, 3):
        expected = {
            pk
            for pk, statuses in message_book.items()
            if daily_cap(already_today=counted(statuses), limit=limit).allowed
        }
        messages = daily_cap_messages(borrower=OuterRef("borrower_id"), channel="sms", day=TODAY, queueing=queueing)
        assert allowed_in_sql(accounts, daily_cap_q(messages, limit=limit)) == expected, limit
        if limit is not None:
            assert probe_allows(queueing, limit) == expected, limit
        answers.add(len(expected))
    assert len(answers) > 2  # the grid holds both answers, at several limits


# --- phone calls: the call caps --------------------------------------------------------------------------------

Call = tuple[int, datetime.time, str, str]  # days from TODAY, lender clock, outcome, channel
MIDNIGHT, NOON, LAST_SECOND = datetime.time(0, 0), datetime.time(12, 0), datetime.time(23, 59, 59)
EARLIER: list[list[Call]] = [
    [],
    [(-1, LAST_SECOND, Outcome.REFUSED, "phone")],
    [(-1, LAST_SECOND, Outcome.NO_ANSWER, "phone")],
    [(-6, NOON, Outcome.PROMISED, "phone")],
    [(-7, MIDNIGHT, Outcome.WRONG_NUMBER, "phone"), (-7, NOON, Outcome.HARDSHIP, "phone")],
]
# Calls that are not the borrower's phone calls up to today, or are on the borrower's second account; automated
# voice calls (handed, or still queued and so not counted).
NOISE: list[str] = ["", "sms", "second account", "tomorrow", "to a contact", "voice today", "voice queued"]
# The borrower's zone: the lender's, one 13 hours behind it, and a name no zone database knows (read as the
# lender's, in Python as in SQL).
ZONES = ["Asia/Shanghai", "America/New_York", "Mars/Olympus_Mons"]


def voice_call(account: LoanAccount, status: str, key: str) -> Message:
    handed = status == Message.Status.SENT
    return Message(
        borrower_id=account.borrower_id,
        account=account,
        audience=Message.Audience.BORROWER,
        channel=Message.Channel.VOICE,
        recipient=account.borrower.phone,
        body="x",
        status=status,
        idempotency_key=key,
        send_date=TODAY,
        sent_at=timezone.now() if handed else None,
    )


@pytest.fixture
def call_book(officer: User) -> dict[int, list[CallFact]]:
    """Accounts by id, each with its borrower's calls as the pure rules see them (days in the borrower's zone)."""
    book: dict[int, list[CallFact]] = {}
    rows: list[Interaction] = []
    voice: list[Message] = []
    for n, (connected, failed, earlier, noise) in enumerate(itertools.product(range(4), range(2), EARLIER, NOISE)):
        zone = ZONES[n % len(ZONES)]  # each zone meets every kind of history across the grid
        account = make_account(dpd=30, today=TODAY, borrower=make_borrower(timezone=zone))
        local = recipient_zone(zone)
        calls: list[Call] = [(0, datetime.time(i * 3), Outcome.PROMISED, "phone") for i in range(connected)]
        calls += [(0, NOON, Outcome.NO_ANSWER, "phone")] * failed + earlier
        on_account = [(account, call, None) for call in calls]
        facts = []
        if noise == "sms":
            on_account.append((account, (0, NOON, Outcome.PROMISED, "sms"), None))
        elif noise == "second account":
            second = make_account(dpd=30, today=TODAY, borrower=account.borrower)
            on_account.append((second, (0, NOON, Outcome.DISPUTED, "phone"), None))
        elif noise == "tomorrow":
            on_account.append((account, (1, MIDNIGHT, Outcome.REFUSED, "phone"), None))
        elif noise == "to a contact":
            contact = make_contact(account.borrower)
            on_account.append((account, (0, NOON, Outcome.REFUSED, "phone"), contact))
        elif noise.startswith("voice"):
            status = Message.Status.SENT if noise == "voice today" else Message.Status.QUEUED
            voice.append(voice_call(account, status, f"voice-{n}"))
            if status == Message.Status.SENT:
                facts.append(CallFact(day=TODAY, connected=True, automated=True))
        rows += [
            Interaction(
                account=a, officer=officer, outcome=outcome, channel=channel, occurred_at=at(days, clock), contact=c
            )
            for a, (days, clock, outcome, channel), c in on_account
        ]
        book[account.pk] = facts + [
            CallFact(day=at(days, clock).astimezone(local).date(), connected=outcome in Interaction.CONNECTED_OUTCOMES)
            for _, (days, clock, outcome, channel), c in on_account
            if channel == "phone" and c is None
        ]
    Interaction.objects.bulk_create(rows)
    Message.objects.bulk_create(voice)
    return book


def assert_sql_matches(book: dict[int, list[CallFact]], q: Q, rule: Callable[[list[CallFact]], bool]) -> set[int]:
    accounts = list(LoanAccount.objects.filter(pk__in=book))
    expected = {pk for pk, calls in book.items() if rule(calls)}
    assert allowed_in_sql(accounts, q) == expected
    return expected


def test_the_connected_calls_cap_in_sql_matches_the_pure_rule(call_book: dict[int, list[CallFact]]):
    answers = set()
    for limit in (None, 0, 1, 2, 3):
        allowed = assert_sql_matches(
            call_book,
            connected_calls_cap_q(today=TODAY, limit=limit, zones=zones_in_use()),
            lambda calls, limit=limit: connected_calls_cap(calls=calls, today=TODAY, limit=limit),
        )
        answers.add(len(allowed))
    assert len(answers) > 2  # the grid holds both answers, at several limits


def test_the_call_attempts_cap_in_sql_matches_the_pure_rule(call_book: dict[int, list[CallFact]]):
    answers = set()
    for limit, window in itertools.product((None, 1, 2, 4), (0, 1, 2, 7, 8)):
        allowed = assert_sql_matches(
            call_book,
            call_attempts_cap_q(today=TODAY, limit=limit, window_days=window, zones=zones_in_use()),
            lambda calls, limit=limit, window=window: call_attempts_cap(
                calls=calls, today=TODAY, limit=limit, window_days=window
            ),
        )
        answers.add(len(allowed))
    assert len(answers) > 2


def test_no_calls_after_a_conversation_in_sql_matches_the_pure_rule(call_book: dict[int, list[CallFact]]):
    answers = set()
    for days in (0, 1, 2, 6, 7, 8):
        allowed = assert_sql_matches(
            call_book,
            no_calls_after_conversation_q(today=TODAY, days=days, zones=zones_in_use()),
            lambda calls, days=days: no_calls_after_conversation(calls=calls, today=TODAY, days=days),
        )
        answers.add(len(allowed))
    assert len(answers) > 2


def test_call_caps_count_days_in_the_borrowers_zone(officer: User):
    """A call at 09:00 on TODAY in Shanghai is on the day before in New York: it counts for that day there."""
    shanghai = make_account(dpd=30, today=TODAY, borrower=make_borrower(timezone="Asia/Shanghai"))
    new_york = make_account(dpd=30, today=TODAY, borrower=make_borrower(timezone="America/New_York"))
    for account in (shanghai, new_york):
        Interaction.objects.create(
            account=account, officer=officer, outcome=Outcome.REFUSED, occurred_at=at(0, datetime.time(9))
        )
    capped = connected_calls_cap_q(today=TODAY, limit=1, zones=zones_in_use())
    assert allowed_in_sql([shanghai, new_york], capped) == {new_york.pk}
    tomorrow = connected_calls_cap_q(today=TODAY + datetime.timedelta(days=1), limit=1, zones=zones_in_use())
    assert allowed_in_sql([shanghai, new_york], tomorrow) == {shanghai.pk, new_york.pk}
