"""Tasks that exist only so tests can see work happen inside a real worker process."""

import os

from celery import shared_task


@shared_task(name="tests.worker_pid", ignore_result=False)
def worker_pid() -> int:
    return os.getpid()


@shared_task(name="tests.sleep")
def sleep(seconds: float) -> None:
    """A slow no-op: holds a worker slot (messages stay delivered but unacknowledged meanwhile),
    or makes a backlog on the queue it is sent to."""
    import time

    time.sleep(seconds)
