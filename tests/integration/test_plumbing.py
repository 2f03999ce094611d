"""The real plumbing: a Celery worker process on real Redis, and a websocket on the ASGI app."""

import json
import os
import time
import urllib.error
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
    # Each check has a deadline of its own (0.8 s): a server's very first probe may find its
    # database pool or the worker's ping still cold, so the probe is repeated, as a load
    # balancer's would be, until the report is green.
    report: object = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{asgi_server.url}/healthz", timeout=10) as response:
                report = (response.status, json.load(response))
        except urllib.error.HTTPError as error:
            report = (error.code, json.load(error))
        if report[0] == 200:
            break
        time.sleep(0.5)
    assert report == (200, {"database": "ok", "redis": "ok", "worker": "ok", "healthy": True})
