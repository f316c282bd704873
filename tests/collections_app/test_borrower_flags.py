"""Represented and vulnerable: an officer sets and clears the flag with a reason on the account page, audited."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.html import escape

from collections_app.messaging.ladder import escalation_run
from collections_app.models import BorrowerFlag, CallTask, Message
from collections_app.services.borrower_flags import borrower_flag_set
from tests.audit.helpers import audit_mark, events_since
from tests.collections_app.support import CALL_HOURS, make_task
from tests.conftest import signed_in
from tests.factories import make_account

pytestmark = pytest.mark.django_db
REPRESENTATIVE = "Li & Partners, +861012345678"


def flag_url(account, flag: BorrowerFlag | None = None) -> str:
    if flag is None:
        return f"/cases/{account.pk}/borrower-flags/new/"
    return f"/cases/{account.pk}/borrower-flags/{flag.pk}/clear/"


def test_an_officer_sets_and_clears_a_represented_flag_and_both_are_audited(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    mark = audit_mark()
    response = client.post(
        flag_url(account), {"kind": "represented", "representative": REPRESENTATIVE, "reason": "letter received"}
    )
    assert response.status_code == 303
    flag = BorrowerFlag.objects.get()
    assert (flag.kind, flag.representative, flag.opened_reason, flag.opened_by) == (
        "represented",
        REPRESENTATIVE,
        "letter received",
        officer,
    )
    page = client.get(f"/cases/{account.pk}/")
    assert page.context["detail"].open_borrower_flags == [flag]
    assert escape(REPRESENTATIVE) in page.content.decode()
    assert client.post(flag_url(account, flag), {"reason": "the mandate ended"}).status_code == 303
    flag.refresh_from_db()
    assert (flag.is_open, flag.closed_reason, flag.closed_by) == (False, "the mandate ended", officer)
    events = [e for e in events_since(mark) if e.object_type == "borrowerflag"]
    assert [e.action for e in events] == ["borrower_flag_set", "borrower_flag_cleared"]
    for event in events:
        assert event.persons == [f"borrower:{account.borrower_id}"]
        assert event.detail == {"account_id": account.pk, "kind": "represented"}
        assert REPRESENTATIVE not in str(event.detail)


def test_a_represented_flag_names_the_representative_and_every_flag_a_reason(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    no_name = client.post(flag_url(account), {"kind": "represented", "reason": "letter received"})
    assert no_name.status_code == 200 and no_name.context["form"].errors["representative"]
    no_reason = client.post(flag_url(account), {"kind": "vulnerable", "reason": "  "})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors["reason"]
    assert not BorrowerFlag.objects.exists()
    with pytest.raises(IntegrityError):
        BorrowerFlag.objects.create(
            borrower=account.borrower,
            kind="represented",
            opened_reason="x",
            opened_by=officer,
            opened_at=timezone.now(),
        )


def test_one_open_flag_of_each_kind_per_borrower(officer: User) -> None:
    account = make_account(officer)
    borrower_flag_set(borrower=account.borrower, account=account, officer=officer, kind="vulnerable", reason="ill")
    with pytest.raises(ValidationError):
        borrower_flag_set(borrower=account.borrower, account=account, officer=officer, kind="vulnerable", reason="ill")
    borrower_flag_set(
        borrower=account.borrower,
        account=account,
        officer=officer,
        kind="represented",
        reason="letter",
        representative=REPRESENTATIVE,
    )
    assert BorrowerFlag.objects.filter(closed_at__isnull=True).count() == 2


def test_clearing_needs_a_reason_and_a_flag_of_this_borrower(officer: User) -> None:
    account = make_account(officer)
    flag = borrower_flag_set(borrower=account.borrower, account=account, officer=officer, kind="vulnerable", reason="x")
    client = signed_in(officer)
    assert client.post(flag_url(account, flag), {"reason": ""}).status_code == 200
    other = make_account(officer)
    assert client.post(flag_url(other, flag), {"reason": "not theirs"}).status_code == 404
    flag.refresh_from_db()
    assert flag.is_open


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_vulnerable_flag_pauses_the_ladder_and_cancels_open_call_tasks(officer: User) -> None:
    today = CALL_HOURS.date()
    flagged, plain = make_account(officer, dpd=10), make_account(officer, dpd=10)
    task = make_task(flagged)
    borrower_flag_set(borrower=flagged.borrower, account=flagged, officer=officer, kind="vulnerable", reason="ill")
    task.refresh_from_db()
    assert task.status == CallTask.Status.CANCELLED
    escalation_run(today=today)
    assert not Message.objects.filter(account=flagged).exists()
    assert Message.objects.filter(account=plain).exists()
    assert not CallTask.objects.filter(account=flagged, status="open").exists()
    assert CallTask.objects.filter(account=plain, due_date=today).exists()
    # Cleared, the next day's ladder writes again.
    flag = BorrowerFlag.objects.get()
    flag.closed_reason, flag.closed_by, flag.closed_at = "recovered", officer, timezone.now()
    flag.save()
    escalation_run(today=today + datetime.timedelta(days=1))
    assert Message.objects.filter(account=flagged).exists()
