"""Test helpers for the security layer; tests/conftest.py imports them so every test gets them."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.security import user_needs_mfa


def otp_verify_session(client: Client, user: User) -> None:
    """Give `client`'s signed-in session a passed second factor when `user` needs one (no-op otherwise)."""
    if not user_needs_mfa(user):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True, scope="session")
def _plain_http_test_client() -> Iterator[None]:
    """The test client and live server speak plain HTTP; production's HTTPS redirect would answer 301 to all.

    Session-scoped so it is in force before the live server builds its middleware (which reads the setting once).
    """
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield
