"""Sending work to the Celery workers, always after the database has committed it.

The database is the truth: a message that cannot be sent (Redis down, the process stopped before
sending) is logged, and the periodic sweeper re-sends it from the rows left to do. So a failure
here never undoes a publish.

Messages asked for "on commit" are handed to one background sender thread per process, so a
request or a task never waits for the broker; route messages waiting together are merged into
one (up to ROUTE_BATCH events). The send_* functions send at once, from the calling thread.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence

from django.db import transaction

from routing.cancellation import CANCELLATIONS
from routing.task_names import (
    AUTHORIZE_CONNECTION_TASK,
    DELIVER_BATCH_TASK,
    DELIVER_TASK,
    REPLAY_TASK,
    ROUTE_TASK,
)

logger = logging.getLogger(__name__)

# Retries (and attempts the sweeper took back from a lost worker) travel on a queue of their own,
# consumed by its own worker (the Procfile's `retries`), so a backlog on the main queue never
# holds them past their time: the back-off schedule is kept whatever is queued ahead.
RETRY_QUEUE = "retries"
# Deliveries to fast target kinds that the sweeper re-sends travel in one message per this many
# (webhooks, one message each: routing.targets.registry.ONE_MESSAGE_EACH).
DELIVERY_BATCH = 25
# Route messages waiting in the sender together become one message of at most this many events.
ROUTE_BATCH = 50

_Message = tuple[str, list[object], float | None, str | None]


def _send(task_name: str, args: list[object], countdown: float | None = None,
          queue: str | None = None) -> bool:
    from coffeeshop.celery import app

    try:
        # ignore_result: with a Redis result backend, Celery would otherwise subscribe to a
        # result channel for every message sent, which costs more than sending it.
        # No time limits in the message: Celery would stamp the *sender's* configured limits
        # into it, overriding the worker's own, which routing's lease check is computed from.
        app.send_task(task_name, args=args, countdown=countdown, queue=queue,
                      ignore_result=True, time_limit=None, soft_time_limit=None)
    except CANCELLATIONS:
        raise
    except Exception as exc:  # kombu raises several connection error types
        logger.warning(
            "could not enqueue %s%r (%s); the sweeper will send it again", task_name, args, exc
        )
        return False
    return True


class _Sender:
    """A daemon thread that sends queued messages. Started on first use in each process (a
    forked Celery worker child starts its own)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, message: _Message) -> None:
        self._ensure_running()
        self._queue.put(message)

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until everything submitted so far has been sent (True), or the time-out."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    def _ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():
                # A forked child inherits the parent's queue and lock in an unknown state.
                self._queue = queue.Queue()
                self._pid = os.getpid()
                self._thread = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="routing-dispatch",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            merged = [message]
            if message[0] == ROUTE_TASK:
                merged += self._more_route_messages(len(message[1][0]))  # type: ignore[arg-type]
            try:
                self._send_merged(merged)
            except Exception:  # never let the sender die; the sweeper covers what was lost
                # (A time limit is a signal, which Python runs in the main thread: none lands here.)
                logger.exception("the dispatch thread failed to send %d message(s)", len(merged))
            finally:
                for _ in merged:
                    self._queue.task_done()

    def _more_route_messages(self, count: int) -> list[_Message]:
        taken: list[_Message] = []
        while count < ROUTE_BATCH:
            try:
                candidate = self._queue.get_nowait()
            except queue.Empty:
                break
            taken.append(candidate)
            if candidate[0] == ROUTE_TASK:
                count += len(candidate[1][0])  # type: ignore[arg-type]
        return taken

    @staticmethod
    def _send_merged(messages: list[_Message]) -> None:
        route_ids = [event_id for name, args, _, _ in messages if name == ROUTE_TASK
                     for event_id in args[0]]  # type: ignore[attr-defined]
        if route_ids:
            _send(ROUTE_TASK, [route_ids])
        for name, args, countdown, queue_name in messages:
            if name != ROUTE_TASK:
                _send(name, args, countdown, queue_name)


_sender = _Sender()
# A process that stops right after committing (a management command, say) still sends.
atexit.register(_sender.flush, 5.0)


def flush(timeout: float = 5.0) -> bool:
    return _sender.flush(timeout)


def route_events_on_commit(event_ids: Sequence[str]) -> None:
    ids = [str(event_id) for event_id in event_ids]
    if ids:
        transaction.on_commit(lambda: _sender.submit((ROUTE_TASK, [ids], None, None)))


def deliver_on_commit(delivery_id: str) -> None:
    transaction.on_commit(lambda: _sender.submit((DELIVER_TASK, [str(delivery_id)], None, None)))


def retry_on_commit(delivery_id: str, countdown: float | None = None) -> None:
    """A delivery attempted before, to be attempted again after `countdown` seconds."""
    transaction.on_commit(
        lambda: _sender.submit((DELIVER_TASK, [str(delivery_id)], countdown, RETRY_QUEUE))
    )


def deliveries_on_commit(delivery_ids: Sequence[str]) -> None:
    """Enqueues deliveries after commit, one message each."""
    ids = [str(delivery_id) for delivery_id in delivery_ids]
    if not ids:
        return

    def submit_each() -> None:
        for delivery_id in ids:
            _sender.submit((DELIVER_TASK, [delivery_id], None, None))

    transaction.on_commit(submit_each)


def delivery_batches_on_commit(delivery_ids: Sequence[str]) -> None:
    """Enqueues deliveries after commit, DELIVERY_BATCH to a message (fast target kinds only)."""
    ids = [str(delivery_id) for delivery_id in delivery_ids]

    def submit_batches() -> None:
        for start in range(0, len(ids), DELIVERY_BATCH):
            _sender.submit(
                (DELIVER_BATCH_TASK, [ids[start:start + DELIVERY_BATCH]], None, None))

    if ids:
        transaction.on_commit(submit_batches)


def send_deliver(delivery_id: str, *, retry: bool = False) -> bool:
    return _send(DELIVER_TASK, [str(delivery_id)], queue=RETRY_QUEUE if retry else None)


def send_deliver_batch(delivery_ids: Sequence[str]) -> bool:
    return _send(DELIVER_BATCH_TASK, [list(delivery_ids)])


def send_route_events(event_ids: Sequence[str]) -> bool:
    return _send(ROUTE_TASK, [[str(event_id) for event_id in event_ids]])


def send_replay(replay_id: int) -> bool:
    """A lost replay message is not lost work: the resume job sends it again once the replay
    has been silent for a while."""
    return _send(REPLAY_TASK, [replay_id])


def authorize_connection_on_commit(connection_id: int) -> None:
    """An OAuth connection's first token. A lost message leaves it AUTHORIZING, and its first
    delivery fetches the token itself."""
    transaction.on_commit(
        lambda: _sender.submit((AUTHORIZE_CONNECTION_TASK, [connection_id], None, None)))
