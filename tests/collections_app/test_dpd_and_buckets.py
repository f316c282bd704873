"""Days past due and buckets at their edges, in Python and in SQL, with the lender's clock."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import User

from collections_app.dpd import BUCKETS, DaysPastDue, bucket_case, bucket_for, days_past_due, lender_today
from collections_app.models import LoanAccount
from tests.conftest import signed_in
from tests.factories import make_account

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 3, 11)


def test_due_today_is_dpd_zero_and_current() -> None:
    assert days_past_due(TODAY, TODAY) == 0
    assert bucket_for(0).code == "current"


def test_before_the_due_date_dpd_is_negative_and_current() -> None:
    assert days_past_due(TODAY + datetime.timedelta(days=3), TODAY) == -3
    assert bucket_for(-3).code == "current"


def test_paid_account_has_no_dpd_and_no_bucket() -> None:
    assert days_past_due(None, TODAY) is None
    assert bucket_for(None) is None


@pytest.mark.parametrize(
    ("dpd", "code"),
    [
        (-30, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "181+"),
        (5000, "181+"),
    ],
)
def test_bucket_edges(dpd: int, code: str) -> None:
    assert bucket_for(dpd).code == code


@time_machine.travel(datetime.datetime(2026, 3, 10, 16, 30, tzinfo=datetime.UTC), tick=False)
def test_just_after_midnight_in_shanghai_while_utc_is_still_yesterday() -> None:
    # 16:30 UTC on 10 March is 00:30 on 11 March in Shanghai: an account due on 10 March is 1 day past due.
    assert datetime.datetime.now(datetime.UTC).date() == datetime.date(2026, 3, 10)
    assert lender_today() == datetime.date(2026, 3, 11)
    assert days_past_due(datetime.date(2026, 3, 10), lender_today()) == 1
    assert bucket_for(days_past_due(datetime.date(2026, 3, 10), lender_today())).code == "1-30"


@time_machine.travel(datetime.datetime(2026, 3, 10, 15, 59, tzinfo=datetime.UTC), tick=False)
def test_just_before_midnight_in_shanghai_due_today_is_still_zero() -> None:
    assert lender_today() == datetime.date(2026, 3, 10)
    assert days_past_due(datetime.date(2026, 3, 10), lender_today()) == 0


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 3, 10, 16, 30, tzinfo=datetime.UTC), tick=False)
def test_caseload_shows_yesterdays_due_date_as_dpd_1_just_after_shanghai_midnight(officer: User) -> None:
    account = make_account(officer, dpd=1, today=datetime.date(2026, 3, 11))
    due_today = make_account(officer, dpd=0, today=datetime.date(2026, 3, 11))
    assert account.oldest_unpaid_due_date == datetime.date(2026, 3, 10)
    assert due_today.oldest_unpaid_due_date == datetime.date(2026, 3, 11)
    rows = {row.account.pk: row for row in signed_in(officer).get("/cases/").context["caseload"].rows}
    assert rows[account.pk].dpd == 1
    assert sorted(row.dpd for row in rows.values()) == [0, 1]
    summary = {b.code: b.count for b in signed_in(officer).get("/cases/").context["caseload"].buckets}
    assert summary["current"] == 1 and summary["1-30"] == 1


@pytest.mark.django_db
def test_sql_and_python_agree_on_dpd_and_bucket_for_every_edge() -> None:
    dpds = [-5, -1, 0, 1, 2, 29, 30, 31, 59, 60, 61, 89, 90, 91, 179, 180, 181, 400, None]
    for dpd in dpds:
        make_account(dpd=dpd, today=TODAY)
    rows = LoanAccount.objects.annotate(sql_dpd=DaysPastDue(TODAY), sql_bucket=bucket_case(TODAY)).values_list(
        "oldest_unpaid_due_date", "sql_dpd", "sql_bucket"
    )
    assert len(rows) == len(dpds)
    for due, sql_dpd, sql_bucket in rows:
        python_dpd = days_past_due(due, TODAY)
        assert sql_dpd == python_dpd
        python_bucket = bucket_for(python_dpd)
        assert sql_bucket == (python_bucket.code if python_bucket else None)


@pytest.mark.django_db
def test_each_bucket_filter_selects_exactly_its_dpds() -> None:
    dpds = [-1, 0, 1, 30, 31, 60, 61, 90, 91, 180, 181, None]
    for dpd in dpds:
        make_account(dpd=dpd, today=TODAY)
    for bucket in BUCKETS:
        selected = {
            days_past_due(due, TODAY)
            for due in LoanAccount.objects.filter(bucket.due_date_q(TODAY)).values_list(
                "oldest_unpaid_due_date", flat=True
            )
        }
        assert selected == {d for d in dpds if d is not None and bucket.contains(d)}, bucket.code
