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


@shared_task(name="routing.route_events")
def route_events(event_ids: list[str]) -> dict[str, int]:
    result = route_events_service(event_ids)
    delivered = deliveries_attempt(result.deliver_now) if result.deliver_now else []
    return {"routed": result.routed_events, "deliveries": result.deliveries,
            "attempted_now": len(delivered)}


@shared_task(name="routing.deliver")
def deliver(delivery_id: str) -> str:
    return delivery_attempt(delivery_id).status


@shared_task(name="routing.deliver_batch")
def deliver_batch(delivery_ids: list[str]) -> dict[str, int]:
    reports = deliveries_attempt(delivery_ids)
    return {"attempted": sum(1 for report in reports if report.attempt is not None)}


@shared_task(name="routing.authorize_connection", soft_time_limit=30, time_limit=40)
def authorize_connection(connection_id: int) -> str:
    return connection_authorize(connection_id)


@shared_task(name="routing.sweep")
def sweep_lost_work() -> dict[str, int]:
    report = sweep()
    return {
        "events_requeued": report.events_requeued,
        "deliveries_requeued": report.deliveries_requeued,
        "lost_attempts_recovered": report.lost_attempts_recovered,
    }

PURGE_TASK_SECONDS = 40.0


@shared_task(name="routing.fire_schedules", soft_time_limit=30, time_limit=40)
def fire_schedules() -> dict[str, int]:
    report = schedules_fire()
    return {"fired": report.fired, "already_claimed": report.already_claimed}


@shared_task(name="routing.fire_scheduler_schedules", soft_time_limit=30, time_limit=40)
def fire_scheduler_schedules() -> dict[str, int]:
    report = scheduler_schedules_fire()
    return {"fired": report.fired, "already_claimed": report.already_claimed}


@shared_task(name="routing.replay")
def replay(replay_id: int) -> str:
    return replay_run(replay_id=replay_id).state


@shared_task(name="routing.resume_replays")
def resume_replays() -> dict[str, int]:
    return {"resumed": len(replays_resume())}


@shared_task(name="routing.purge_events")
def purge_events() -> dict[str, int]:
    report = events_purge_by_retention(time_budget_seconds=PURGE_TASK_SECONDS)
    if report is None:
        return {"events_deleted": 0}
    return {
        "events_deleted": report.events_deleted,
        "archive_entries_expired": report.archive_entries_expired,
        "complete": int(report.complete),
    }
