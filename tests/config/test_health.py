"""The health and readiness probes."""

import pytest
from django.db import connection
from django.test import Client


def test_healthz_answers_200_while_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_reports_database_and_redis_ok(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "audit_partitions": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_when_the_database_is_unreachable(client: Client, settings, monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_readyz_reports_redis_down_when_unreachable(client: Client, settings, monkeypatch) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr("config.views._database_status", lambda: "ok")
    monkeypatch.setattr("config.views._audit_partitions_status", lambda: "ok")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down", "audit_partitions": "ok"}
