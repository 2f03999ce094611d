"""Celery tasks: thin, named, ids in, one service call each. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from routing.schedules.firing import schedules_fire
from routing.schedules.scheduler_firing import scheduler_schedules_fire
from routing.services.delivery import deliveries_attempt, delivery_attempt
from routing.services.matching import route_events as route_events_service
from routing.services.oauth import connection_authorize
from routing.services.replays import replay_run, replays_resume
from routing.services.retention import events_purge_by_retention
from routing.services.sweeper import sweep
from routing.task_names import (
    AUTHORIZE_CONNECTION_TASK,
    DELIVER_BATCH_TASK,
    DELIVER_TASK,
    FIRE_SCHEDULER_SCHEDULES_TASK,
    FIRE_SCHEDULES_TASK,
    PURGE_EVENTS_TASK,
    REPLAY_TASK,
    RESUME_REPLAYS_TASK,
    ROUTE_TASK,
    SWEEP_TASK,
)


@shared_task(name=ROUTE_TASK)
def route_events(event_ids: list[str]) -> dict[str, int]:
    result = route_events_service(event_ids)
    delivered = deliveries_attempt(result.deliver_now) if result.deliver_now else []
    return {"routed": result.routed_events, "deliveries": result.deliveries,
            "attempted_now": len(delivered)}


@shared_task(name=DELIVER_TASK)
def deliver(delivery_id: str) -> str:
    return delivery_attempt(delivery_id).status


@shared_task(name=DELIVER_BATCH_TASK)
def deliver_batch(delivery_ids: list[str]) -> dict[str, int]:
    reports = deliveries_attempt(delivery_ids)
    return {"attempted": sum(1 for report in reports if report.attempt is not None)}


@shared_task(name=AUTHORIZE_CONNECTION_TASK, soft_time_limit=30, time_limit=40)
def authorize_connection(connection_id: int) -> str:
    return connection_authorize(connection_id)


@shared_task(name=SWEEP_TASK)
def sweep_lost_work() -> dict[str, int]:
    report = sweep()
    return {
        "events_requeued": report.events_requeued,
        "deliveries_requeued": report.deliveries_requeued,
        "lost_attempts_recovered": report.lost_attempts_recovered,
    }

PURGE_TASK_SECONDS = 40.0


@shared_task(name=FIRE_SCHEDULES_TASK, soft_time_limit=30, time_limit=40)
def fire_schedules() -> dict[str, int]:
    report = schedules_fire()
    return {"fired": report.fired, "already_claimed": report.already_claimed}


@shared_task(name=FIRE_SCHEDULER_SCHEDULES_TASK, soft_time_limit=30, time_limit=40)
def fire_scheduler_schedules() -> dict[str, int]:
    report = scheduler_schedules_fire()
    return {"fired": report.fired, "already_claimed": report.already_claimed}


@shared_task(name=REPLAY_TASK)
def replay(replay_id: int) -> str:
    return replay_run(replay_id=replay_id).state


@shared_task(name=RESUME_REPLAYS_TASK)
def resume_replays() -> dict[str, int]:
    return {"resumed": len(replays_resume())}


@shared_task(name=PURGE_EVENTS_TASK)
def purge_events() -> dict[str, int]:
    report = events_purge_by_retention(time_budget_seconds=PURGE_TASK_SECONDS)
    if report is None:
        return {"events_deleted": 0}
    return {
        "events_deleted": report.events_deleted,
        "archive_entries_expired": report.archive_entries_expired,
        "complete": int(report.complete),
    }
