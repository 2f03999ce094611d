"""The overview page's figures, read together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from routing.models import Delivery, DeliveryStatus, Event, ReplayState
from routing.selectors.metrics.bus import (
    Outbox,
    events_count,
    events_per_minute,
    outbox,
    replays_by_state,
)
from routing.selectors.metrics.deliveries import delivery_totals
from routing.selectors.metrics.latency import latency_quantiles
from routing.selectors.metrics.time_buckets import timeline


@dataclass
class Overview:
    events_last_minute: int
    events_per_minute_5m: float
    succeeded_last_hour: int
    failed_last_hour: int
    dead_last_hour: int
    dead_letter_backlog: int
    dropped: int
    in_flight: int
    p50_ms: float | None
    p95_ms: float | None
    outbox: Outbox
    active_replays: int
    sparkline: list[float]
    newest_event_at: datetime | None


def overview(*, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    hour_ago = now - timedelta(hours=1)
    totals = delivery_totals(since=hour_ago)
    latency = latency_quantiles(since=hour_ago).get(None, {})
    unfinished = dict(
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RUNNING,
                                            DeliveryStatus.DEAD, DeliveryStatus.DROPPED])
        .order_by().values_list("status").annotate(n=Count("id"))
    )
    replays = replays_by_state()
    spark = timeline("1h", now=now)
    per_bus = events_per_minute(spark)
    return Overview(
        events_last_minute=events_count(since=now - timedelta(minutes=1)),
        events_per_minute_5m=events_count(since=now - timedelta(minutes=5)) / 5,
        succeeded_last_hour=totals.succeeded,
        failed_last_hour=totals.failed,
        dead_last_hour=totals.dead,
        dead_letter_backlog=unfinished.get(DeliveryStatus.DEAD, 0),
        dropped=unfinished.get(DeliveryStatus.DROPPED, 0),
        in_flight=unfinished.get(DeliveryStatus.PENDING, 0)
        + unfinished.get(DeliveryStatus.RUNNING, 0),
        p50_ms=latency.get(0.5),
        p95_ms=latency.get(0.95),
        outbox=outbox(now=now),
        active_replays=sum(replays.get(state, 0) for state in
                           (ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING)),
        sparkline=[sum(values) for values in zip(*(s.values for s in per_bus), strict=True)]
        if per_bus else spark.zeros(),
        newest_event_at=Event.objects.aggregate(newest=Max("ingested_at"))["newest"],
    )
