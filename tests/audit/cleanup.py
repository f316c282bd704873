"""Pytest plugin: let tests that flush the database (transaction=True, live_server) clear the audit tables.

The append-only triggers refuse the TRUNCATE that Django's flush issues between transactional tests.
Just before that flush, this fixture sets `session_replication_role = replica` on the test connection,
which disables triggers for that session only. Only a superuser may set it: the tests connect as one,
production does not, so production cannot use this path. Django closes the connection right after the
flush, so the setting never outlives it. Register with `pytest_plugins = ["tests.audit.cleanup"]`.
"""

from collections.abc import Iterator

import pytest
from django.db import connections


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def audit_tables_cleared_on_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Before a transactional test's flush, disable the audit triggers on the flushing connection."""
    if not _is_transactional(request):
        yield
        return
    # Set up after the database fixture, so this teardown runs before its flush.
    request.getfixturevalue("transactional_db")
    yield
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
