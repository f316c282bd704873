"""The demo is alive on first start: today's ladder has run, messages went out or wait, one was suppressed, calls
are due with their "may I call now" answer, the auditor finds compliance exceptions and a verified log.

Run at two fixed hours of the lender's day, so that the test holds whatever the clock says: at 03:00 every
reminder waits for the allowed hours, at 10:00 they go out. A second seed leaves the day to the schedule.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent, VerificationRun
from collections_app.models import CallTask, Message
from tests.audit.conftest import audit_keys  # noqa: F401 - a fixture
from tests.conftest import signed_in

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Tomorrow at fixed hours: the database's own clock (a message's `not_before`) cannot be moved back, so the test
# travels forward, to a night hour and a morning hour of the lender's day.
TOMORROW = datetime.datetime.now(SHANGHAI).date() + datetime.timedelta(days=1)
NIGHT = datetime.datetime.combine(TOMORROW, datetime.time(3), tzinfo=SHANGHAI)
MORNING = datetime.datetime.combine(TOMORROW, datetime.time(10), tzinfo=SHANGHAI)


def _seed_at(moment: datetime.datetime, settings) -> None:
    settings.DEBUG = True  # seed_demo runs only with DEBUG on
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", stdout=None)


@pytest.mark.django_db
@pytest.mark.parametrize(("moment", "sent"), [(NIGHT, False), (MORNING, True)], ids=["night", "morning"])
def test_the_first_seed_runs_todays_ladder_and_relay_and_verifies_the_log(
    settings,
    audit_keys,  # noqa: F811 - the fixture
    moment: datetime.datetime,
    sent: bool,
) -> None:
    _seed_at(moment, settings)
    # Borrowers abroad (the us and uk profiles) live other hours: only the lender's zone is asserted on.
    statuses = set(Message.objects.filter(borrower__timezone="Asia/Shanghai").values_list("status", flat=True))
    assert (Message.Status.SENT in statuses) is sent
    # By night queued for the allowed hours (or claimed and put back to wait for them); by day handed over.
    assert bool(statuses & {Message.Status.QUEUED, Message.Status.WAITING}) is not sent
    suppressed = Message.objects.filter(status=Message.Status.SUPPRESSED)
    if not sent:
        # By night the flagged borrower's reminder was still waiting: the flag suppressed it before the hand-off.
        assert set(suppressed.values_list("status_reason", flat=True)) == {"vulnerable"}
    assert CallTask.objects.filter(status=CallTask.Status.OPEN).exists()
    exceptions = AuditEvent.objects.filter(action="compliance_exception")
    assert exceptions.count() == 2
    assert {rule for event in exceptions for rule in event.detail["rules"]} >= {"vulnerable", "outside_hours"}
    run = VerificationRun.objects.latest("pk")
    assert run.ok and run.events_checked > 0


@pytest.mark.django_db
def test_a_second_seed_the_same_day_adds_no_message_task_or_exception(settings, audit_keys) -> None:  # noqa: F811
    _seed_at(NIGHT, settings)
    before = (
        Message.objects.count(),
        CallTask.objects.count(),
        AuditEvent.objects.filter(action="compliance_exception").count(),
    )
    _seed_at(NIGHT + datetime.timedelta(minutes=5), settings)
    after = (
        Message.objects.count(),
        CallTask.objects.count(),
        AuditEvent.objects.filter(action="compliance_exception").count(),
    )
    assert after == before


@pytest.mark.django_db
def test_officer1_sees_calls_due_with_their_answer_and_the_auditor_the_exceptions(settings, audit_keys) -> None:  # noqa: F811
    _seed_at(NIGHT, settings)
    with time_machine.travel(NIGHT + datetime.timedelta(minutes=1), tick=False):
        caseload = signed_in(User.objects.get(username="officer1")).get("/cases/")
        exceptions = signed_in(User.objects.get(username="auditor1")).get("/audit/exceptions/")
    assert caseload.status_code == 200 and 'class="call-gate' in caseload.content.decode()
    assert exceptions.status_code == 200 and exceptions.context["page"].events


@pytest.mark.django_db
def test_at_the_real_hour_no_reminder_the_ladder_wrote_is_left_unhandled(settings, audit_keys) -> None:  # noqa: F811
    """On the database's own clock: every reminder due when the seed ends was handed over, deferred or suppressed
    (the relay runs after the ladder, at its own moment, not at the moment the seed began)."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    assert Message.objects.exists()
    assert not Message.objects.filter(status=Message.Status.QUEUED, not_before__lte=timezone.now()).exists()
