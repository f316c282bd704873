"""Named users and shared fixtures: the officer, another officer, the approver, the auditor, the admin."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import settings as hypothesis_settings

from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER
from tests.factories import make_superuser, make_user
from tests.security.fixtures import otp_verify_session

# Every test: plain-HTTP test client (tests.security.fixtures) and audit tables cleared on flush (tests.audit.cleanup).
pytest_plugins = ["tests.security.fixtures", "tests.audit.cleanup"]

# Property tests draw the same examples on every run in CI and under `make test` (HYPOTHESIS_PROFILE=ci): a red
# there is reproducible and never a new draw's luck, and no local example database colours the result. Elsewhere
# the default profile keeps drawing new examples (and replays the failures it saved in .hypothesis/).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    hypothesis_settings.load_profile("ci")

SQLITE_SKIP_REASON = "PostgreSQL only by nature (indexes, HOT updates, xmin, advisory locks); this run is on SQLite"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make every transactional test restore the migrations' data (roles, policy profiles) after its flush.

    A flush without serialized rollback re-creates content types under new ids, which then collide with the
    serialized copy that the next serialized test restores; so all transactional tests serialize, or none could.
    On SQLite (no DATABASE_URL, the `make run` default) the tests marked `postgresql_only` are skipped.
    """
    on_sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    for item in items:
        if on_sqlite and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason=SQLITE_SKIP_REASON))
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}))


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
    """A risk-control approver holding the all-portfolios grant (make_user gives it)."""
    return make_user("carol", RISK_APPROVER)


@pytest.fixture
def auditor(db: None) -> User:
    """A compliance auditor."""
    return make_user("dave", COMPLIANCE_AUDITOR)


@pytest.fixture
def admin_user(db: None) -> User:
    """A superuser, who holds no role implicitly."""
    return make_superuser("root")


def signed_in(user: User) -> Client:
    """A test client signed in as `user`, past the second factor when the user's role needs one."""
    client = Client()
    client.force_login(user)
    otp_verify_session(client, user)
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    """The officer, signed in."""
    return signed_in(officer)
