"""Sessions: a new key at sign-in, 30 minutes idle, 12 hours absolute, logout and deactivation end them."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from access.roles import CASE_OFFICER
from access.security import user_deactivate
from audit.models import AuditEvent
from tests.factories import make_user
from tests.security.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# A page every signed-in user may open that needs no role: the root redirects by role.
PAGE = "/"


@pytest.fixture
def olga(db: None) -> User:
    return make_user("olga", CASE_OFFICER)


def sign_in(username: str = "olga") -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def is_signed_in(client: Client) -> bool:
    response = client.get(PAGE)
    return not response["Location"].startswith("/accounts/login/")


def test_sign_in_gives_the_session_a_new_key(olga: User) -> None:
    client = Client()
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "attacker-planted-session-key-000000"
    client.post("/accounts/login/", {"username": "olga", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "attacker-planted-session-key-000000"
    assert Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


def test_a_session_survives_activity_within_the_idle_limit(olga: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = sign_in()
    for minutes in (25, 50, 75):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            assert is_signed_in(client), minutes


def test_thirty_idle_minutes_end_the_session_on_the_server(olga: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = sign_in()
        key = client.cookies["sessionid"].value
    with time_machine.travel(start + datetime.timedelta(minutes=30, seconds=5), tick=False):
        response = client.get("/cases/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=key, expire_date__gt=start + datetime.timedelta(minutes=31)).exists()


def test_the_session_ends_after_twelve_hours_however_active(olga: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = sign_in()
    elapsed = datetime.timedelta(0)
    step = datetime.timedelta(minutes=20)
    while elapsed + step < datetime.timedelta(hours=12):
        elapsed += step
        with time_machine.travel(start + elapsed, tick=False):
            assert is_signed_in(client), elapsed
    with time_machine.travel(start + datetime.timedelta(hours=12, seconds=1), tick=False):
        assert not is_signed_in(client)
        assert AuditEvent.objects.filter(action="logout", actor_username="olga").exists()


def test_logout_is_post_only_and_ends_the_session_on_the_server(olga: User) -> None:
    client = sign_in()
    key = client.cookies["sessionid"].value
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed, is worth nothing.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert not is_signed_in(replay)
    assert AuditEvent.objects.filter(action="logout", actor_username="olga").exists()


def test_deactivating_a_user_ends_all_their_sessions_at_once(olga: User, admin_user: User) -> None:
    desk, laptop = sign_in(), sign_in()
    other = make_user("piet", CASE_OFFICER)
    bystander = sign_in("piet")
    ended = user_deactivate(user=olga, actor=admin_user)
    assert ended == 2
    assert not is_signed_in(desk)
    assert not is_signed_in(laptop)
    assert is_signed_in(bystander)
    event = AuditEvent.objects.get(action="update", object_type="user", object_id=str(olga.pk))
    assert event.detail == {"is_active": False, "sessions_ended": 2}
    assert event.actor_username == "root"
    assert other.is_active


def test_an_inactive_users_sessions_stop_working_immediately_even_if_not_deleted(olga: User) -> None:
    client = sign_in()
    User.objects.filter(pk=olga.pk).update(is_active=False)
    assert not is_signed_in(client)


def test_a_password_change_ends_the_users_other_sessions(olga: User) -> None:
    client = sign_in()
    olga.set_password("another-pass-2026!")
    olga.save()
    assert not is_signed_in(client)
