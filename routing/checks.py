"""System checks for the bus's configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def claim_lease_outlasts_task_time_limit(**kwargs: Any) -> list[CheckMessage]:
    """Each claim has a lease of its own, renewed while its attempt runs: a claiming task with
    no hard time limit could hang and renew it for ever, so those tasks must have one. A claim
    recorded without a lease (by an older release) is taken back after
    ROUTING_RUNNING_LEASE_SECONDS, which must therefore exceed every claiming task's hard time
    limit, or the sweeper could send again a delivery still being sent."""
    from routing import tasks

    lease = float(settings.ROUTING_RUNNING_LEASE_SECONDS)
    errors: list[CheckMessage] = []
    # The tasks that claim deliveries. The limit is what the worker applies: the task's own,
    # else CELERY_TASK_TIME_LIMIT (which Celery copies onto the task when it binds it).
    for task in (tasks.route_events, tasks.deliver, tasks.deliver_batch):
        name, limit = task.name, task.time_limit
        if not limit:
            errors.append(Error(
                f"The task {name} has no hard time limit, so no claim lease is long enough.",
                hint="Set CELERY_TASK_TIME_LIMIT (seconds) below ROUTING_RUNNING_LEASE_SECONDS.",
                id="routing.E001",
            ))
        elif lease <= float(limit):
            errors.append(Error(
                f"ROUTING_RUNNING_LEASE_SECONDS ({lease:g}) must exceed the hard time limit of "
                f"{name} ({float(limit):g} s): the sweeper would re-send deliveries still "
                "being attempted.",
                hint="Raise ROUTING_RUNNING_LEASE_SECONDS or lower CELERY_TASK_TIME_LIMIT.",
                id="routing.E002",
            ))
    return errors
