"""The real plumbing: a Celery worker process on real Redis, and a websocket on the ASGI app."""

import json
import os
import urllib.request

import psutil
import pytest
from websockets.sync.client import connect

from coffeeshop.tasks import publish_system_status
from tests.integration.worker_tasks import worker_pid
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_task_runs_in_the_worker_process(celery_worker: CeleryWorker) -> None:
    pid = worker_pid.delay().get(timeout=30)
    assert pid != os.getpid()
    worker_children = {child.pid for child in psutil.Process(celery_worker.pid).children()}
    assert pid in worker_children, "the task ran somewhere other than the worker's pool"


def test_group_send_from_the_worker_reaches_a_websocket_client(
    celery_worker: CeleryWorker, asgi_server: AsgiServer
) -> None:
    with connect(f"{asgi_server.ws_url}/ws/status/", open_timeout=10) as socket:
        snapshot = json.loads(socket.recv(timeout=10))
        assert snapshot["type"] == "status"
        assert snapshot["source"] == "snapshot"

        publish_system_status.delay()

        pushed = json.loads(socket.recv(timeout=30))
        assert pushed["type"] == "status"
        assert pushed["source"].startswith("worker@")
        assert pushed["status"] == {
            "database": "ok", "redis": "ok", "worker": "ok", "healthy": True
        }


def test_healthz_is_green_with_a_worker(
    celery_worker: CeleryWorker, asgi_server: AsgiServer
) -> None:
    with urllib.request.urlopen(f"{asgi_server.url}/healthz", timeout=10) as response:
        assert response.status == 200
        assert json.load(response) == {
            "database": "ok", "redis": "ok", "worker": "ok", "healthy": True
        }
