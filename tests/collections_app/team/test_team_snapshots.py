"""The nightly snapshot behind the dashboard: one row per account and month however often it runs, rolls and cures
from two month ends, and each officer's day of calls, promises, messages, exceptions and family-contact requests.

Also run on SQLite (`make test`), the database `make run` uses.
"""

import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.record import audit_record
from collections_app.dpd import lender_today
from collections_app.models import (
    AccountMonthSnapshot,
    Interaction,
    LoanAccount,
    Message,
    OfficerDayActivity,
    OfficerMonthFigure,
    PromiseToPay,
)
from collections_app.team.snapshots import team_snapshot_take
from review.services import family_contact_request_decide
from tests.factories import make_account, make_contact, make_payment
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
APRIL_END, MAY_END = datetime.date(2026, 4, 30), datetime.date(2026, 5, 31)


def due(day: datetime.date, dpd: int) -> datetime.date:
    return day - datetime.timedelta(days=dpd)


def at(day: datetime.date, hour: int = 11) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def snapshot_rows() -> list[tuple]:
    return list(
        AccountMonthSnapshot.objects.order_by("account_id", "month").values_list(
            "account_id", "month", "officer_id", "bucket", "balance", "dpd", "as_of"
        )
    )


def figures(month: datetime.date, kind: str) -> dict[tuple[int, str], int]:
    return {
        (officer_id, key): count
        for officer_id, key, count in OfficerMonthFigure.objects.filter(month=month, kind=kind).values_list(
            "officer_id", "key", "count"
        )
    }


def test_the_snapshot_is_idempotent_per_month(officer, other_officer) -> None:
    day = datetime.date(2026, 5, 10)
    for dpd, owner in ((-3, officer), (5, officer), (45, other_officer), (200, other_officer)):
        make_account(owner, dpd=dpd, today=day)
    make_account(None, dpd=20, today=day)
    first = team_snapshot_take(day=day)
    rows, month_figures = (
        snapshot_rows(),
        list(OfficerMonthFigure.objects.order_by("pk").values_list("officer", "kind", "key", "count", "amount")),
    )
    assert first.snapshots == 5 and len(rows) == 5
    second = team_snapshot_take(day=day)
    assert snapshot_rows() == rows
    assert second.figures == first.figures
    assert (
        list(OfficerMonthFigure.objects.order_by("pk").values_list("officer", "kind", "key", "count", "amount"))
        == month_figures
    )
    # A later day of the same month rewrites the month's rows: still one per account, as of the later day.
    team_snapshot_take(day=day + datetime.timedelta(days=3))
    later = snapshot_rows()
    assert len(later) == 5 and {row[6] for row in later} == {day + datetime.timedelta(days=3)}
    assert {row[5] for row in later} == {-0, 8, 48, 203, 23}
    # The next month is a month of its own.
    team_snapshot_take(day=datetime.date(2026, 6, 1))
    assert AccountMonthSnapshot.objects.count() == 10
    assert figures(datetime.date(2026, 5, 1), "bucket") == {
        (officer.pk, "current"): 1,
        (officer.pk, "1-30"): 1,
        (other_officer.pk, "31-60"): 1,
        (other_officer.pk, "181+"): 1,
    }


def test_rolls_and_cures_come_from_two_month_ends(officer) -> None:
    rolls = make_account(officer, today=APRIL_END, dpd=10)  # 1-30 at April's end, 41 days (31-60) at May's
    cured = make_account(officer, today=APRIL_END, dpd=10)
    current = make_account(officer, today=APRIL_END, dpd=-40)
    team_snapshot_take(day=APRIL_END)
    LoanAccount.objects.filter(pk=cured.pk).update(oldest_unpaid_due_date=None, outstanding=Decimal("0"))
    team_snapshot_take(day=MAY_END)
    may = datetime.date(2026, 5, 1)
    assert figures(may, "roll") == {
        (officer.pk, "1-30>31-60"): 1,
        (officer.pk, "1-30>paid"): 1,
        (officer.pk, "current>current"): 1,
    }
    balances = dict(OfficerMonthFigure.objects.filter(month=may, kind="bucket").values_list("key", "amount"))
    assert balances == {"31-60": rolls.outstanding, "paid": Decimal("0"), "current": current.outstanding}


def test_each_officers_day_is_counted(officer, other_officer) -> None:
    # Today: the audit log's times are the database's own, so the compliance exception happens today.
    day = lender_today()
    account = make_account(officer, dpd=20)
    others = make_account(other_officer, dpd=20)
    for outcome in ("no_answer", "no_answer", "refused"):
        Interaction.objects.create(account=account, officer=officer, outcome=outcome, occurred_at=at(day))
    Interaction.objects.create(
        account=account, officer=officer, outcome="refused", channel="visit", occurred_at=at(day)
    )
    Interaction.objects.create(
        account=others,
        officer=other_officer,
        outcome="no_answer",
        occurred_at=at(day, 0) - datetime.timedelta(minutes=1),
    )
    made = PromiseToPay.objects.create(
        account=account, promised_date=day + datetime.timedelta(days=3), amount=Decimal("50"), created_by=officer
    )
    PromiseToPay.objects.filter(pk=made.pk).update(created_at=at(day))
    # Promises whose last day (date + 1 day of grace) was `day`: one paid in time, one not.
    for amount, paid in ((Decimal("70"), True), (Decimal("80"), False)):
        promise = PromiseToPay.objects.create(
            account=others, promised_date=day - datetime.timedelta(days=1), amount=amount, created_by=other_officer
        )
        PromiseToPay.objects.filter(pk=promise.pk).update(created_at=at(day - datetime.timedelta(days=5)))
        if paid:
            make_payment(others, amount, paid_at=at(day - datetime.timedelta(days=1)))
    for n, (status, reason) in enumerate(
        (("sent", ""), ("delivered", ""), ("suppressed", "paused"), ("suppressed", "paused"), ("suppressed", "cap"))
    ):
        message = Message.objects.create(
            borrower=account.borrower,
            account=account,
            audience="borrower",
            channel="sms",
            recipient=account.borrower.phone,
            body="x",
            idempotency_key=f"k{n}",
            status=status,
            status_reason=reason,
            sent_at=timezone.now() if status in ("sent", "delivered") else None,
            send_date=day if status in ("sent", "delivered") else None,
        )
        Message.objects.filter(pk=message.pk).update(created_at=at(day))
    audit_record(action="compliance_exception", actor=officer, object_type="interaction", object_id=1)
    team_snapshot_take(day=day)
    counted = {(row.officer_id, row.kind, row.key): row.count for row in OfficerDayActivity.objects.filter(day=day)}
    assert counted[(officer.pk, "calls", "attempts")] == 3
    assert counted[(officer.pk, "calls", "connected")] == 1
    assert counted[(officer.pk, "promises", "made")] == 1
    assert counted[(other_officer.pk, "promises", "kept")] == 1
    assert counted[(other_officer.pk, "promises", "broken")] == 1
    assert counted[(officer.pk, "messages", "sent")] == 2
    assert counted[(officer.pk, "messages", "suppressed:paused")] == 2
    assert counted[(officer.pk, "messages", "suppressed:cap")] == 1
    assert counted[(officer.pk, "exceptions", "compliance_exception")] == 1
    assert (other_officer.pk, "calls", "attempts") not in counted  # its call was the day before
    month = day.replace(day=1)
    assert figures(month, "calls")[(officer.pk, "attempts")] >= 3


def test_family_contact_requests_are_counted_for_the_officer_who_filed_them(officer, approver) -> None:
    account = make_account(officer, dpd=45)
    add_failed_attempts(account, officer)
    case = Case(account=account, contact=make_contact(account.borrower), template=make_family_template())
    request = file_request(officer, case)
    family_contact_request_decide(request_id=request.pk, decision="reject", reason="Not yet.", actor=approver)
    day = lender_today()
    team_snapshot_take(day=day)
    counted = {(row.kind, row.key): (row.officer_id, row.count) for row in OfficerDayActivity.objects.filter(day=day)}
    assert counted[("family_contact", "filed")] == (officer.pk, 1)
    assert counted[("family_contact", "rejected")] == (officer.pk, 1)
    assert counted[("family_contact_hours", "0")] == (officer.pk, 1)


def test_the_command_takes_a_day_and_refuses_a_bad_one(officer) -> None:
    make_account(officer, dpd=3)
    out = io.StringIO()
    call_command("take_team_snapshot", "--day", "2026-05-10", stdout=out)
    assert "1 account snapshots for 2026-05" in out.getvalue()
    for bad in ("2026-13-01", "1999-12-31", "2999-01-01"):
        with pytest.raises(CommandError) as raised:
            call_command("take_team_snapshot", "--day", bad)
        assert raised.value.returncode == 2
