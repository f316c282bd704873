"""Detaching an archived month (PostgreSQL): on a request a second auditor approves, only once its archive
verifies and matches the database, never under a legal hold; then a full verify accepts the detached range
because its signed manifest verifies, and nothing is detached by default."""

import datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from access.roles import COMPLIANCE_AUDITOR
from audit.chain.seal import seal
from audit.models import AuditEvent, DetachDecision, DetachRequest, LegalHold
from audit.partitions import add_months, attached_partitions, lender_month, month_partition
from audit.record import audit_record
from tests.audit.helpers import audit_mark, event_at, events_since
from tests.conftest import signed_in
from tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql_only]

REASON = "Five years and a day: the retention period is over."


def run(capsys, command: str, *arguments: str) -> tuple[int, str]:
    try:
        call_command(command, *arguments)
    except SystemExit as exc:
        return exc.code, capsys.readouterr().out
    except CommandError as exc:
        capsys.readouterr()
        return exc.returncode, str(exc)
    return 0, capsys.readouterr().out


@pytest.fixture
def second_auditor(db: None):
    return make_user("erin", COMPLIANCE_AUDITOR)


@pytest.fixture
def old_month(audit_keys, capsys, tmp_path) -> tuple[datetime.date, Path]:
    """A month two months back, with three events (one naming borrower:2), sealed, archived into tmp_path."""
    month = add_months(lender_month(), -2)
    for day, persons in ((3, ["borrower:1"]), (4, ["borrower:2", "contact:5"]), (5, [])):
        event_at(month + datetime.timedelta(days=day), action="view", persons=persons)
    event_at(add_months(month, 1) + datetime.timedelta(days=2), action="view", persons=["borrower:9"])
    audit_record(action="view", object_type="loanaccount", object_id=1)
    seal()
    target = tmp_path / "archive"
    assert run(capsys, "audit_archive", "--before", f"{lender_month():%Y-%m}", "--to", str(target))[0] == 0
    return month, target


def request_and_approve(auditor, second_auditor, month: datetime.date) -> None:
    assert signed_in(auditor).post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON}).status_code == 302
    request = DetachRequest.objects.get(month=month)
    decided = signed_in(second_auditor).post(
        "/audit/archives/decide/", {"request": request.pk, "decision": "approve", "reason": "Checked the archive."}
    )
    assert decided.status_code == 302


def detach(capsys, month: datetime.date, target: Path) -> tuple[int, str]:
    return run(capsys, "audit_partitions", "--detach", f"{month:%Y-%m}", "--archive", str(target))


def test_nothing_is_detached_by_default(old_month) -> None:
    month, _ = old_month
    assert month_partition(month)[0] in attached_partitions("audit_auditevent")


def test_an_approved_month_is_detached_recorded_and_a_full_verify_accepts_it(
    auditor, second_auditor, old_month, audit_keys, capsys
) -> None:
    month, target = old_month
    request_and_approve(auditor, second_auditor, month)
    mark = audit_mark()
    assert detach(capsys, month, target) == (
        0,
        f"detached {month:%Y-%m} (3 events); its archive is now the only copy\n",
    )
    assert month_partition(month)[0] not in attached_partitions("audit_auditevent")
    assert not AuditEvent.objects.filter(persons__contains=["borrower:2"]).exists()
    (written,) = events_since(mark, action="archive_written")
    assert (written.object_type, written.object_id, written.detail["events"]) == ("auditmonth", f"{month:%Y-%m}", 3)
    assert (audit_keys / "detached" / f"{month:%Y-%m}.txt").is_file()
    # The chain still holds the month's entries; their events are gone, as the signed manifest says.
    seal()
    code, out = run(capsys, "verify_audit")
    assert code == 0, out
    assert run(capsys, "verify_audit", "--incremental")[0] == 0


def test_without_its_manifest_or_with_an_edited_one_the_detached_range_is_damage(
    auditor, second_auditor, old_month, audit_keys, capsys
) -> None:
    month, target = old_month
    _, start, end = month_partition(month)
    first = min(AuditEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).values_list("seq", flat=True))
    request_and_approve(auditor, second_auditor, month)
    assert detach(capsys, month, target)[0] == 0
    kept = audit_keys / "detached" / f"{month:%Y-%m}.txt"
    text = kept.read_text()
    kept.write_text(text.replace("complete yes", "complete no"))
    code, out = run(capsys, "verify_audit")
    assert code == 1 and f"bad_checkpoint=detached/{month:%Y-%m}.txt" in out.splitlines()
    kept.unlink()
    assert run(capsys, "verify_audit") == (1, f"first_bad_seq={first}\n")


def test_the_requester_cannot_decide_and_a_request_is_decided_once(auditor, second_auditor, old_month) -> None:
    month, _ = old_month
    client = signed_in(auditor)
    client.post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON})
    request = DetachRequest.objects.get()
    own = client.post("/audit/archives/decide/", {"request": request.pk, "decision": "approve", "reason": REASON})
    assert own.status_code == 403 and not DetachDecision.objects.exists()
    second = signed_in(second_auditor)
    assert (
        second.post(
            "/audit/archives/decide/", {"request": request.pk, "decision": "reject", "reason": REASON}
        ).status_code
        == 302
    )
    again = second.post("/audit/archives/decide/", {"request": request.pk, "decision": "approve", "reason": REASON})
    assert again.status_code == 409
    assert [
        event.action for event in AuditEvent.objects.filter(action__startswith="archive_detach").order_by("id")
    ] == [
        "archive_detach_requested",
        "archive_detach_rejected",
    ]
    # The database holds the second pair of eyes too.
    other = DetachRequest.objects.create(month=add_months(month, 1), reason=REASON, requested_by="dave")
    with pytest.raises(IntegrityError), transaction.atomic():
        DetachDecision.objects.create(request=other, approved=True, reason=REASON, decided_by="dave")


@pytest.mark.parametrize("state", ["no request", "pending", "rejected"])
def test_a_month_is_not_detached_without_an_approved_request(auditor, second_auditor, old_month, capsys, state) -> None:
    month, target = old_month
    if state != "no request":
        signed_in(auditor).post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON})
    if state == "rejected":
        signed_in(second_auditor).post(
            "/audit/archives/decide/",
            {"request": DetachRequest.objects.get().pk, "decision": "reject", "reason": "Not yet, keep it."},
        )
    code, message = detach(capsys, month, target)
    assert code == 1 and "no approved detach request" in message
    assert month_partition(month)[0] in attached_partitions("audit_auditevent")


def test_a_legal_hold_on_anyone_in_the_month_refuses_the_request_and_the_detach(
    auditor, second_auditor, old_month, capsys
) -> None:
    month, target = old_month
    LegalHold.objects.create(person="borrower:2", reason="Court order, keep it.", set_by="dave")
    response = signed_in(auditor).post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON})
    assert response.status_code == 200 and response.context["form"].errors["month"]
    assert not DetachRequest.objects.exists()
    # A hold set after an approval still stops the detach.
    approved_before = DetachRequest.objects.create(month=month, reason=REASON, requested_by="dave")
    DetachDecision.objects.create(
        request=approved_before, approved=True, reason="Approved before the hold.", decided_by="erin"
    )
    code, message = detach(capsys, month, target)
    assert code == 1 and "legal hold" in message
    assert month_partition(month)[0] in attached_partitions("audit_auditevent")


def test_an_archive_that_does_not_verify_or_no_longer_matches_the_month_is_refused(
    auditor, second_auditor, old_month, capsys
) -> None:
    month, target = old_month
    request_and_approve(auditor, second_auditor, month)
    events = target / f"{month:%Y-%m}" / "events.jsonl"
    original = events.read_bytes()
    events.write_bytes(original.replace(b'"view"', b'"list"', 1))
    code, message = detach(capsys, month, target)
    assert code == 1 and "does not verify" in message
    events.write_bytes(original)
    # A late event of that month, written after the archive: the archive no longer holds the whole month.
    event_at(month + datetime.timedelta(days=20), action="view")
    seal()
    code, message = detach(capsys, month, target)
    assert code == 1 and "not those archived" in message
    assert month_partition(month)[0] in attached_partitions("audit_auditevent")


def test_only_a_month_that_is_over_and_in_the_database_can_be_requested(auditor, old_month) -> None:
    client = signed_in(auditor)
    for month in (lender_month(), add_months(lender_month(), -30)):
        response = client.post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON})
        assert response.status_code == 200 and response.context["form"].errors["month"]
    assert not DetachRequest.objects.exists()


def test_the_page_lists_the_months_and_requests_and_is_audited(auditor, old_month) -> None:
    month, _ = old_month
    client = signed_in(auditor)
    client.post("/audit/archives/", {"month": f"{month:%Y-%m}", "reason": REASON})
    mark = audit_mark()
    response = client.get("/audit/archives/")
    assert f"{month:%Y-%m}" in response.context["months"]
    assert [item.month for item in response.context["requests"]] == [month]
    assert [event.action for event in events_since(mark)] == ["list"]


def test_only_auditors_request_or_decide(officer) -> None:
    client = signed_in(officer)
    assert client.get("/audit/archives/").status_code == 403
    assert client.post("/audit/archives/", {"month": "2020-01", "reason": REASON}).status_code == 403
    assert (
        client.post("/audit/archives/decide/", {"request": 1, "decision": "approve", "reason": REASON}).status_code
        == 403
    )
