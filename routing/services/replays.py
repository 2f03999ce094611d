"""Replays: an archive's entries in a time window, published again onto its bus.

A replay walks the entries in event-time order and in batches, re-publishing each with
`replay-name` set and an id derived from (replay, original event), so a run that repeats or
resumes stores nothing twice. See docs/archive-replay.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from routing import dispatch
from routing.errors import AlreadyExists, LimitExceeded, NotFound, RoutingError, ValidationError
from routing.models import (
    DEFAULT_BUS_NAME,
    Archive,
    ArchivedEvent,
    Event,
    EventBus,
    Replay,
    ReplayState,
    Rule,
)
from routing.publishers import Publisher
from routing.services.archives import (
    archive_name_from_reference,
    check_description,
    check_name,
)
from routing.services.publish import EventEntry, bus_name_from_reference, events_store
from routing.services.rules import Actor

logger = logging.getLogger(__name__)

MAX_REPLAY_NAME_LENGTH = 64
# EventBridge lets ten replays be starting or running at once (per account and region).
MAX_ACTIVE_REPLAYS = 10
REPLAY_BATCH_SIZE = 100
# A run stops after this long and enqueues its continuation, well inside the task time limit.
REPLAY_RUN_SECONDS = 20.0
# Replayed event ids are uuid5(this, replay + original event): the same on every run.
REPLAYED_EVENT_NAMESPACE: Final = uuid.UUID("5f0c1d7e-6a51-4c55-9f0e-2b7f6c3a9d41")

ACTIVE_REPLAY_STATES = (ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING)


def replay_get(name: str) -> Replay:
    try:
        return Replay.objects.select_related("archive", "destination_bus").get(name=name)
    except Replay.DoesNotExist:
        raise NotFound(f"Replay {name} does not exist.", field="ReplayName") from None


def _aware(moment: Any, field: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValidationError(f"Parameter {field} is not valid. Reason: expected a timestamp.",
                              field=field)
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment


def _rule_reference(reference: str, default_bus: str) -> tuple[str, str]:
    """(bus name, rule name) of a rule name or a rule ARN (…:rule/NAME or …:rule/BUS/NAME)."""
    if reference.startswith("arn:") and ":rule/" in reference:
        path = reference.split(":rule/", 1)[1]
        if "/" in path:
            bus, rule = path.rsplit("/", 1)
            return bus, rule
        return DEFAULT_BUS_NAME, path
    return default_bus, reference


def _filter_rules(references: Sequence[str], bus: EventBus) -> list[Rule]:
    if isinstance(references, str):
        raise ValidationError(
            "Parameter Destination.FilterArns is not valid. Reason: expected a list of rule "
            "names or ARNs.",
            field="Destination.FilterArns",
        )
    rules: dict[int, Rule] = {}
    for reference in references:
        if not isinstance(reference, str) or not reference:
            raise ValidationError(
                "Parameter Destination.FilterArns is not valid. Reason: each entry must be a "
                "rule name or ARN.",
                field="Destination.FilterArns",
            )
        bus_name, rule_name = _rule_reference(reference, bus.name)
        if bus_name != bus.name:
            raise ValidationError(
                f"Parameter Destination.FilterArns is not valid. Reason: rule {rule_name} is on "
                f"event bus {bus_name}, not on the replay's destination {bus.name}.",
                field="Destination.FilterArns",
            )
        rule = Rule.objects.filter(bus=bus, name=rule_name, deleted_at__isnull=True).first()
        if rule is None:
            raise NotFound(f"Rule {rule_name} does not exist on EventBus {bus.name}.",
                           field="Destination.FilterArns")
        rules[rule.pk] = rule
    return list(rules.values())


def replay_start(
    *,
    name: str,
    archive_name: str,
    event_start_time: datetime,
    event_end_time: datetime,
    destination_bus_name: str | None = None,
    filter_rule_names: Sequence[str] = (),
    description: str = "",
    actor: Actor,
) -> Replay:
    """StartReplay: validates, records the replay as STARTING and enqueues it after commit.

    The window is [event_start_time, event_end_time) on each event's own `time`. As in
    EventBridge, the destination must be the archive's own bus; `filter_rule_names` (names or
    ARNs of rules on it) limits which rules see the replayed events; none means every rule."""
    check_name(name, kind="Replay", max_length=MAX_REPLAY_NAME_LENGTH, field="ReplayName")
    check_description(description)
    archive_name = archive_name_from_reference(archive_name)
    archive = Archive.objects.select_related("bus").filter(name=archive_name).first()
    if archive is None:
        raise ValidationError(
            f"Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not "
            "exist.",
            field="EventSourceArn",
        )
    destination = archive.bus
    if destination_bus_name is not None:
        destination_name = bus_name_from_reference(destination_bus_name)
        if destination_name != archive.bus.name:
            if not EventBus.objects.filter(name=destination_name).exists():
                raise NotFound(f"Event bus {destination_name} does not exist.",
                               field="Destination.Arn")
            raise ValidationError(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not "
                "permitted.",
                field="Destination.Arn",
            )
    start = _aware(event_start_time, "EventStartTime")
    end = _aware(event_end_time, "EventEndTime")
    if start >= end:
        raise ValidationError(
            "Parameter EventEndTime is not valid. Reason: EventStartTime must be before "
            "EventEndTime.",
            field="EventEndTime",
        )
    now = timezone.now()
    if end > now:
        raise ValidationError(
            "Parameter EventEndTime is not valid. Reason: EventEndTime must not be in the "
            "future (a replay covers events that have already happened).",
            field="EventEndTime",
        )
    rules = _filter_rules(filter_rule_names, destination)

    with transaction.atomic():
        if Replay.objects.filter(name=name).exists():
            raise AlreadyExists(f"Replay {name} already exists.", field="ReplayName")
        running = Replay.objects.filter(
            state__in=[ReplayState.STARTING, ReplayState.RUNNING]
        ).count()
        if running >= MAX_ACTIVE_REPLAYS:
            raise LimitExceeded(
                f"The requested resource exceeds the maximum number allowed: at most "
                f"{MAX_ACTIVE_REPLAYS} replays may be starting or running at once.",
                field="ReplayName",
            )
        try:
            with transaction.atomic():
                replay = Replay.objects.create(
                    name=name, description=description, archive=archive,
                    destination_bus=destination, event_start_time=start, event_end_time=end,
                    state=ReplayState.STARTING, heartbeat_at=now,
                )
        except IntegrityError:  # started by someone else since the check above
            raise AlreadyExists(f"Replay {name} already exists.", field="ReplayName") from None
        replay.filter_rules.set(rules)
        replay_id = replay.pk
        transaction.on_commit(lambda: dispatch.send_replay(replay_id))
    logger.info("replay %s of archive %s started by %s", name, archive.name, actor.label)
    return replay


def replay_cancel(*, name: str, actor: Actor) -> Replay:
    """CancelReplay: a replay no run has picked up yet is CANCELLED at once; a running one
    becomes CANCELLING, and its run stops between two batches."""
    replay = replay_get(name)
    now = timezone.now()
    reason = f"Cancelled by {actor.label}."
    if Replay.objects.filter(pk=replay.pk, state=ReplayState.STARTING).update(
        state=ReplayState.CANCELLED, state_reason=reason, ended_at=now
    ) or Replay.objects.filter(pk=replay.pk, state=ReplayState.RUNNING).update(
        state=ReplayState.CANCELLING, state_reason=reason
    ):
        logger.info("replay %s cancelled by %s", name, actor.label)
        return replay_get(name)
    raise ValidationError(f"Replay {name} is not in a valid state for this operation.",
                          code="IllegalStatusException", field="ReplayName")


def replayed_event_id(replay: Replay, event_id: uuid.UUID) -> uuid.UUID:
    # created_at too: in SQLite a deleted replay's primary key can be given to a new one.
    return uuid.uuid5(REPLAYED_EVENT_NAMESPACE,
                      f"{replay.pk}/{replay.created_at.isoformat()}/{event_id}")


def _window_entries(replay: Replay) -> QuerySet[ArchivedEvent]:
    return ArchivedEvent.objects.filter(
        archive_id=replay.archive_id,
        event_time__gte=replay.event_start_time,
        event_time__lt=replay.event_end_time,
    )


def _entries_after_cursor(replay: Replay) -> QuerySet[ArchivedEvent]:
    entries = _window_entries(replay)
    if replay.event_last_replayed_time is not None and replay.last_entry_id is not None:
        entries = entries.filter(
            Q(event_time__gt=replay.event_last_replayed_time)
            | Q(event_time=replay.event_last_replayed_time, pk__gt=replay.last_entry_id)
        )
    return entries


@dataclass(frozen=True)
class ReplayRunReport:
    replay_id: int
    state: str
    replayed: int = 0
    batches: int = 0
    # True when this run stopped on its time budget and enqueued its continuation.
    continuing: bool = False


def _finish(replay: Replay, state: str, reason: str = "") -> None:
    replay.state = state
    replay.state_reason = reason or replay.state_reason
    replay.ended_at = replay.heartbeat_at = timezone.now()
    fields = ["state", "state_reason", "ended_at", "heartbeat_at"]
    if state == ReplayState.COMPLETED:
        replay.total_events = replay.replayed_events
        fields.append("total_events")
    replay.save(update_fields=fields)


def _replay_batch(replay: Replay, batch_size: int) -> int | None:
    """Replays the next batch; returns how many entries it walked, or None when none are left.
    Runs inside the caller's transaction, which holds the replay's row lock."""
    entries = list(
        _entries_after_cursor(replay).select_related("event").order_by("event_time", "pk")
        [:batch_size]
    )
    if not entries:
        return None
    new_ids = {entry.pk: replayed_event_id(replay, entry.event_id) for entry in entries}
    already = set(Event.objects.filter(pk__in=new_ids.values()).values_list("pk", flat=True))
    fresh = [
        EventEntry(
            source=entry.event.source,
            detail_type=entry.event.detail_type,
            detail=entry.event.detail,
            bus_name=replay.destination_bus.name,
            resources=tuple(entry.event.resources),
            time=entry.event.time,
            replay_name=replay.name,
            replay_of=entry.event_id,
            event_id=new_ids[entry.pk],
        )
        for entry in entries
        if new_ids[entry.pk] not in already
    ]
    if fresh:
        events_store(entries=fresh,
                     publisher=Publisher.replay(replay_id=replay.pk, name=replay.name))
    last = entries[-1]
    replay.replayed_events += len(entries)
    replay.total_events = max(replay.total_events, replay.replayed_events)
    replay.event_last_replayed_time = last.event_time
    replay.last_entry_id = last.pk
    replay.heartbeat_at = timezone.now()
    replay.save(update_fields=["replayed_events", "total_events", "event_last_replayed_time",
                               "last_entry_id", "heartbeat_at"])
    return len(entries)


def _claim(replay_id: int) -> Replay | None:
    return (
        Replay.objects.select_for_update()
        .select_related("destination_bus")
        .filter(pk=replay_id)
        .first()
    )


def replay_run(
    *,
    replay_id: int,
    batch_size: int = REPLAY_BATCH_SIZE,
    max_seconds: float = REPLAY_RUN_SECONDS,
) -> ReplayRunReport:
    """One run of a replay (the `routing.replay` task): batch after batch, each in one
    transaction with the replay's row locked, until the window is done, the replay is
    cancelled, or `max_seconds` have passed (then it enqueues its continuation).

    Safe to call any number of times, concurrently too: it continues from the stored cursor,
    and replayed events have deterministic ids, so nothing is published twice."""
    deadline = time.monotonic() + max_seconds
    replayed = batches = 0
    while True:
        try:
            with transaction.atomic():
                replay = _claim(replay_id)
                if replay is None:
                    return ReplayRunReport(replay_id, "missing", replayed, batches)
                if replay.state == ReplayState.CANCELLING:
                    _finish(replay, ReplayState.CANCELLED)
                    return ReplayRunReport(replay_id, replay.state, replayed, batches)
                if not replay.is_active:
                    return ReplayRunReport(replay_id, replay.state, replayed, batches)
                if replay.state == ReplayState.STARTING:
                    replay.state = ReplayState.RUNNING
                    replay.started_at = timezone.now()
                    replay.save(update_fields=["state", "started_at"])
                if batches == 0:
                    # Archiving can lag and entries can expire: count afresh on each run.
                    replay.total_events = (
                        replay.replayed_events + _entries_after_cursor(replay).count()
                    )
                    replay.save(update_fields=["total_events"])
                walked = _replay_batch(replay, batch_size)
                if walked is None:
                    _finish(replay, ReplayState.COMPLETED)
                    logger.info("replay %s completed: %s events", replay.name,
                                replay.replayed_events)
                    return ReplayRunReport(replay_id, replay.state, replayed, batches)
        except (OperationalError, InterfaceError):
            raise  # the database is unreachable: the replay stays active and is resumed later
        except Exception as error:
            logger.exception("replay %s failed", replay_id)
            reason = f"{type(error).__name__}: {error}"
            if isinstance(error, RoutingError):
                reason = error.message
            Replay.objects.filter(pk=replay_id, state__in=ACTIVE_REPLAY_STATES).update(
                state=ReplayState.FAILED, state_reason=reason[:512], ended_at=timezone.now()
            )
            return ReplayRunReport(replay_id, ReplayState.FAILED, replayed, batches)
        replayed += walked
        batches += 1
        if time.monotonic() >= deadline:
            dispatch.send_replay(replay_id)
            return ReplayRunReport(replay_id, ReplayState.RUNNING, replayed, batches,
                                   continuing=True)


def replays_resume(*, stale_after_seconds: float | None = None) -> list[int]:
    """Enqueues again every active replay that has shown no sign of life for a while (its
    worker died or its queue message was lost). Returns the ids it enqueued."""
    if stale_after_seconds is None:
        stale_after_seconds = float(
            settings.ROUTING_REPLAY_STALE_SECONDS
        )
    now = timezone.now()
    silent_since = now - timedelta(seconds=stale_after_seconds)
    stale = Replay.objects.filter(state__in=ACTIVE_REPLAY_STATES).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=silent_since)
    )
    resumed = []
    for replay_id, heartbeat in stale.values_list("pk", "heartbeat_at"):
        # Claimed with a conditional update, so two resume jobs never both enqueue it.
        if Replay.objects.filter(pk=replay_id, heartbeat_at=heartbeat).update(heartbeat_at=now):
            logger.warning("replay %s silent since %s: enqueued again", replay_id, heartbeat)
            dispatch.send_replay(replay_id)
            resumed.append(replay_id)
    return resumed
