"""Sign-in, failed sign-in and sign-out are recorded from Django's auth signals; passwords never are."""

import pytest
from django.contrib.auth import authenticate, login, logout
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import RequestFactory

from tests.audit.helpers import audit_mark, event_text, events_since

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-2026!"


def login_request() -> HttpRequest:
    request = RequestFactory().post("/accounts/login/")
    request.session = SessionStore()
    return request


def test_a_sign_in_is_recorded_as_login(officer) -> None:
    mark = audit_mark()
    request = login_request()
    user = authenticate(request, username="alice", password=PASSWORD)
    login(request, user)
    (event,) = events_since(mark, action="login")
    assert (event.actor_id, event.actor_username, event.outcome) == (officer.pk, "alice", "ok")


def test_a_failed_sign_in_is_recorded_with_the_attempted_username_and_never_the_password(officer) -> None:
    mark = audit_mark()
    assert authenticate(login_request(), username="alice", password="wrong-guess-123") is None
    (event,) = events_since(mark, action="login_failed")
    assert event.detail == {"username": "alice"}
    assert event.outcome == "failed" and event.actor_id is None
    assert "wrong-guess-123" not in event_text(event)


def test_a_sign_out_is_recorded_as_logout(officer) -> None:
    request = login_request()
    login(request, officer, backend="django.contrib.auth.backends.ModelBackend")
    mark = audit_mark()
    request.user = officer
    logout(request)
    (event,) = events_since(mark, action="logout")
    assert event.actor_username == "alice"
