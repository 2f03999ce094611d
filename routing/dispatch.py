"""Sending work to the Celery workers, always after the database has committed it.

The database is the truth: a message that cannot be sent (Redis down) is logged, and the
periodic sweeper re-sends it from the rows left to do. So a failure here never undoes a publish.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction

logger = logging.getLogger(__name__)

ROUTE_TASK = "routing.route_events"
DELIVER_TASK = "routing.deliver"
REPLAY_TASK = "routing.replay"


def _send(task_name: str, args: list[object], countdown: float | None = None) -> bool:
    from coffeeshop.celery import app

    try:
        app.send_task(task_name, args=args, countdown=countdown)
    except Exception as exc:  # kombu raises several connection error types
        logger.warning(
            "could not enqueue %s%r (%s); the sweeper will send it again", task_name, args, exc
        )
        return False
    return True


def route_events_on_commit(event_ids: Sequence[str]) -> None:
    ids = [str(event_id) for event_id in event_ids]
    if ids:
        transaction.on_commit(lambda: _send(ROUTE_TASK, [ids]))


def deliver_on_commit(delivery_id: str, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: _send(DELIVER_TASK, [str(delivery_id)], countdown))


def send_route_events(event_ids: Sequence[str]) -> bool:
    return _send(ROUTE_TASK, [[str(event_id) for event_id in event_ids]])


def send_deliver(delivery_id: str, countdown: float | None = None) -> bool:
    return _send(DELIVER_TASK, [str(delivery_id)], countdown)


def send_replay(replay_id: int) -> bool:
    """A lost replay message is not lost work: the resume job sends it again once the replay
    has been silent for a while."""
    return _send(REPLAY_TASK, [replay_id])
