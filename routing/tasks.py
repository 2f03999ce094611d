"""Celery tasks: thin, named, ids in, one service call each. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from routing.services.delivery import delivery_attempt, sweep
from routing.services.matching import route_events as route_events_service


@shared_task(name="routing.route_events")
def route_events(event_ids: list[str]) -> dict[str, int]:
    result = route_events_service(event_ids)
    return {"routed": result.routed_events, "deliveries": result.deliveries}


@shared_task(name="routing.deliver")
def deliver(delivery_id: str) -> str:
    return delivery_attempt(delivery_id).status


@shared_task(name="routing.sweep")
def sweep_lost_work() -> dict[str, int]:
    report = sweep()
    return {
        "events_requeued": report.events_requeued,
        "deliveries_requeued": report.deliveries_requeued,
        "lost_attempts_recovered": report.lost_attempts_recovered,
    }
