"""Reads for the dashboard's Schedules page: every scheduled item as one typed row (its
expression in words, its next firings, its last firings with their deliveries), and the preview
of an expression being typed.

A row says what kind of scheduled item it is: a scheduled rule (`rule`, cron in UTC, its targets
on the rule) or an EventBridge Scheduler schedule (`schedule`, in its group, its own time zone and
one target), shown by the same page."""

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
from routing.schedules.models import FlexibleMode, Schedule, ScheduleFiring, ScheduleState
from routing.schedules.scheduler import timing_of

NEXT_FIRINGS = 5
LAST_FIRINGS = 5

ScheduleKind = Literal["rule", "schedule"]


@dataclass(frozen=True)
class FiringDelivery:
    id: uuid.UUID
    target_id: str
    status: str
    status_label: str
    # The rule the target is on: a bus-target schedule's firing is delivered by that bus's rules.
    rule_name: str = ""


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
    # A Scheduler schedule's group and its one target ("" for a rule, whose targets are counted).
    group: str = ""
    target_kind: str = ""
    target_address: str = ""
    window_minutes: int | None = None  # FLEXIBLE's maximum window: each firing lands inside it
    after_completion: str = ""

    @property
    def label(self) -> str:
        """How the page names it: a rule by its name, a schedule as group/name."""
        return f"{self.group}/{self.name}" if self.kind == "schedule" else self.name

    @property
    def anchor(self) -> str:
        """The row's id on the page (the enable/disable redirect comes back to it)."""
        return f"{self.kind}-{self.id}"


def _last_firings(rule_ids: list[int], count: int) -> dict[int, list[Firing]]:
    ticks: dict[int, list[ScheduleTick]] = {}
    for rule_id in rule_ids:  # one short indexed query each: (rule, -tick_at)
        ticks[rule_id] = list(ScheduleTick.objects.filter(rule_id=rule_id)
                              .order_by("-tick_at")[:count])
    return _with_deliveries(ticks)


def _last_schedule_firings(schedule_ids: list[int], count: int) -> dict[int, list[Firing]]:
    ticks: dict[int, list[ScheduleFiring]] = {}
    for schedule_id in schedule_ids:  # one short indexed query each: (schedule, tick_at)
        ticks[schedule_id] = list(ScheduleFiring.objects.filter(schedule_id=schedule_id)
                                  .order_by("-tick_at")[:count])
    return _with_deliveries(ticks)


def _with_deliveries(ticks: dict[int, list[ScheduleTick]] | dict[int, list[ScheduleFiring]]
                     ) -> dict[int, list[Firing]]:
    event_ids = [tick.event_id for rows in ticks.values() for tick in rows if tick.event_id]
    deliveries: dict[uuid.UUID, list[FiringDelivery]] = defaultdict(list)
    for delivery in (Delivery.objects.filter(event_id__in=event_ids).select_related("target__rule")
                     .order_by("target__target_id")):
        deliveries[delivery.event_id].append(FiringDelivery(
            id=delivery.id, target_id=delivery.target.target_id, status=delivery.status,
            status_label=delivery.get_status_display(), rule_name=delivery.target.rule.name))
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


def _schedule_next_firings(schedule: Schedule, now: datetime,
                           count: int) -> tuple[datetime, ...]:
    """When its next ticks fire after now, as the firer reckons them: each tick moved by its
    flexible offset (so a tick just before now may still be ahead), none it already fired."""
    if schedule.state != ScheduleState.ENABLED or schedule.next_due_at is None:
        return ()
    try:
        timing = timing_of(schedule)
    except (InvalidScheduleExpression, ValueError):
        return ()
    after = now - timing.window if timing.window is not None else now
    last = (ScheduleFiring.objects.filter(schedule=schedule, tick_at__gt=schedule.started_at)
            .order_by("-tick_at").values_list("tick_at", flat=True).first())
    if last is not None:
        after = max(after, last)
    # Offsets reorder ticks within a window: look as many ticks further as the window may hold.
    spare = int(timing.window / timing.minute) if timing.window is not None else 0
    ticks = timing.next_ticks(after=after, count=count + 1 + spare)
    due = sorted(tick + timing.offset(tick) for tick in ticks)
    return tuple(moment for moment in due if moment > now)[:count]


def _scheduler_rows(now: datetime, next_count: int, last_count: int,
                    schedule_ids: list[int] | None) -> list[ScheduleRow]:
    live = Schedule.objects.filter(deleted_at__isnull=True)
    if schedule_ids is not None:
        live = live.filter(pk__in=schedule_ids)
    schedules = list(live.select_related("group").order_by("group__name", "name"))
    firings = _last_schedule_firings([schedule.pk for schedule in schedules], last_count)
    return [
        ScheduleRow(
            kind="schedule", id=schedule.pk, name=schedule.name, bus="",
            expression=schedule.expression, timezone=schedule.timezone,
            description=_description(schedule.expression, schedule.timezone),
            enabled=schedule.state == ScheduleState.ENABLED, managed_by="",
            targets=1, next_firings=_schedule_next_firings(schedule, now, next_count),
            last_firings=tuple(firings.get(schedule.pk, ())),
            group=schedule.group.name, target_kind=schedule.target_kind,
            target_address=schedule.target_address,
            window_minutes=(schedule.flexible_window_minutes
                            if schedule.flexible_mode == FlexibleMode.FLEXIBLE else None),
            after_completion=schedule.action_after_completion,
        )
        for schedule in schedules
    ]


def schedule_rows(*, now: datetime | None = None, next_count: int = NEXT_FIRINGS,
                  last_count: int = LAST_FIRINGS, rule_ids: list[int] | None = None,
                  schedule_ids: list[int] | None = None) -> list[ScheduleRow]:
    """Every live scheduled item: the scheduled rules by name, then the Scheduler's schedules by
    group and name. `rule_ids` or `schedule_ids` narrow the list to those items alone."""
    now = now or timezone.now()
    live = Rule.objects.filter(deleted_at__isnull=True)
    if rule_ids is not None:
        live = live.filter(pk__in=rule_ids)
    elif schedule_ids is not None:
        live = live.none()
    rules = list(
        live.exclude(schedule_expression="")
        .select_related("bus")
        .annotate(live_targets=Count("targets", filter=Q(targets__deleted_at__isnull=True)))
        .order_by("name")
    )
    firings = _last_firings([rule.pk for rule in rules], last_count)
    rows = [
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
    if rule_ids is None or schedule_ids is not None:
        rows += _scheduler_rows(now, next_count, last_count, schedule_ids)
    return rows


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
