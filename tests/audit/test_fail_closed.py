"""Fail closed: when the audit insert fails, the personal data is not shown (503) and the failure is logged."""

import logging

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from audit.middleware import AuditContextMiddleware
from audit.models import AuditEvent
from audit.record import AuditWriteError, audit_record
from tests.conftest import signed_in
from tests.factories import make_account

CANARY_NAME = "金丝雀测试人"
CANARY_PHONE = "+8613912345678"


def failing_view(request: HttpRequest) -> HttpResponse:
    audit_record(action="view", object_type="borrower", object_id=1, fields=["name"])
    return HttpResponse(f"<p>{CANARY_NAME} {CANARY_PHONE}</p>")


@pytest.mark.django_db
def test_the_middleware_turns_an_audit_failure_into_a_503_without_the_data(monkeypatch, caplog) -> None:
    def broken(**values: object) -> None:
        raise connection.Database.OperationalError("disk full")

    monkeypatch.setattr("audit.record._insert", broken)
    middleware = AuditContextMiddleware(lambda request: middleware.process_exception(request, _call(request)))

    def _call(request: HttpRequest) -> Exception:
        try:
            failing_view(request)
        except AuditWriteError as exc:
            return exc
        raise AssertionError("the audit failure was swallowed")

    with caplog.at_level(logging.ERROR):
        response = middleware(RequestFactory().get("/cases/1/"))
    assert response.status_code == 503
    body = response.content.decode()
    assert CANARY_NAME not in body and "13912345678" not in body and "5678" not in body
    assert response["Cache-Control"] == "no-store"
    assert any("audit write failed" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_account_page_whose_audit_insert_the_database_refuses_shows_no_personal_data(officer) -> None:
    account = make_account(officer)
    account.borrower.name = CANARY_NAME
    account.borrower.phone = CANARY_PHONE
    account.borrower.save()
    client = signed_in(officer)
    before = AuditEvent.objects.count()
    # The database itself refuses audit inserts (a real failure, not a mock), as a full disk or lost privilege would.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$;"
            "CREATE TRIGGER audit_test_refuse BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_test_refuse();"
        )
    try:
        response = client.get(f"/cases/{account.pk}/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER audit_test_refuse ON audit_auditevent; DROP FUNCTION audit_test_refuse();")
    assert response.status_code == 503
    body = response.content.decode()
    assert CANARY_NAME[0] not in body  # not even the masked form
    assert "5678" not in body
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_auditors_own_pages_fail_closed_too(auditor) -> None:
    audit_record(action="view", persons=["borrower:77"], fields=["name"])
    client = signed_in(auditor)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$;"
            "CREATE TRIGGER audit_test_refuse BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_test_refuse();"
        )
    try:
        response = client.get("/audit/person/borrower/77/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER audit_test_refuse ON audit_auditevent; DROP FUNCTION audit_test_refuse();")
    assert response.status_code == 503
    assert "borrower:77" not in response.content.decode()


@pytest.mark.django_db
def test_review_pages_fail_closed_with_the_same_answer_as_the_middleware(monkeypatch) -> None:
    from review.views import _audit_fail_closed

    def broken(**values: object) -> None:
        raise connection.Database.OperationalError("disk full")

    monkeypatch.setattr("audit.record._insert", broken)
    request = RequestFactory().get("/review/1/")
    request.request_id = "r-1"
    from_review = _audit_fail_closed(failing_view)(request)
    from_middleware = AuditContextMiddleware(lambda request: HttpResponse()).process_exception(
        request, AuditWriteError("disk full")
    )
    assert from_review.status_code == from_middleware.status_code == 503
    assert from_review.content == from_middleware.content
    assert CANARY_NAME not in from_review.content.decode() and "r-1" in from_review.content.decode()
    for header in ("Cache-Control", "Retry-After", "Content-Type"):
        assert from_review[header] == from_middleware[header]
