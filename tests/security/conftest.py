"""Fixtures of the security tests."""

import pytest

PASSWORD = "test-pass-2026!"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """These tests sign in hundreds of times; the production hasher's cost is not what they measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
