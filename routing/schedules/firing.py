"""Firing scheduled rules: find each enabled scheduled rule's due tick, claim it, publish AWS's
scheduled event to that rule's targets only. Safe from any number of processes at once.

A tick is claimed by inserting its `ScheduleTick` row (unique per rule and tick time) in the same
transaction that stores its event and deliveries. Two firers racing for one tick: the database
lets one commit and the other's insert fails, so it fires nothing. A firer that dies before
committing leaves no row, and the next run fires the tick. Deliveries then go the usual way
(retries, dead letters, the sweeper for lost messages).

Missed ticks (every firer was down): only the latest due tick fires, once, and its row counts the
ticks skipped before it (`missed_before`, shown in the event's trace). Ticks before the schedule
started — it was created, changed or enabled again — never fire: re-enabling does not back-fill.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from routing import dispatch
from routing.models import (
    ArchivedEvent,
    Delivery,
    Event,
    Rule,
    RuleRevision,
    RuleState,
    ScheduleTick,
)
from routing.publishers import Publisher
from routing.rule_cache import compiled_bus
from routing.schedules.expressions import InvalidScheduleExpression, latest_fire_time
from routing.services.publish import EventEntry, events_store

logger = logging.getLogger(__name__)

SCHEDULED_SOURCE = "aws.events"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"


@dataclass(frozen=True)
class DueTick:
    rule_id: int
    tick_at: datetime
    missed_before: int


@dataclass(frozen=True)
class FireReport:
    fired: int = 0
    already_claimed: int = 0


def schedule_minute() -> timedelta:
    return timedelta(seconds=settings.ROUTING_SCHEDULE_MINUTE_SECONDS)


def due_ticks(*, now: datetime) -> list[DueTick]:
    """For each enabled scheduled rule, its latest tick due by `now` not fired yet (if any)."""
    rules = (Rule.objects.filter(deleted_at__isnull=True, state=RuleState.ENABLED)
             .exclude(schedule_expression="")
             .annotate(last_tick=Max("ticks__tick_at")))
    due: list[DueTick] = []
    for rule in rules:
        started = rule.schedule_started_at or rule.created_at
        last_tick: datetime | None = rule.last_tick
        since = max(started, last_tick) if last_tick else started
        try:
            latest, count = latest_fire_time(rule.schedule_expression, since, now,
                                             anchor=started, minute=schedule_minute())
        except InvalidScheduleExpression:
            # Stored expressions were valid when saved; one that no longer is stays unfired.
            logger.exception("rule %s has an invalid schedule expression", rule)
            continue
        if latest is not None:
            due.append(DueTick(rule_id=rule.pk, tick_at=latest, missed_before=count - 1))
    return due


def scheduled_event_store(*, rule: Rule, tick_at: datetime) -> Event:
    """Stores the tick's event as EventBridge shapes it, without routing it: a scheduled event
    goes to its own rule's targets, never through the other rules' patterns (so no route
    message either). The bus's archives still see it, as they see every event of the bus.
    The one place that says who published a scheduled event."""
    entry = EventEntry(source=SCHEDULED_SOURCE, detail_type=SCHEDULED_DETAIL_TYPE, detail={},
                       bus_name=rule.bus.name, resources=(rule.arn,), time=tick_at)
    event = events_store(entries=[entry], publisher=Publisher.scheduler(rule.arn),
                         buses={rule.bus.name: rule.bus}, route=False)[0]
    _, archive_ids = compiled_bus(rule.bus_id).match(event.envelope())
    ArchivedEvent.objects.bulk_create(
        [ArchivedEvent(archive_id=archive_id, event=event, event_time=event.time)
         for archive_id in archive_ids], ignore_conflicts=True)
    return event


def _deliveries_for(rule: Rule, event: Event, now: datetime) -> list[Delivery]:
    revision_id = RuleRevision.objects.filter(rule=rule, number=rule.revision) \
        .values_list("id", flat=True).get()
    return [
        Delivery(
            id=uuid.uuid4(), event=event, target=target, rule_revision_id=revision_id,
            next_attempt_at=now, expires_at=now + timedelta(seconds=target.max_event_age_seconds),
            enqueued_at=now, created_at=now,
        )
        for target in rule.targets.filter(deleted_at__isnull=True)
    ]


def tick_fire(tick: DueTick, *, now: datetime | None = None) -> bool:
    """Claims and fires one tick; False when another firer has it (or the rule stopped)."""
    now = now or timezone.now()
    with transaction.atomic():
        rule = (Rule.objects.select_related("bus")
                .filter(pk=tick.rule_id, deleted_at__isnull=True, state=RuleState.ENABLED)
                .exclude(schedule_expression="").first())
        if rule is None:
            return False
        try:
            with transaction.atomic():
                claimed = ScheduleTick.objects.create(rule=rule, tick_at=tick.tick_at,
                                                      missed_before=tick.missed_before,
                                                      fired_at=now)
        except IntegrityError:
            return False
        event = scheduled_event_store(rule=rule, tick_at=tick.tick_at)
        claimed.event_id = event.pk
        claimed.save(update_fields=["event_id"])
        deliveries = _deliveries_for(rule, event, now)
        Delivery.objects.bulk_create(deliveries)
        dispatch.deliveries_on_commit([str(delivery.id) for delivery in deliveries])
    if tick.missed_before:
        logger.warning("rule %s fired its tick of %s late; %d earlier ticks were missed",
                       rule, tick.tick_at.isoformat(), tick.missed_before)
    return True


def schedules_fire(*, now: datetime | None = None) -> FireReport:
    """Fires every due tick (beat runs it every few seconds, from any number of beats)."""
    now = now or timezone.now()
    fired = claimed = 0
    for tick in due_ticks(now=now):
        if tick_fire(tick, now=now):
            fired += 1
        else:
            claimed += 1
    return FireReport(fired=fired, already_claimed=claimed)
