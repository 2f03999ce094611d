"""Figures of the bus itself: events per minute per bus, matches per rule, rules and replays
per state, the outbox."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from routing.models import Delivery, Event, EventBus, PendingRoute, Replay, Rule
from routing.selectors.metrics.time_buckets import BucketIndex, Series, Timeline, fold


def events_per_minute(line: Timeline) -> list[Series]:
    """Per bus, the events ingested per minute (averaged over each bucket). Busiest first."""
    rows = (
        Event.objects.filter(ingested_at__gte=line.start, ingested_at__lt=line.end).order_by()
        .annotate(slot=BucketIndex("ingested_at", line))
        .values_list("bus_id", "slot").annotate(n=Count("id"))
    )
    per_bus: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for bus_id, slot, count in rows:
        per_bus[bus_id].append((slot, count))
    names = dict(EventBus.all_objects.filter(pk__in=per_bus).values_list("pk", "name"))
    minutes = line.bucket_seconds / 60
    series = [Series(names[bus_id], [value / minutes for value in fold(line, keyed)])
              for bus_id, keyed in per_bus.items()]
    return sorted(series, key=lambda s: (-sum(s.values), s.name))


def events_count(*, since: datetime, until: datetime | None = None) -> int:
    events = Event.objects.filter(ingested_at__gte=since)
    if until is not None:
        events = events.filter(ingested_at__lt=until)
    return events.count()


# Rules ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleMatches:
    bus: str
    rule: str
    rule_id: int
    matches: int
    deleted: bool

    @property
    def label(self) -> str:
        return f"{self.bus}/{self.rule}"


def rule_matches(*, since: datetime, until: datetime | None = None,
                 limit: int | None = 20) -> list[RuleMatches]:
    """Events each rule matched in the period, most first. A match leaves a record only as a
    delivery, so a rule without targets (which delivers nothing) is not counted."""
    deliveries = Delivery.objects.filter(created_at__gte=since)
    if until is not None:
        deliveries = deliveries.filter(created_at__lt=until)
    counts = list(
        deliveries.order_by().values_list("target__rule_id")
        .annotate(n=Count("event_id", distinct=True)).order_by("-n")
    )
    if limit is not None:
        counts = counts[:limit]
    rules = {rule.pk: rule for rule in
             Rule.objects.select_related("bus").filter(pk__in=[pk for pk, _ in counts])}
    return [RuleMatches(rules[pk].bus.name, rules[pk].name, pk, n,
                        rules[pk].deleted_at is not None) for pk, n in counts]


@dataclass(frozen=True)
class Outbox:
    count: int
    oldest_age_seconds: float


def outbox(*, now: datetime | None = None) -> Outbox:
    """Events stored but not routed yet (PendingRoute rows) and how long the oldest waited."""
    now = now or timezone.now()
    figures = PendingRoute.objects.aggregate(n=Count("event_id"), oldest=Min("created_at"))
    oldest = figures["oldest"]
    return Outbox(figures["n"], (now - oldest).total_seconds() if oldest else 0.0)


def replays_by_state() -> dict[str, int]:
    return dict(Replay.objects.order_by().values_list("state").annotate(n=Count("id")))


def rules_by_state() -> dict[tuple[str, str], int]:
    rows = (Rule.objects.filter(deleted_at__isnull=True).order_by()
            .values_list("bus__name", "state").annotate(n=Count("id")))
    return {(bus, state): count for bus, state, count in rows}


def events_by_bus(*, since: datetime) -> dict[str, int]:
    return dict(Event.objects.filter(ingested_at__gte=since).order_by()
                .values_list("bus__name").annotate(n=Count("id")))
