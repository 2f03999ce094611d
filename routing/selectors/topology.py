"""The shape of the bus for the topology diagram and the archives page: buses, their live rules
with recent match counts, each rule's targets, and the archives with their replays."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from routing.models import Archive, ArchivedEvent, Delivery, EventBus, Replay, Rule, Target
from routing.selectors.traces import public_target_address
from routing.timestamps import utc_timestamp

RECENT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class TargetNode:
    pk: int
    target_id: str
    kind: str
    address: str


@dataclass
class RuleNode:
    pk: int
    name: str
    state: str
    managed_by: str
    description: str
    matches_recent: int
    matches_day: int
    targets: list[TargetNode] = field(default_factory=list)


@dataclass
class BusNode:
    name: str
    description: str
    rules: list[RuleNode] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)


def _match_counts(since: datetime) -> dict[int, int]:
    return dict(
        Delivery.objects.filter(created_at__gte=since).order_by()
        .values_list("target__rule_id").annotate(n=Count("event_id", distinct=True))
    )


def bus_topology(*, now: datetime | None = None) -> list[BusNode]:
    """Every bus with its live rules (and their live targets) and archives; each rule with the
    events it matched in the last hour and the last 24 hours. Five queries."""
    now = now or timezone.now()
    recent = _match_counts(now - RECENT_WINDOW)
    day = _match_counts(now - timedelta(hours=24))
    targets: dict[int, list[TargetNode]] = defaultdict(list)
    for target in Target.objects.filter(deleted_at__isnull=True, rule__deleted_at__isnull=True
                                        ).order_by("rule_id", "target_id"):
        targets[target.rule_id].append(
            TargetNode(target.pk, target.target_id, target.kind,
                       public_target_address(target.kind, target.address)))
    buses = {bus.pk: BusNode(bus.name, bus.description) for bus in EventBus.objects.all()}
    for rule in Rule.objects.filter(deleted_at__isnull=True).order_by("bus__name", "name"):
        buses[rule.bus_id].rules.append(RuleNode(
            pk=rule.pk, name=rule.name, state=rule.state, managed_by=rule.managed_by,
            description=rule.description, matches_recent=recent.get(rule.pk, 0),
            matches_day=day.get(rule.pk, 0), targets=targets.get(rule.pk, []),
        ))
    for bus_id, name in Archive.objects.order_by("name").values_list("bus_id", "name"):
        buses[bus_id].archives.append(name)
    return sorted(buses.values(), key=lambda bus: bus.name)


@dataclass
class ArchiveRow:
    name: str
    bus: str
    description: str
    event_pattern: object
    retention_days: int
    state: str
    created_at: datetime
    event_count: int

    @property
    def pattern_text(self) -> str:
        return json.dumps(self.event_pattern, separators=(", ", ": "))


def archive_rows() -> list[ArchiveRow]:
    counts = dict(ArchivedEvent.objects.order_by().values_list("archive_id")
                  .annotate(n=Count("id")))
    return [
        ArchiveRow(archive.name, archive.bus.name, archive.description, archive.event_pattern,
                   archive.retention_days, archive.state, archive.created_at,
                   counts.get(archive.pk, 0))
        for archive in Archive.objects.select_related("bus").order_by("name")
    ]


def replay_rows(*, limit: int = 50) -> list[Replay]:
    """The newest replays, with their archive and filter rules at hand."""
    return list(Replay.objects.select_related("archive", "destination_bus")
                .prefetch_related("filter_rules").order_by("-created_at")[:limit])


def replay_status(replay: Replay) -> dict[str, object]:
    """A replay as the archives page polls it."""
    total = replay.total_events
    return {
        "name": replay.name,
        "state": replay.state,
        "stateReason": replay.state_reason,
        "active": replay.is_active,
        "replayedEvents": replay.replayed_events,
        "totalEvents": total,
        "percent": round(100 * replay.replayed_events / total, 1) if total else
        (100.0 if replay.state == "COMPLETED" else 0.0),
        "eventLastReplayedTime": utc_timestamp(replay.event_last_replayed_time),
        "endedAt": utc_timestamp(replay.ended_at),
    }


def rules_of_buses() -> dict[str, list[str]]:
    """Live rule names per bus, for the replay form's filter choices."""
    names: dict[str, list[str]] = defaultdict(list)
    for bus, rule in (Rule.objects.filter(deleted_at__isnull=True)
                      .order_by("bus__name", "name").values_list("bus__name", "name")):
        names[bus].append(rule)
    return dict(names)
