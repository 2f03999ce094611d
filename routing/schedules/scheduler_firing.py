"""Firing EventBridge Scheduler schedules: find each enabled schedule's due tick, claim it, and
publish it. Safe from any number of processes at once, as routing.schedules.firing is for
scheduled rules, and by the same means: the tick's `ScheduleFiring` row (unique per schedule and
tick) is inserted in the transaction that publishes it, so two firers cannot both commit it and a
firer that dies first leaves nothing behind.

A bus target gets an event published to that bus (EventBridgeParameters' Source and DetailType,
the Input as detail, the schedule's ARN as its resource), routed by that bus's rules. A webhook
or handler target gets a delivery of the firing's event (`aws.scheduler` / `Scheduled Event`)
to the schedule's carrier target, which sends the Input when there is one.

Missed ticks (every firer down) fire the latest one once, counting the rest (`missed_before`).
After a schedule's last tick (an at(), or the tick before its EndDate), ActionAfterCompletion
DELETE removes it in the same transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from routing import dispatch
from routing.models import DEFAULT_BUS_NAME, Delivery, Event, PendingRoute, RuleRevision
from routing.publishers import Publisher
from routing.schedules.expressions import InvalidScheduleExpression
from routing.schedules.models import Schedule, ScheduleFiring, ScheduleState
from routing.schedules.scheduler import next_due_of, schedule_complete, timing_of
from routing.schedules.targets import CARRIER_TARGET_ID, ScheduleTarget, firing_input
from routing.schedules.timing import DueTick
from routing.services.publish import EventEntry, events_store

logger = logging.getLogger(__name__)

FIRING_SOURCE = "aws.scheduler"
FIRING_DETAIL_TYPE = "Scheduled Event"


@dataclass(frozen=True)
class SchedulerFireReport:
    fired: int = 0
    already_claimed: int = 0


def _due_by(now: datetime) -> list[Schedule]:
    # Only schedules whose next tick is due: the others' expressions are not read at all.
    return list(Schedule.objects.select_related("group")
                .filter(deleted_at__isnull=True, state=ScheduleState.ENABLED,
                        next_due_at__lte=now)
                .annotate(last_tick=Max("firings__tick_at")))


def due_firings(*, now: datetime) -> list[tuple[int, DueTick]]:
    """(schedule id, tick) for each enabled schedule with a tick due by `now` not fired yet."""
    due: list[tuple[int, DueTick]] = []
    for schedule in _due_by(now):
        last_tick: datetime | None = schedule.last_tick  # type: ignore[attr-defined]
        try:
            tick = timing_of(schedule).due(now=now, last_tick=last_tick)
        except (InvalidScheduleExpression, ValueError):
            # Stored expressions and zones were valid when saved.
            logger.exception("schedule %s cannot be read", schedule)
            continue
        if tick is not None:
            due.append((schedule.pk, tick))
        else:
            # Its due time was a tick the clock skipped, say: look again when the next is due.
            Schedule.objects.filter(pk=schedule.pk, next_due_at=schedule.next_due_at).update(
                next_due_at=next_due_of(schedule, after_tick=last_tick))
    return due


def _publish_to_bus(schedule: Schedule, target: ScheduleTarget, tick: DueTick) -> Event:
    event_id = uuid.uuid4()
    detail = firing_input(schedule, tick_at=tick.tick_at, execution_id=str(event_id)) or {}
    entry = EventEntry(source=target.event_source or "", detail_type=target.event_detail_type or "",
                       detail=detail, bus_name=target.address, resources=(schedule.arn,),
                       time=tick.tick_at, event_id=event_id)
    return events_store(entries=[entry], publisher=Publisher.scheduler(schedule.arn))[0]


def _deliver_to_carrier(schedule: Schedule, tick: DueTick, now: datetime) -> Event:
    event_id = uuid.uuid4()
    given = firing_input(schedule, tick_at=tick.tick_at, execution_id=str(event_id))
    entry = EventEntry(source=FIRING_SOURCE, detail_type=FIRING_DETAIL_TYPE,
                       detail={} if given is None else {"input": given},
                       bus_name=DEFAULT_BUS_NAME, resources=(schedule.arn,), time=tick.tick_at,
                       event_id=event_id)
    event = events_store(entries=[entry], publisher=Publisher.scheduler(schedule.arn))[0]
    # The firing goes to its own target only, never through the default bus's rules.
    PendingRoute.objects.filter(event=event).delete()
    rule = schedule.carrier_rule
    assert rule is not None
    target = rule.targets.filter(deleted_at__isnull=True, target_id=CARRIER_TARGET_ID).first()
    if target is None:
        logger.error("schedule %s has no carrier target; its tick of %s is recorded unsent",
                     schedule, tick.tick_at.isoformat())
        return event
    revision_id = RuleRevision.objects.filter(rule=rule, number=rule.revision) \
        .values_list("id", flat=True).get()
    delivery = Delivery.objects.create(
        id=uuid.uuid4(), event=event, target=target, rule_revision_id=revision_id,
        next_attempt_at=now, expires_at=now + timedelta(seconds=target.max_event_age_seconds),
        enqueued_at=now, created_at=now)
    dispatch.deliveries_on_commit([str(delivery.id)])
    return event


def firing_fire(schedule_id: int, tick: DueTick, *, now: datetime | None = None) -> bool:
    """Claims and fires one tick; False when another firer has it (or the schedule stopped)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, as UpdateSchedule locks it: a change cannot slip between this firing's read
        # of the schedule and its write of the next due time.
        schedule = (Schedule.objects.select_for_update(of=("self",))
                    .select_related("group", "carrier_rule")
                    .filter(pk=schedule_id, deleted_at__isnull=True, state=ScheduleState.ENABLED)
                    .first())
        if schedule is None:
            return False
        try:
            with transaction.atomic():
                claimed = ScheduleFiring.objects.create(
                    schedule=schedule, tick_at=tick.tick_at, due_at=tick.due_at,
                    missed_before=tick.missed_before, fired_at=now)
        except IntegrityError:
            return False
        target = ScheduleTarget.from_stored(schedule)
        if schedule.carrier_rule is None:
            event = _publish_to_bus(schedule, target, tick)
        else:
            event = _deliver_to_carrier(schedule, tick, now)
        claimed.event_id = event.pk
        claimed.save(update_fields=["event_id"])
        schedule.next_due_at = next_due_of(schedule, after_tick=tick.tick_at)
        schedule.save(update_fields=["next_due_at"])
        if schedule.next_due_at is None:
            schedule_complete(schedule)
    if tick.missed_before:
        logger.warning("schedule %s fired its tick of %s late; %d earlier ticks were missed",
                       schedule, tick.tick_at.isoformat(), tick.missed_before)
    return True


def scheduler_schedules_fire(*, now: datetime | None = None) -> SchedulerFireReport:
    """Fires every due tick (beat runs it every few seconds, from any number of beats)."""
    now = now or timezone.now()
    fired = claimed = 0
    for schedule_id, tick in due_firings(now=now):
        if firing_fire(schedule_id, tick, now=now):
            fired += 1
        else:
            claimed += 1
    return SchedulerFireReport(fired=fired, already_claimed=claimed)
