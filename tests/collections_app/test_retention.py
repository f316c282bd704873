"""Retention: accounts closed longer than their profile's period lose their people's personal data, set-based,
unless a legal hold covers the borrower or a contact; recent closures and open accounts are left alone; a second
run erases nothing more; a dry run changes nothing and reports what the real run then does; each run is audited."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from access.roles import COMPLIANCE_AUDITOR
from audit.models import AuditEvent
from audit.services import audit_chain_seal, audit_chain_verify, legal_hold_lift, legal_hold_set
from collections_app.models import Borrower, Contact, Interaction, LoanAccount, Message, PhoneOptOut, PolicyVersion
from collections_app.services.erasure import ERASED_TEXT, borrowers_erase
from collections_app.services.retention import retention_run, years_before
from tests.audit.conftest import audit_keys  # noqa: F401
from tests.collections_app.messaging.messaging_support import ladder_version, policy
from tests.factories import make_account, make_borrower, make_contact, make_portfolio

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = years_before(NOW, 6)
LAST_YEAR = years_before(NOW, 1)


def closed_account(officer: User | None = None, *, closed_at: datetime.datetime, **fields: object) -> LoanAccount:
    return make_account(officer, dpd=None, outstanding=Decimal("0.00"), closed_at=closed_at, **fields)


def values(borrower: Borrower) -> tuple:
    borrower.refresh_from_db()
    return borrower.name, borrower.phone, borrower.id_number, borrower.erased_at


def test_a_borrower_closed_longer_than_the_period_is_erased_with_contacts_messages_and_notes(officer: User) -> None:
    account = closed_account(officer, closed_at=LONG_AGO)
    contact = make_contact(account.borrower)
    Interaction.objects.create(
        account=account, officer=officer, outcome="refused", note="借款人说会还", occurred_at=LONG_AGO
    )
    Message.objects.create(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel="sms",
        recipient=account.borrower.phone,
        body="您的账单已逾期",
        status="sent",
        sent_at=LONG_AGO,
        send_date=LONG_AGO.date(),
        idempotency_key="r-1",
        template_version=ladder_version(),
        policy_version=policy(),
    )

    run = retention_run(now=NOW)

    assert run.counts == {
        "borrowers": 1,
        "accounts": 1,
        "contacts": 1,
        "messages": 1,
        "inbound_replies": 0,
        "texts": 1,
        "opt_outs_hashed": 0,
        "held": 0,
    }
    name, phone, id_number, erased_at = values(account.borrower)
    assert (name, phone, id_number) == ("", "", "") and erased_at is not None
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("", f"erased:{contact.pk}")
    assert Interaction.objects.get().note == ERASED_TEXT
    message = Message.objects.get()
    assert (message.recipient, message.body) == ("", ERASED_TEXT)
    # The rows stay: the account, its payments and history still add up.
    assert LoanAccount.objects.get(pk=account.pk).account_number == account.account_number
    event = AuditEvent.objects.get(action="personal_data_erased")
    assert sorted(event.persons) == sorted([f"borrower:{account.borrower_id}", f"contact:{contact.pk}"])
    assert event.detail == {"reason": "retention"}


def test_recent_closures_open_accounts_and_borrowers_with_an_open_account_are_left_alone() -> None:
    recent = closed_account(closed_at=LAST_YEAR)
    still_owing = make_account(dpd=40)
    never_closed = make_account(dpd=None, outstanding=Decimal("0.00"))
    mixed = closed_account(closed_at=LONG_AGO)
    make_account(dpd=5, borrower=mixed.borrower)
    before = [values(account.borrower) for account in (recent, still_owing, never_closed, mixed)]

    assert retention_run(now=NOW).counts["borrowers"] == 0

    assert [values(account.borrower) for account in (recent, still_owing, never_closed, mixed)] == before


def test_each_account_counts_its_own_profiles_period() -> None:
    us = make_portfolio("us-personal", profile="us-regf")
    PolicyVersion.objects.filter(profile__code="us-regf").update(retention_years=7)
    kept_longer = closed_account(closed_at=LONG_AGO, portfolio=us)
    two_profiles = make_borrower()
    closed_account(closed_at=LONG_AGO, borrower=two_profiles)
    closed_account(closed_at=LONG_AGO, borrower=two_profiles, portfolio=us)
    due = closed_account(closed_at=LONG_AGO)

    assert retention_run(now=NOW).counts["borrowers"] == 1

    assert values(due.borrower)[3] is not None
    assert values(kept_longer.borrower)[3] is None and values(two_profiles)[3] is None
    assert retention_run(now=years_before(NOW, -2)).counts["borrowers"] == 2


@pytest.mark.parametrize("held", ["borrower", "contact"])
def test_a_legal_hold_on_the_borrower_or_a_contact_keeps_them_until_it_is_lifted(held: str, auditor: User) -> None:
    account = closed_account(closed_at=LONG_AGO)
    contact = make_contact(account.borrower)
    person = f"borrower:{account.borrower_id}" if held == "borrower" else f"contact:{contact.pk}"
    hold = legal_hold_set(user=auditor, role=COMPLIANCE_AUDITOR, person=person, reason="诉讼中，保全证据")
    before = values(account.borrower)

    run = retention_run(now=NOW)

    assert (run.counts["borrowers"], run.counts["held"]) == (0, 1)
    assert values(account.borrower) == before
    legal_hold_lift(user=auditor, role=COMPLIANCE_AUDITOR, hold_id=hold.pk, reason="诉讼已结束")
    assert retention_run(now=NOW).counts == {**run.counts, "borrowers": 1, "accounts": 1, "contacts": 1, "held": 0}


def test_a_second_run_erases_nothing_more_and_each_run_is_audited_with_its_counts() -> None:
    closed_account(closed_at=LONG_AGO)
    closed_account(closed_at=LONG_AGO)

    first = retention_run(now=NOW)
    second = retention_run(now=NOW)

    assert first.counts["borrowers"] == 2
    assert set(second.counts.values()) == {0}
    events = list(AuditEvent.objects.filter(action="retention_run").order_by("id"))
    assert [event.detail["borrowers"] for event in events] == [2, 0]
    assert [event.detail["dry_run"] for event in events] == [False, False]


def test_a_dry_run_changes_nothing_and_reports_what_the_real_run_then_does() -> None:
    account = closed_account(closed_at=LONG_AGO)
    contact = make_contact(account.borrower)
    PhoneOptOut.objects.create(phone=contact.phone, source="officer", received_at=LAST_YEAR)
    before = (values(account.borrower), list(Contact.objects.values()), list(PhoneOptOut.objects.values()))

    dry = retention_run(now=NOW, dry_run=True)

    assert (values(account.borrower), list(Contact.objects.values()), list(PhoneOptOut.objects.values())) == before
    assert not AuditEvent.objects.filter(action="personal_data_erased").exists()
    real = retention_run(now=NOW)
    assert dry.counts == real.counts
    assert real.counts["opt_outs_hashed"] == 1
    dry_event, real_event = AuditEvent.objects.filter(action="retention_run").order_by("id")
    assert dry_event.detail == {**real_event.detail, "dry_run": True}


def test_the_command_runs_dry_and_for_real() -> None:
    account = closed_account(closed_at=years_before(timezone.now(), 6))
    out = io.StringIO()

    call_command("retention_run", "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and "borrowers 1" in out.getvalue()
    assert values(account.borrower)[3] is None
    call_command("retention_run", stdout=out)
    assert values(account.borrower)[3] is not None


def test_the_runs_set_based_events_are_those_audit_record_writes_and_the_log_still_verifies(
    auditor: User,
    audit_keys,  # noqa: F811
) -> None:
    by_job, by_hand = closed_account(closed_at=LONG_AGO), closed_account(closed_at=LONG_AGO)
    for account in (by_job, by_hand):
        for _ in range(11):  # persons sort as text: contact:1x before contact:2
            make_contact(account.borrower)

    retention_run(now=NOW)  # no actor: one INSERT ... SELECT
    Borrower.objects.filter(pk=by_hand.borrower_id).update(erased_at=None)
    Contact.objects.filter(borrower_id=by_hand.borrower_id).update(erased_at=None)
    borrowers_erase(borrower_ids=[by_hand.borrower_id], actor=auditor, reason="retention")  # through audit_record_many

    events = AuditEvent.objects.filter(action="personal_data_erased").order_by("id")
    job_event, _again, hand_event = events
    for event, account in ((job_event, by_job), (hand_event, by_hand)):
        contact_ids = Contact.objects.filter(borrower_id=account.borrower_id).values_list("pk", flat=True)
        expected = sorted([f"borrower:{account.borrower_id}", *(f"contact:{pk}" for pk in contact_ids)])
        assert (event.object_type, event.object_id, event.persons) == ("borrower", str(account.borrower_id), expected)
        assert event.detail == {"reason": "retention"}
    audit_chain_seal()
    assert audit_chain_verify().ok


def test_a_message_still_queued_for_an_erased_borrower_is_suppressed_not_sent_to_a_blank() -> None:
    account = closed_account(closed_at=LONG_AGO)
    Message.objects.create(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel="sms",
        recipient=account.borrower.phone,
        body="您的账单已逾期",
        idempotency_key="r-queued",
        template_version=ladder_version(),
        policy_version=policy(),
    )

    retention_run(now=NOW)

    message = Message.objects.get()
    assert (message.status, message.status_reason, message.recipient) == ("suppressed", "paid", "")
