"""The Celery application: configured from Django settings (CELERY_*), tasks found per app."""

import os
from typing import Any

import redis
from celery import Celery
from celery.signals import beat_init
from kombu.transport import redis as kombu_redis

from routing import task_names

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffeeshop.settings.local")



def _refuse_detached_channel() -> None:
    """kombu 5.7.0's Redis transport can kill the worker when Redis dies (issue 11).

    On a connection loss celery 5.7.0 first `collect()`s the broker connection, then closes it.
    When the loss caught the consumer channel inside a BRPOP, collect's close of that channel
    fails half-way (the BRPOP read raises ConnectionError, which kombu ignores), yet collect
    goes on to detach the transport (`transport.client = None`). celery's `close()` then closes
    the channel again; this time it restores its unacknowledged messages, needs a fresh Redis
    pool for that, and reads the host from the detached transport: AttributeError, which is no
    connection error, so nothing catches it and the worker's main process exits with
    "Unrecoverable error: AttributeError('NoneType' object has no attribute 'hostname')".

    A detached channel can reach no Redis anyway, so it now says so with the connection error
    kombu and celery expect: the close is ignored like any other connection error, the worker
    reconnects, and the messages it held come back from Redis (visibility timeout) or, when
    Redis lost them, from the database through the sweeper. Remove when kombu stops reading a
    detached transport (tests/integration/test_worker_survives_redis_kill.py shows it).
    """
    original = getattr(kombu_redis.Channel, "_connparams")  # noqa: B009 (untyped in stubs)
    if getattr(original, "detached_guard", False):
        return

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError(
                "the broker connection of this channel is closed; it cannot reach Redis")
        return original(self, asynchronous=asynchronous)

    _connparams.detached_guard = True  # type: ignore[attr-defined]
    setattr(kombu_redis.Channel, "_connparams", _connparams)  # noqa: B010


_refuse_detached_channel()

app = Celery("coffeeshop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often beat looks for scheduled rules' due ticks (AWS promises a minute's precision). Read
# from the environment, not Django's settings, which must not be loaded at import.
SCHEDULE_POLL_SECONDS = float(os.environ.get("ROUTING_SCHEDULE_POLL_SECONDS", "5"))
# How often beat applies the shops' opening hours (open, closing soon, close, local midnight).
HOURS_POLL_SECONDS = float(os.environ.get("ORDERS_HOURS_POLL_SECONDS", "5"))

app.conf.beat_schedule = {
    "routing-sweep": {
        "task": task_names.SWEEP_TASK,
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    "publish-system-status": {
        "task": "coffeeshop.publish_system_status",
        "schedule": 10.0,
        "options": {"expires": 10.0},
    },
    # Replays whose worker died or whose message was lost are enqueued again.
    "routing-resume-replays": {
        "task": task_names.RESUME_REPLAYS_TASK,
        "schedule": 10.0,
        "options": {"expires": 10.0},
    },
    # The retention purge (ROUTING_EVENT_RETENTION_DAYS; archives keep what they retain).
    "routing-purge-events": {
        "task": task_names.PURGE_EVENTS_TASK,
        "schedule": 3600.0,
        "options": {"expires": 600.0},
    },
    # Scheduled rules' due ticks are fired (each claimed once, whichever beat sent the task).
    "routing-fire-schedules": {
        "task": task_names.FIRE_SCHEDULES_TASK,
        "schedule": SCHEDULE_POLL_SECONDS,
        "options": {"expires": SCHEDULE_POLL_SECONDS},
    },
    # EventBridge Scheduler schedules' due ticks, claimed the same way.
    "routing-fire-scheduler-schedules": {
        "task": task_names.FIRE_SCHEDULER_SCHEDULES_TASK,
        "schedule": SCHEDULE_POLL_SECONDS,
        "options": {"expires": SCHEDULE_POLL_SECONDS},
    },
    # Finished orders and journeys past ORDERS_RETENTION_DAYS are deleted (orders/privacy.py).
    "orders-expire-personal-data": {
        "task": "orders.expire_personal_data",
        "schedule": 3600.0,
        "options": {"expires": 600.0},
    },
    # Shops that follow their opening hours open, are told of the close and close by them.
    "orders-follow-hours": {
        "task": "orders.follow_hours",
        "schedule": HOURS_POLL_SECONDS,
        "options": {"expires": HOURS_POLL_SECONDS},
    },
    # Orders whose wait deadline passed are timed out (deadlines live in the database).
    "orders-time-out-overdue": {
        "task": "orders.time_out_overdue",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
}


@beat_init.connect
def _start_watchdog(sender: Any = None, **kwargs: Any) -> None:
    """Beat notices when no worker answers, says so loudly and sweeps itself meanwhile."""
    from coffeeshop import watchdog

    watchdog.start(float(os.environ.get("COFFEESHOP_WATCHDOG_SECONDS", watchdog.TICK_SECONDS)))
