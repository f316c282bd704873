"""Fixtures of the security tests."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import signed_in
from tests.security.fixtures import _plain_http_test_client, otp_verify_session  # noqa: F401 - fixture

PASSWORD = "test-pass-2026!"


def fully_signed_in(user: User) -> Client:
    """A client signed in as `user`, second factor included when the user needs one."""
    client = signed_in(user)
    otp_verify_session(client, user)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """These tests sign in hundreds of times; the production hasher's cost is not what they measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
