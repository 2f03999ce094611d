"""Celery tasks of the shop: thin, named, one service call each, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from orders.opening import shops_follow_hours
from orders.privacy import personal_data_expire
from orders.services import orders_time_out_overdue


@shared_task(name="orders.time_out_overdue", soft_time_limit=20, time_limit=30)
def time_out_overdue() -> dict[str, int]:
    """Every few seconds (beat): orders whose wait deadline passed are timed out."""
    return {"timed_out": orders_time_out_overdue()}


@shared_task(name="orders.follow_hours", soft_time_limit=20, time_limit=30)
def follow_hours() -> dict[str, int]:
    """Every few seconds (beat): shops following their hours open, hear "closing soon" and
    close by them; each change applies once whichever beat sent this."""
    report = shops_follow_hours()
    return {"applied": report.applied, "already_applied": report.already_applied}


@shared_task(name="orders.expire_personal_data", soft_time_limit=50, time_limit=60)
def expire_personal_data() -> dict[str, int]:
    """Every hour (beat): finished orders and journeys past ORDERS_RETENTION_DAYS go."""
    report = personal_data_expire()
    return {"orders": report.orders, "journey_entries": report.journey_entries,
            "names": report.names}
