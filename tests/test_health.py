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
