"""System checks for the bus's configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def claim_lease_outlasts_task_time_limit(**kwargs: Any) -> list[CheckMessage]:
    """The sweeper takes back a claim older than ROUTING_RUNNING_LEASE_SECONDS and sends the
    delivery again. A task that may run longer than the lease can still be sending when that
    happens: the receiver gets it twice. So the lease must exceed every claiming task's hard
    time limit, and those tasks must have one."""
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
