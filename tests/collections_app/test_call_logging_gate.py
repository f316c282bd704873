"""Logging a call asks the contact gate: refused without an override reason, a compliance exception with one.

Every test pins the clock (the gate's hours are the recipient's, at the instant of the call).
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from collections_app.models import Borrower, CallTask, Interaction, LoanAccount, Message, PhoneOptOut
from tests.audit.helpers import audit_mark, events_since
from tests.collections_app.support import CALL_HOURS, make_task
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 02:00 in Shanghai: quiet hours for the borrowers' default zone.
NIGHT = datetime.datetime(2026, 3, 10, 2, 0, tzinfo=SHANGHAI)
OVERRIDE = "The borrower rang back from a hospital and asked us to call at once."


def log_call(client, account: LoanAccount, **fields: object):
    data = {"outcome": "refused", "channel": "phone", "note": "", **fields}
    return client.post(f"/cases/{account.pk}/interactions/new/", {k: v for k, v in data.items() if v is not None})


def voice_call_today(account: LoanAccount, key: str) -> Message:
    """An automated voice call handed to the gateway today: it counts as a connected call."""
    return Message.objects.create(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel="voice",
        recipient=account.borrower.phone,
        body="automated reminder",
        status="sent",
        idempotency_key=key,
        send_date=timezone.localdate(timezone=SHANGHAI),
        sent_at=timezone.now(),
    )


@time_machine.travel(NIGHT, tick=False)
def test_a_call_logged_in_quiet_hours_is_refused_without_an_override_and_writes_nothing(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    mark = audit_mark()
    response = log_call(client, account)
    assert response.status_code == 200
    refusal = response.context["refusal"]
    assert refusal.codes == ("outside_hours",)
    content = response.content.decode()
    assert 'id="call-refused"' in content and 'data-code="outside_hours"' in content
    assert gettext("local time %(clock)s") % {"clock": "02:00 (Asia/Shanghai)"} in content
    assert not Interaction.objects.exists()
    assert events_since(mark) == []


@time_machine.travel(NIGHT, tick=False)
def test_a_call_logged_in_quiet_hours_with_an_override_is_a_compliance_exception(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    response = log_call(client, account, override_reason=OVERRIDE)
    assert response.status_code == 303
    interaction = Interaction.objects.get()
    assert (interaction.override_reason, interaction.contact) == (OVERRIDE, None)
    exception = AuditEvent.objects.get(action="compliance_exception")
    assert (exception.object_type, exception.object_id) == ("interaction", str(interaction.pk))
    assert exception.detail["rules"] == ["outside_hours"]
    assert exception.detail["profile_version"] == "cn-default v1"
    assert exception.persons == [f"borrower:{account.borrower_id}"]
    assert OVERRIDE not in str(exception.detail)  # the words stay on the interaction
    page = client.get(f"/cases/{account.pk}/").content.decode()
    assert OVERRIDE in page


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_call_the_gate_allows_is_no_exception_even_with_an_override(officer: User) -> None:
    account = make_account(officer)
    response = log_call(signed_in(officer), account, override_reason=OVERRIDE)
    assert response.status_code == 303
    assert Interaction.objects.get().override_reason == ""
    assert not AuditEvent.objects.filter(action="compliance_exception").exists()


@time_machine.travel(NIGHT, tick=False)
def test_an_override_reason_under_20_characters_is_a_field_error(officer: User) -> None:
    account = make_account(officer)
    response = log_call(signed_in(officer), account, override_reason="urgent, sorry")
    assert response.status_code == 200
    assert response.context["form"].errors["override_reason"]
    assert not Interaction.objects.exists()


@time_machine.travel(CALL_HOURS, tick=False)
def test_the_fourth_connected_call_of_a_day_under_cn_default_is_refused_an_automated_call_counted(
    officer: User,
) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    assert log_call(client, account, outcome="refused").status_code == 303
    assert log_call(client, account, outcome="promised").status_code == 303
    voice_call_today(account, "robot-1")
    mark = audit_mark()
    response = log_call(client, account, outcome="hardship")
    assert response.status_code == 200
    refusal = response.context["refusal"]
    assert refusal.codes == ("cap",)
    assert (refusal.connected_today, refusal.connected_cap) == (3, 3)
    assert Interaction.objects.count() == 2 and events_since(mark) == []
    # Unanswered calls do not count towards the cap on connected calls.
    other = make_account(officer)
    for _ in range(3):
        assert log_call(client, other, outcome="no_answer").status_code == 303
    assert log_call(client, other).status_code == 303
    # With an override, the fourth is logged as an exception naming the cap.
    assert log_call(client, account, outcome="hardship", override_reason=OVERRIDE).status_code == 303
    assert AuditEvent.objects.get(action="compliance_exception").detail["rules"] == ["cap"]


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_call_to_a_contact_is_gated_as_one(officer: User) -> None:
    account = make_account(officer)
    opted_out = make_contact(account.borrower)
    PhoneOptOut.objects.create(phone=opted_out.phone, source="sms_reply", received_at=timezone.now())
    abroad = make_contact(account.borrower, timezone="America/New_York")  # 22:00 there
    reachable = make_contact(account.borrower)
    client = signed_in(officer)
    assert log_call(client, account, contact=opted_out.pk).context["refusal"].codes == ("opted_out",)
    assert log_call(client, account, contact=abroad.pk).context["refusal"].codes == ("outside_hours",)
    assert log_call(client, account, contact=reachable.pk).status_code == 303
    interaction = Interaction.objects.get()
    assert interaction.contact == reachable
    event = AuditEvent.objects.get(action="create", object_type="interaction")
    assert event.persons == sorted([f"borrower:{account.borrower_id}", f"contact:{reachable.pk}"])


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_contact_of_another_borrower_is_refused_next_to_the_field(officer: User) -> None:
    account = make_account(officer)
    stranger = make_contact(make_account().borrower)
    response = log_call(signed_in(officer), account, contact=stranger.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]
    assert not Interaction.objects.exists()


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_call_to_a_contact_leaves_the_borrowers_call_task_open(officer: User) -> None:
    account = make_account(officer, dpd=12)
    task = make_task(account)
    assert log_call(signed_in(officer), account, contact=make_contact(account.borrower).pk).status_code == 303
    task.refresh_from_db()
    assert task.status == CallTask.Status.OPEN


@time_machine.travel(CALL_HOURS, tick=False)
def test_a_represented_borrower_is_not_called_and_the_page_says_why(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)
    response = client.post(
        f"/cases/{account.pk}/borrower-flags/new/",
        {"kind": "represented", "representative": "Li & Partners, +861012345678", "reason": "letter of authority"},
    )
    assert response.status_code == 303
    assert log_call(client, account).context["refusal"].codes == ("represented",)
    detail = client.get(f"/cases/{account.pk}/").context["detail"]
    assert detail.call_now.codes == ("represented",)


@time_machine.travel(CALL_HOURS, tick=False)
def test_the_account_page_shows_whether_a_call_is_allowed_now_with_the_counts(officer: User) -> None:
    account = make_account(officer)
    Borrower.objects.filter(pk=account.borrower_id).update(timezone="Asia/Tokyo")
    contact = make_contact(account.borrower, timezone="America/New_York")
    voice_call_today(account, "robot-1")
    response = signed_in(officer).get(f"/cases/{account.pk}/")
    detail = response.context["detail"]
    assert detail.call_now.allowed
    assert detail.call_now.local_clock == "11:00 (Asia/Tokyo)"
    assert (detail.call_now.connected_today, detail.call_now.connected_cap, detail.call_now.attempts) == (1, 3, 1)
    assert detail.contact_calls[contact.pk].codes == ("outside_hours",)
    content = response.content.decode()
    assert gettext("call allowed now") in content and gettext("no call now") in content
    assert gettext("connected calls today: %(n)s of %(cap)s") % {"n": 1, "cap": 3} in content


@time_machine.travel(CALL_HOURS, tick=False)
def test_the_calls_due_show_whether_each_call_is_allowed_now(officer: User) -> None:
    callable_now = make_account(officer, dpd=12, account_number="CALL-OK")
    make_task(callable_now)
    stale = make_account(officer, dpd=12, account_number="CALL-STALE")
    make_task(stale, days_ago=1)
    ceased = make_account(officer, dpd=12, account_number="CALL-CEASED")
    Borrower.objects.filter(pk=ceased.borrower_id).update(cease_requested_at=timezone.now())
    make_task(ceased)
    response = signed_in(officer).get("/cases/")
    answers = {call.account_number: call.call_now.codes for call in response.context["caseload"].calls_due}
    assert answers == {"CALL-OK": (), "CALL-STALE": ("stale",), "CALL-CEASED": ("ceased",)}
    assert 'data-code="stale"' in response.content.decode()
