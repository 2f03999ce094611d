"""Routing: match stored events against their bus's compiled rules and record what must be
delivered. Claiming the outbox row, writing deliveries and archive entries is one transaction,
so a crash anywhere leaves the event to be routed again, and routing twice changes nothing."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from routing import dispatch
from routing.models import ArchivedEvent, Delivery, Event, PendingRoute, Replay
from routing.rule_cache import compiled_bus
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
    events = list(
        Event.objects.filter(pk__in=event_ids, pending_route__isnull=False)
        .select_related("bus")
        .order_by()
    )
    if not events:
        return RouteResult(skipped_events=len(event_ids))
    by_bus: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        by_bus[event.bus_id].append(event)
    replay_filters = _replay_rule_filters(events)

    totals = RouteResult()
    for bus_id, bus_events in by_bus.items():
        compiled = compiled_bus(bus_id)
        now = timezone.now()
        deliveries: list[Delivery] = []
        one_by_one: set[uuid.UUID] = set()
        archived: list[ArchivedEvent] = []
        with transaction.atomic():
            claimed = set(
                PendingRoute.objects.filter(event_id__in=[e.pk for e in bus_events])
                .select_for_update(skip_locked=True)
                .values_list("event_id", flat=True)
            )
            for event in bus_events:
                if event.pk not in claimed:
                    continue
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
            PendingRoute.objects.filter(event_id__in=claimed).delete()
            # Webhooks each get their own message: one slow receiver must not hold up others.
            dispatch.deliveries_on_commit([str(d.id) for d in deliveries if d.id in one_by_one])
        totals = RouteResult(
            routed_events=totals.routed_events + len(claimed),
            deliveries=totals.deliveries + len(deliveries),
            archived=totals.archived + len(archived),
            skipped_events=totals.skipped_events + len(bus_events) - len(claimed),
            deliver_now=totals.deliver_now + tuple(
                str(d.id) for d in deliveries if d.id not in one_by_one
            ),
        )
    return totals
