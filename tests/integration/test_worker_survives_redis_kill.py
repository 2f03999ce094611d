"""The Celery worker survives its Redis being SIGKILLed and restarted, again and again, while
messages are in flight. celery 5.7.0 / kombu 5.7.0 used to die here ("Unrecoverable error:
AttributeError('NoneType' object has no attribute 'hostname')"); coffeeshop/celery.py says why.

The Redis is private (its own redis-server on a free port) so that killing it hurts no one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from celery import Celery

from tests.support.processes import CeleryWorker
from tests.support.redis_server import PrivateRedis

ROUNDS = 8


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    yield redis
    redis.server.stop()


def _client_app(url: str, *, results: bool = False) -> Celery:
    # Not the current app: the project's tasks (and the checks that read their time limits)
    # resolve through the current app, and must keep finding the project's.
    app = Celery("redis-kill-test", broker=url, backend=url if results else None,
                 set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json",
                    broker_connection_timeout=1, broker_connection_retry_on_startup=True)
    return app


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_worker_survives_redis_sigkill_and_restart(private_redis: PrivateRedis) -> None:
    worker = CeleryWorker(env={"REDIS_URL": private_redis.url}).start_and_wait_on(
        _client_app(private_redis.url))
    stop = threading.Event()

    def publish() -> None:
        # Short tasks, many of them: the worker always holds unacknowledged messages and is
        # always inside a BRPOP, the state in which the connection loss used to kill it.
        app = _client_app(private_redis.url)
        while not stop.is_set():
            try:
                app.send_task("tests.sleep", args=[0.05])
            except Exception:  # Redis is down this moment: the next round publishes again
                time.sleep(0.1)
            time.sleep(0.02)

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        for round_number in range(ROUNDS):
            time.sleep(1.5 + 0.37 * (round_number % 3))
            private_redis.kill()
            time.sleep(0.3)
            private_redis.restart()
            time.sleep(2.0)
            assert worker.is_running(), (
                f"the worker died after Redis kill {round_number + 1}:\n{worker.log()[-5000:]}")
    finally:
        stop.set()
        publisher.join(10)

    app = _client_app(private_redis.url, results=True)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[worker.hostname], timeout=1):
        assert time.monotonic() < deadline, f"the worker never came back:\n{worker.log()[-5000:]}"
    pid = app.send_task("tests.worker_pid").get(timeout=30)
    assert isinstance(pid, int)
    assert "Unrecoverable error" not in worker.log()
    app.close()
    worker.stop()
