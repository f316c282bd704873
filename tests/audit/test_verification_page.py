"""/audit/verify/ shows full and incremental runs, and an auditor starts one from it as a task (audited first)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from audit.models import VerificationRun
from audit.record import audit_record
from audit.tasks import audit_verify
from tests.audit.helpers import audit_mark, events_since
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(auditor) -> Client:
    return signed_in(auditor)


@pytest.fixture
def tasks_run_here(monkeypatch) -> list[dict]:
    """Run the verify task in this process when the page starts it (no worker in the tests); its arguments."""
    started: list[dict] = []

    def delay(**kwargs: object) -> None:
        started.append(kwargs)
        audit_verify.apply(kwargs=kwargs)

    monkeypatch.setattr(audit_verify, "delay", delay)
    return started


def test_the_page_shows_the_last_full_and_the_last_incremental_run(auditor_client, audit_keys) -> None:
    audit_record(action="view")
    call_command("audit_checkpoint")
    call_command("verify_audit")
    audit_record(action="view")
    call_command("audit_checkpoint")
    call_command("verify_audit", "--incremental")
    response = auditor_client.get("/audit/verify/")
    assert response.status_code == 200
    assert {kind: run.kind for kind, run in response.context["latest"].items()} == {
        "full": "full",
        "incremental": "incremental",
    }
    assert [run.kind for run in response.context["runs"]] == ["incremental", "full"]
    assert response.context["run"].after_seq > 0
    page = response.content.decode()
    assert 'id="verification-kinds"' in page and 'id="verification-runs"' in page


def test_an_auditor_starts_an_incremental_run_which_is_recorded_before_it_starts(
    auditor, auditor_client, audit_keys, tasks_run_here
) -> None:
    audit_record(action="view")
    call_command("audit_checkpoint")
    mark = audit_mark()
    response = auditor_client.post("/audit/verify/start/", {"kind": "incremental"})
    assert (response.status_code, response["Location"]) == (302, "/audit/verify/")
    (requested,) = events_since(mark, action="verify_requested")
    assert (requested.actor_username, requested.role, requested.object_type, requested.detail) == (
        auditor.username,
        "compliance_auditor",
        "verificationrun",
        {"kind": "incremental"},
    )
    assert tasks_run_here == [{"incremental": True, "requested_by": auditor.username}]
    run = VerificationRun.objects.get()
    # No verified checkpoint yet: the incremental run checked the whole chain.
    assert (run.kind, run.ok, run.requested_by) == ("full", True, auditor.username)
    followed = auditor_client.get("/audit/verify/")
    assert followed.context["runs"][0].requested_by == auditor.username


def test_a_full_run_can_be_started_too(auditor_client, audit_keys, tasks_run_here) -> None:
    auditor_client.post("/audit/verify/start/", {"kind": "full"})
    assert tasks_run_here == [{"incremental": False, "requested_by": "dave"}]
    assert VerificationRun.objects.get().kind == "full"


def test_an_unknown_kind_is_a_field_error_and_starts_nothing(auditor_client, audit_keys, tasks_run_here) -> None:
    mark = audit_mark()
    response = auditor_client.post("/audit/verify/start/", {"kind": "everything"})
    assert response.status_code == 200
    assert response.context["form"].errors["kind"]
    assert tasks_run_here == []
    assert not events_since(mark, action="verify_requested")


def test_only_auditors_start_a_run_and_a_refusal_is_recorded(officer, tasks_run_here) -> None:
    client = signed_in(officer)
    mark = audit_mark()
    response = client.post("/audit/verify/start/", {"kind": "full"})
    assert response.status_code == 403
    assert tasks_run_here == []
    assert [event.action for event in events_since(mark)] == ["permission_denied"]
    assert client.get("/audit/verify/start/").status_code == 405


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_run_starts_when_its_request_cannot_be_recorded(auditor, audit_keys, tasks_run_here) -> None:
    client = signed_in(auditor)
    # The database refuses audit inserts (as a full disk or a lost privilege would): fail closed, start nothing.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER audit_test_refuse BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_test_refuse()"
        )
    try:
        response = client.post("/audit/verify/start/", {"kind": "full"})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER audit_test_refuse ON audit_auditevent")
            cursor.execute("DROP FUNCTION audit_test_refuse()")
    assert response.status_code == 503
    assert tasks_run_here == []
