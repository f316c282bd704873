"""Named users and shared fixtures: the officer, another officer, the approver, the auditor, the admin."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from collections_app.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER
from tests.factories import make_user


@pytest.fixture
def officer(db: None) -> User:
    """A case officer with their own caseload."""
    return make_user("alice", CASE_OFFICER)


@pytest.fixture
def other_officer(db: None) -> User:
    """A second case officer whose caseload the first must never see."""
    return make_user("bob", CASE_OFFICER)


@pytest.fixture
def approver(db: None) -> User:
    """A risk-control approver."""
    return make_user("carol", RISK_APPROVER)


@pytest.fixture
def auditor(db: None) -> User:
    """A compliance auditor."""
    return make_user("dave", COMPLIANCE_AUDITOR)


@pytest.fixture
def admin_user(db: None) -> User:
    """A superuser, who holds no role implicitly."""
    return User.objects.create_superuser("root", "root@example.com", "test-pass-2026!")


def signed_in(user: User) -> Client:
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    """The officer, signed in."""
    return signed_in(officer)
