"""/healthz with no Celery worker running (this module starts none): 503 and says which part."""

import pytest
from django.test import Client

from coffeeshop.embedded_redis import free_tcp_port
from coffeeshop.health import check_redis, check_workers


@pytest.mark.django_db
def test_healthz_is_503_and_names_the_missing_worker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["worker"] == "down"
    assert body["healthy"] is False
    assert "no Celery worker" in body["errors"]["worker"]


def test_redis_check_reports_an_unreachable_server() -> None:
    status, error = check_redis(f"redis://127.0.0.1:{free_tcp_port()}/0")
    assert status == "down"
    assert "ConnectionError" in error


def test_worker_check_is_down_without_workers() -> None:
    assert check_workers(timeout=0.3) == ("down", "no Celery worker answered a ping")


@pytest.mark.django_db
def test_healthz_reports_redis_down(client: Client, settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_tcp_port()}/0"
    body = client.get("/healthz").json()
    assert (body["database"], body["redis"], body["worker"]) == ("ok", "down", "down")


@pytest.mark.django_db
def test_healthz_answers_within_a_second_when_the_broker_hangs(client: Client, settings) -> None:
    """A Redis that accepts connections and never answers must cost /healthz its own deadline."""
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepted by the kernel, never read: every PING hangs
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert response.status_code == 503
    assert elapsed <= 1.0, elapsed
    body = response.json()
    assert (body["database"], body["redis"], body["worker"]) == ("ok", "down", "down")


@pytest.mark.django_db
def test_healthz_down_is_a_warning_not_an_error(client: Client, caplog) -> None:
    """Issue 13: while the app starts (no worker yet) /healthz must not log an ERROR."""
    import logging

    with caplog.at_level(logging.INFO):
        assert client.get("/healthz").status_code == 503
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert any("healthz: down" in r.getMessage() for r in caplog.records)
