"""Reads for the dashboard's Schedules page: every scheduled item as one typed row (its
expression in words, its next firings, its last firings with their deliveries), and the preview
of an expression being typed.

A row says what kind of scheduled item it is: today scheduled rules; the EventBridge Scheduler's
schedules join as rows of their own kind, shown by the same page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Count, Q
from django.utils import timezone

from routing.models import Delivery, Rule, RuleState, ScheduleTick
from routing.schedules.describe import describe_expression
from routing.schedules.expressions import (
    InvalidScheduleExpression,
    next_fire_times,
    parse_expression,
    zone,
)
from routing.schedules.firing import schedule_minute

NEXT_FIRINGS = 5
LAST_FIRINGS = 5

ScheduleKind = Literal["rule"]


@dataclass(frozen=True)
class FiringDelivery:
    id: uuid.UUID
    target_id: str
    status: str
    status_label: str


@dataclass(frozen=True)
class Firing:
    tick_at: datetime
    fired_at: datetime
    event_id: uuid.UUID | None  # the event it published (the page may be purged, the id stays)
    missed_before: int
    deliveries: tuple[FiringDelivery, ...]

    @property
    def late(self) -> bool:
        return self.missed_before > 0


@dataclass(frozen=True)
class ScheduleRow:
    kind: ScheduleKind
    id: int
    name: str
    bus: str
    expression: str
    timezone: str
    description: str
    enabled: bool
    managed_by: str
    targets: int
    next_firings: tuple[datetime, ...]
    last_firings: tuple[Firing, ...]


def _last_firings(rule_ids: list[int], count: int) -> dict[int, list[Firing]]:
    ticks: dict[int, list[ScheduleTick]] = {}
    for rule_id in rule_ids:  # one short indexed query each: (rule, -tick_at)
        ticks[rule_id] = list(ScheduleTick.objects.filter(rule_id=rule_id)
                              .order_by("-tick_at")[:count])
    event_ids = [tick.event_id for rows in ticks.values() for tick in rows if tick.event_id]
    deliveries: dict[uuid.UUID, list[FiringDelivery]] = defaultdict(list)
    for delivery in (Delivery.objects.filter(event_id__in=event_ids).select_related("target")
                     .order_by("target__target_id")):
        deliveries[delivery.event_id].append(FiringDelivery(
            id=delivery.id, target_id=delivery.target.target_id, status=delivery.status,
            status_label=delivery.get_status_display()))
    return {
        rule_id: [
            Firing(tick_at=tick.tick_at, fired_at=tick.fired_at, event_id=tick.event_id,
                   missed_before=tick.missed_before,
                   deliveries=tuple(deliveries.get(tick.event_id, ())) if tick.event_id else ())
            for tick in rows
        ]
        for rule_id, rows in ticks.items()
    }


def _next_firings(rule: Rule, now: datetime, count: int) -> tuple[datetime, ...]:
    if rule.state != RuleState.ENABLED:
        return ()
    started = rule.schedule_started_at or rule.created_at
    try:
        return tuple(next_fire_times(rule.schedule_expression, now, count, anchor=started,
                                     minute=schedule_minute()))
    except InvalidScheduleExpression:
        return ()


def _description(expression: str, tz: str) -> str:
    try:
        return describe_expression(expression, tz)
    except InvalidScheduleExpression as error:
        return f"not valid: {error.reason}"


def schedule_rows(*, now: datetime | None = None, next_count: int = NEXT_FIRINGS,
                  last_count: int = LAST_FIRINGS,
                  rule_ids: list[int] | None = None) -> list[ScheduleRow]:
    """Every live scheduled item (or only these rules), by name."""
    now = now or timezone.now()
    live = Rule.objects.filter(deleted_at__isnull=True)
    if rule_ids is not None:
        live = live.filter(pk__in=rule_ids)
    rules = list(
        live.exclude(schedule_expression="")
        .select_related("bus")
        .annotate(live_targets=Count("targets", filter=Q(targets__deleted_at__isnull=True)))
        .order_by("name")
    )
    firings = _last_firings([rule.pk for rule in rules], last_count)
    return [
        ScheduleRow(
            kind="rule", id=rule.pk, name=rule.name, bus=rule.bus.name,
            expression=rule.schedule_expression, timezone="UTC",
            description=_description(rule.schedule_expression, "UTC"),
            enabled=rule.state == RuleState.ENABLED, managed_by=rule.managed_by,
            targets=rule.live_targets,
            next_firings=_next_firings(rule, now, next_count),
            last_firings=tuple(firings.get(rule.pk, ())),
        )
        for rule in rules
    ]


@dataclass(frozen=True)
class Preview:
    expression: str
    timezone: str
    description: str
    next_firings: tuple[datetime, ...]


def schedule_preview(*, expression: str, tz: str = "UTC", now: datetime | None = None,
                     count: int = NEXT_FIRINGS, allow_at: bool = False) -> Preview:
    """What an expression being typed would do: in words, and its next firings from now (a
    rate counts from now, as a schedule created now would). Raises InvalidScheduleExpression
    (with its reason) or ValueError for a zone that is not one."""
    zone(tz)
    parsed = parse_expression(expression, allow_at=allow_at)
    now = now or timezone.now()
    return Preview(expression=expression, timezone=tz,
                   description=describe_expression(parsed, tz),
                   next_firings=tuple(next_fire_times(parsed, now, count, tz,
                                                      minute=schedule_minute())))
