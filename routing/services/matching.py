"""Routing: match stored events against their bus's compiled rules and record what must be
delivered. Claiming the outbox rows, writing deliveries and archive entries is one transaction,
so a crash anywhere leaves the event to be routed again, and routing twice changes nothing.

On PostgreSQL that transaction is four round trips whatever the batch: BEGIN, one statement that
claims the outbox rows and reads their events with each bus's rules version, one INSERT of the
deliveries, COMMIT (archive entries, when an archive matches, add one INSERT)."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from routing import dispatch
from routing.models import ArchivedEvent, Delivery, Event, Replay
from routing.rule_cache import compiled_bus
from routing.services.outbox_claim import VERSION_ANNOTATION, claimed_events
from routing.targets.registry import ONE_MESSAGE_EACH


@dataclass(frozen=True)
class RouteResult:
    routed_events: int = 0
    deliveries: int = 0
    archived: int = 0
    skipped_events: int = 0
    # Deliveries to fast targets (handlers, websockets, other buses), committed but not
    # enqueued: the route task attempts them at once, sparing a queue hop. Should it die first,
    # they are pending and the sweeper sends them on after its grace period.
    deliver_now: tuple[str, ...] = ()


def _replay_rule_filters(events: Sequence[Event]) -> dict[str, set[int] | None]:
    """For each replay among these events: the rules it is limited to (None: all rules)."""
    names = {event.replay_name for event in events if event.replay_name}
    filters: dict[str, set[int] | None] = {}
    for replay in Replay.objects.filter(name__in=names).prefetch_related("filter_rules"):
        rule_ids = {rule.pk for rule in replay.filter_rules.all()}
        filters[replay.name] = rule_ids or None
    return filters


def route_events(event_ids: Sequence[str]) -> RouteResult:
    ids = [event_id for event_id in dict.fromkeys(str(i) for i in event_ids) if _is_uuid(event_id)]
    with transaction.atomic():
        events = claimed_events(ids)
        if not events:
            return RouteResult(skipped_events=len(event_ids))
        result = _route_claimed(events)
    return dataclasses.replace(result, skipped_events=len(event_ids) - len(events))


def _route_claimed(events: Sequence[Event]) -> RouteResult:
    """Inside the transaction that claimed `events`: their deliveries and archive entries."""
    by_bus: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        by_bus[event.bus_id].append(event)
    replay_filters = _replay_rule_filters(events)
    now = timezone.now()
    deliveries: list[Delivery] = []
    one_by_one: set[uuid.UUID] = set()
    archived: list[ArchivedEvent] = []
    for bus_id, bus_events in by_bus.items():
        version = getattr(bus_events[0], VERSION_ANNOTATION)
        if version is None:
            # Deleted since they were published: a bus is deleted only without rules and
            # archives, so its events match nothing (and must not hold up the rest of the batch).
            continue
        compiled = compiled_bus(bus_id, version=version)
        for event in bus_events:
            rules, archive_ids = compiled.match(event.envelope())
            only_rules = replay_filters.get(event.replay_name) if event.replay_name else None
            for rule in rules:
                if only_rules is not None and rule.id not in only_rules:
                    continue
                for target in rule.targets:
                    deliveries.append(Delivery(
                        id=uuid.uuid4(),
                        event=event,
                        target_id=target.id,
                        rule_revision_id=rule.revision_id,
                        next_attempt_at=now,
                        expires_at=now + timedelta(seconds=target.max_event_age_seconds),
                        enqueued_at=now,
                        created_at=now,
                    ))
                    if target.kind in ONE_MESSAGE_EACH:
                        one_by_one.add(deliveries[-1].id)
            archived.extend(
                ArchivedEvent(archive_id=archive_id, event=event, event_time=event.time)
                for archive_id in archive_ids
            )
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    ArchivedEvent.objects.bulk_create(archived, ignore_conflicts=True)
    # Webhooks each get their own message: one slow receiver must not hold up others.
    dispatch.deliveries_on_commit([str(d.id) for d in deliveries if d.id in one_by_one])
    return RouteResult(
        routed_events=len(events),
        deliveries=len(deliveries),
        archived=len(archived),
        deliver_now=tuple(str(d.id) for d in deliveries if d.id not in one_by_one),
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
