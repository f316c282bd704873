"""Login protection: five failures for one username within 15 minutes lock it for 15 minutes, whatever the IP."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from access.roles import CASE_OFFICER
from audit.models import AuditEvent
from tests.factories import make_user
from tests.security.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED_WORDS = "15"


def attempt(username: str, password: str, *, ip: str = "10.0.0.1", agent: str = "pytest") -> object:
    """One POST to the login form from a fresh client (no shared cookies)."""
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent).post(LOGIN, {"username": username, "password": password})


def fail_five_times(username: str) -> None:
    for n in range(5):
        attempt(username, "wrong-password", ip=f"10.0.{n}.{n + 1}", agent=f"agent-{n}")


def test_a_correct_password_signs_the_officer_in() -> None:
    make_user("olga", CASE_OFFICER)
    response = attempt("olga", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/cases/"


def test_four_failures_do_not_lock_the_username() -> None:
    make_user("olga", CASE_OFFICER)
    for n in range(4):
        assert attempt("olga", "wrong-password", ip=f"10.1.0.{n + 1}").status_code == 200
    assert attempt("olga", PASSWORD).status_code == 302


def test_five_failures_from_different_ips_and_agents_lock_the_username() -> None:
    make_user("olga", CASE_OFFICER)
    fail_five_times("olga")
    response = attempt("olga", PASSWORD, ip="192.0.2.77", agent="another-browser")
    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session


def test_the_fifth_failure_answers_with_the_lockout_page_and_is_audited() -> None:
    olga = make_user("olga", CASE_OFFICER)
    for n in range(4):
        attempt("olga", "wrong-password", ip=f"10.2.0.{n + 1}")
    response = attempt("olga", "wrong-password", ip="10.2.0.9")
    assert response.status_code == 429
    lockout = AuditEvent.objects.get(action="lockout")
    assert lockout.actor_id == olga.pk
    assert lockout.outcome == "denied"
    assert AuditEvent.objects.filter(action="login_failed").count() == 5


def test_the_lock_does_not_reach_other_usernames() -> None:
    make_user("olga", CASE_OFFICER)
    make_user("piet", CASE_OFFICER)
    fail_five_times("olga")
    assert attempt("piet", PASSWORD, ip="10.0.0.1").status_code == 302


def test_the_lock_lifts_after_15_minutes_and_not_before() -> None:
    make_user("olga", CASE_OFFICER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_five_times("olga")
    with time_machine.travel(start + datetime.timedelta(minutes=14, seconds=50), tick=False):
        assert attempt("olga", PASSWORD).status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=10), tick=False):
        assert attempt("olga", PASSWORD).status_code == 302


def test_attempts_during_the_lock_do_not_extend_it() -> None:
    make_user("olga", CASE_OFFICER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_five_times("olga")
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert attempt("olga", "wrong-password").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=10), tick=False):
        assert attempt("olga", PASSWORD).status_code == 302


def test_failures_older_than_15_minutes_do_not_count() -> None:
    make_user("olga", CASE_OFFICER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            attempt("olga", "wrong-password")
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        attempt("olga", "wrong-password")
        assert attempt("olga", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count() -> None:
    make_user("olga", CASE_OFFICER)
    for _ in range(4):
        attempt("olga", "wrong-password")
    assert attempt("olga", PASSWORD).status_code == 302
    for _ in range(4):
        attempt("olga", "wrong-password")
    assert attempt("olga", PASSWORD).status_code == 302


def test_messages_do_not_reveal_whether_the_username_exists() -> None:
    make_user("olga", CASE_OFFICER)
    wrong_password = attempt("olga", "wrong-password")
    unknown_user = attempt("nobody-here", "wrong-password")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert wrong_password.context["form"].errors == unknown_user.context["form"].errors
    fail_five_times("olga")
    fail_five_times("nobody-here")
    locked_known = attempt("olga", PASSWORD)
    locked_unknown = attempt("nobody-here", PASSWORD)
    assert locked_known.status_code == locked_unknown.status_code == 429
    assert locked_known.context["lockout_message"] == locked_unknown.context["lockout_message"]
    assert LOCKED_WORDS in str(locked_known.context["lockout_message"])


def test_an_inactive_users_correct_password_gets_the_ordinary_error() -> None:
    make_user("olga", CASE_OFFICER, is_active=False)
    inactive = attempt("olga", PASSWORD)
    unknown = attempt("nobody-here", PASSWORD)
    assert inactive.status_code == 200
    assert inactive.context["form"].errors == unknown.context["form"].errors


def test_a_lockout_of_an_unknown_username_names_no_actor() -> None:
    fail_five_times("nobody-here")
    lockout = AuditEvent.objects.get(action="lockout")
    assert lockout.actor_id is None
    assert lockout.detail["username_known"] is False
    assert "nobody-here" not in str(lockout.detail)
