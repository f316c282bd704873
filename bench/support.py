"""What the page benchmarks share: percentiles and a throwaway test database."""

import statistics
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.utils import override_settings, setup_databases, teardown_databases


def p95(values: list[float]) -> float:
    """The 95th percentile (the single value when there is only one)."""
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def in_test_database(run: Callable[[], int]) -> int:
    """Run `run` against a fresh test database over plain HTTP, with one connection so every query is captured."""
    # As in Django's own test runs: keep one connection for the whole run.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(SECURE_SSL_REDIRECT=False, DEBUG=False, ALLOWED_HOSTS=hosts):
            return run()
    finally:
        teardown_databases(old_config, verbosity=0)
