"""Sign-in, failed sign-in and sign-out are recorded from Django's auth signals; passwords never are."""

import pytest
from django.contrib.auth import authenticate, login, logout
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import RequestFactory

from audit.receivers import ATTEMPTED_USERNAME_PURPOSE
from audit.record import keyed_hash
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


def test_a_failed_sign_in_is_recorded_with_a_keyed_hash_of_the_username_and_never_the_password(officer) -> None:
    mark = audit_mark()
    assert authenticate(login_request(), username="alice", password="wrong-guess-123") is None
    (event,) = events_since(mark, action="login_failed")
    assert event.detail == {"username_hmac": keyed_hash("alice", purpose=ATTEMPTED_USERNAME_PURPOSE)}
    assert event.outcome == "failed" and event.actor_id is None
    # The account tried is named by id; neither the typed username nor the password is anywhere in the event.
    assert (event.object_type, event.object_id) == ("user", str(officer.pk))
    assert "wrong-guess-123" not in event_text(event)
    assert "alice" not in event_text(event)


def test_a_password_typed_as_the_username_never_reaches_the_log(officer, settings) -> None:
    typed = "Tr0ub4dor&3-typed-in-the-wrong-field"
    mark = audit_mark()
    for _ in range(2):
        assert authenticate(login_request(), username=typed, password="x") is None
    first, second = events_since(mark, action="login_failed")
    assert typed not in event_text(first)
    assert first.object_id == ""
    # The same attempt hashes the same (repeats still show), under a key: another SECRET_KEY, another hash.
    assert first.detail == second.detail
    settings.SECRET_KEY = "another-secret-key-" + "0" * 40
    assert keyed_hash(typed, purpose=ATTEMPTED_USERNAME_PURPOSE) != first.detail["username_hmac"]


def test_a_sign_out_is_recorded_as_logout(officer) -> None:
    request = login_request()
    login(request, officer, backend="django.contrib.auth.backends.ModelBackend")
    mark = audit_mark()
    request.user = officer
    logout(request)
    (event,) = events_since(mark, action="logout")
    assert event.actor_username == "alice"
