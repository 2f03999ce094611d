"""Archives, replays and the retention purge.

An archive is a pattern on a bus: routing records an ArchivedEvent row for each event it matches
(never for a replayed event). A replay walks an archive's entries in a time window, in event-time
order and in batches, re-publishing each onto the archive's bus with `replay-name` set and an id
derived from (replay, original event), so a run that repeats or resumes stores nothing twice. The
retention purge is the one place events are deleted. See docs/archive-replay.md.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from routing import dispatch
from routing.errors import AlreadyExists, LimitExceeded, NotFound, RoutingError, ValidationError
from routing.immutability import event_deletion_permitted
from routing.models import (
    DEFAULT_BUS_NAME,
    Archive,
    ArchivedEvent,
    ArchiveState,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventBus,
    PendingRoute,
    Replay,
    ReplayState,
    Rule,
)
from routing.publishers import Publisher
from routing.services.publish import EventEntry, bus_name_from_reference, events_store
from routing.services.rules import Actor, parse_event_pattern

logger = logging.getLogger(__name__)

ARCHIVE_NAME_RE = re.compile(r"[\.\-_A-Za-z0-9]{1,48}")
REPLAY_NAME_RE = re.compile(r"[\.\-_A-Za-z0-9]{1,64}")
MAX_DESCRIPTION_LENGTH = 512
MAX_RETENTION_DAYS = 2_147_483_647
# EventBridge lets ten replays be starting or running at once (per account and region).
MAX_ACTIVE_REPLAYS = 10
REPLAY_BATCH_SIZE = 100
# A run stops after this long and enqueues its continuation, well inside the task time limit.
REPLAY_RUN_SECONDS = 20.0
PURGE_BATCH_SIZE = 500
# Replayed event ids are uuid5(this, replay + original event): the same on every run.
REPLAYED_EVENT_NAMESPACE: Final = uuid.UUID("5f0c1d7e-6a51-4c55-9f0e-2b7f6c3a9d41")

ACTIVE_REPLAY_STATES = (ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING)
BUSY_DELIVERY_STATES = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)


class _Unset:
    """The default of `archive_update`'s fields: "leave it as it is" (None is a real pattern)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _bump_rules_version(bus_id: int) -> None:
    EventBus.objects.filter(pk=bus_id).update(rules_version=F("rules_version") + 1)


def _archive_name(reference: str) -> str:
    """ArchiveName or an archive ARN (…:archive/NAME)."""
    if reference.startswith("arn:") and ":archive/" in reference:
        return reference.split(":archive/", 1)[1]
    return reference


def _check_description(description: str) -> None:
    if not isinstance(description, str):
        raise ValidationError("Description must be a string.", field="Description")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"Description is longer than {MAX_DESCRIPTION_LENGTH} characters.", field="Description"
        )


def _check_retention(retention_days: Any) -> int:
    if isinstance(retention_days, bool) or not isinstance(retention_days, int):
        raise ValidationError("RetentionDays must be a whole number of days (0 keeps forever).",
                              field="RetentionDays")
    if not 0 <= retention_days <= MAX_RETENTION_DAYS:
        raise ValidationError(
            f"RetentionDays must be between 0 (keep forever) and {MAX_RETENTION_DAYS}.",
            field="RetentionDays",
        )
    return retention_days


def _parse_pattern(event_pattern: object | None) -> dict[str, Any] | None:
    return None if event_pattern is None else parse_event_pattern(event_pattern)


# Archives ------------------------------------------------------------------------------------

def archive_get(name: str) -> Archive:
    name = _archive_name(name)
    try:
        return Archive.objects.select_related("bus").get(name=name)
    except Archive.DoesNotExist:
        raise NotFound(f"Archive {name} does not exist.", field="ArchiveName") from None


def archive_create(
    *,
    name: str,
    bus_name: str,
    event_pattern: object | None = None,
    retention_days: int = 0,
    description: str = "",
    actor: Actor,
) -> Archive:
    """CreateArchive. With no pattern the archive keeps every event of the bus."""
    if not isinstance(name, str) or not ARCHIVE_NAME_RE.fullmatch(name):
        raise ValidationError(
            "Archive names are 1-48 characters: letters, digits, '.', '-' and '_'.",
            field="ArchiveName",
        )
    _check_description(description)
    retention_days = _check_retention(retention_days)
    pattern = _parse_pattern(event_pattern)
    bus_name = bus_name_from_reference(bus_name)
    with transaction.atomic():
        bus = EventBus.objects.select_for_update().filter(name=bus_name).first()
        if bus is None:
            raise NotFound(f"Event bus {bus_name} does not exist.", field="EventSourceArn")
        if Archive.objects.filter(name=name).exists():
            raise AlreadyExists(f"Archive {name} already exists.", field="ArchiveName")
        try:
            with transaction.atomic():
                archive = Archive.objects.create(
                    name=name, bus=bus, event_pattern=pattern, retention_days=retention_days,
                    description=description,
                )
        except IntegrityError:  # created by someone else since the check above
            raise AlreadyExists(f"Archive {name} already exists.", field="ArchiveName") from None
        _bump_rules_version(bus.pk)
    logger.info("archive %s created on bus %s by %s", name, bus_name, actor.label)
    return archive


def archive_update(
    *,
    name: str,
    event_pattern: object | _Unset | None = UNSET,
    retention_days: int | _Unset = UNSET,
    description: str | _Unset = UNSET,
    state: str | _Unset = UNSET,
    actor: Actor,
) -> Archive:
    """UpdateArchive: only the fields given change. `event_pattern=None` archives every event.

    `state` (ENABLED / DISABLED) pauses archiving; a disabled archive keeps what it holds."""
    values: dict[str, Any] = {}
    if not isinstance(event_pattern, _Unset):
        values["event_pattern"] = _parse_pattern(event_pattern)
    if not isinstance(retention_days, _Unset):
        values["retention_days"] = _check_retention(retention_days)
    if not isinstance(description, _Unset):
        _check_description(description)
        values["description"] = description
    if not isinstance(state, _Unset):
        if state not in ArchiveState.values:
            raise ValidationError(f"State must be one of {', '.join(ArchiveState.values)}.",
                                  field="State")
        values["state"] = state
    with transaction.atomic():
        archive = archive_get(name)
        archive = Archive.objects.select_for_update().select_related("bus").get(pk=archive.pk)
        changed = [field for field, value in values.items() if getattr(archive, field) != value]
        if not changed:
            return archive
        for field in changed:
            setattr(archive, field, values[field])
        archive.save(update_fields=changed)
        if {"event_pattern", "state"} & set(changed):
            _bump_rules_version(archive.bus_id)
    logger.info("archive %s changed (%s) by %s", archive.name, ", ".join(changed), actor.label)
    return archive


def archive_delete(*, name: str, actor: Actor) -> None:
    """DeleteArchive: its entries go with it (the events stay until the purge), and so do the
    records of its finished replays. Refused while one of its replays is in progress."""
    with transaction.atomic():
        archive = archive_get(name)
        archive = Archive.objects.select_for_update().get(pk=archive.pk)
        replays = list(Replay.objects.select_for_update().filter(archive=archive))
        active = [replay.name for replay in replays if replay.is_active]
        if active:
            raise ValidationError(
                f"Archive {archive.name} has a replay in progress ({', '.join(active)}): cancel "
                "it or let it finish first.",
                field="ArchiveName",
            )
        names = [replay.name for replay in replays]
        # Routing reads a replay's filter rules by its name: its events must be routed first.
        if names and PendingRoute.objects.filter(event__replay_name__in=names).exists():
            raise ValidationError(
                f"Events replayed from archive {archive.name} are still being routed; try again "
                "in a few seconds.",
                field="ArchiveName",
            )
        Replay.objects.filter(archive=archive).delete()
        archive.delete()
        _bump_rules_version(archive.bus_id)
    logger.info("archive %s deleted by %s", archive.name, actor.label)


# Replays -------------------------------------------------------------------------------------

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
    if not isinstance(name, str) or not REPLAY_NAME_RE.fullmatch(name):
        raise ValidationError(
            "Replay names are 1-64 characters: letters, digits, '.', '-' and '_'.",
            field="ReplayName",
        )
    _check_description(description)
    archive_name = _archive_name(archive_name)
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


# The retention purge -------------------------------------------------------------------------

@dataclass(frozen=True)
class PurgeReport:
    older_than: datetime
    dry_run: bool
    events_deleted: int = 0
    deliveries_deleted: int = 0
    attempts_deleted: int = 0
    archive_entries_expired: int = 0
    # Older than the cut-off but kept: an archive still retains them ...
    events_retained_by_archives: int = 0
    # ... or they still have work to do (routing, or a delivery pending or running).
    events_with_pending_work: int = 0
    # False when the time budget ran out first; the next run carries on.
    complete: bool = True

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        return [
            f"events ingested before {self.older_than.isoformat()}:",
            f"  {verb} {self.events_deleted} events, {self.deliveries_deleted} deliveries, "
            f"{self.attempts_deleted} delivery attempts",
            f"  {verb} {self.archive_entries_expired} archive entries past their archive's "
            "retention",
            f"  kept {self.events_retained_by_archives} events an archive still retains",
            f"  kept {self.events_with_pending_work} events still being routed or delivered",
            *([] if self.complete else ["  stopped on its time budget; run again to go on"]),
        ]


def _retention_cutoffs(now: datetime) -> dict[int, datetime]:
    """For each retention (in days) some archive has: archive entries from before this expire."""
    days = Archive.objects.filter(retention_days__gt=0).values_list("retention_days", flat=True)
    return {n: now - timedelta(days=n) for n in set(days)}


def _live_entries_q(cutoffs: dict[int, datetime]) -> Q:
    live = Q(archive__retention_days=0)
    for days, cutoff in cutoffs.items():
        live |= Q(archive__retention_days=days, event__ingested_at__gte=cutoff)
    return live


def _expired_entries(cutoffs: dict[int, datetime]) -> QuerySet[ArchivedEvent]:
    if not cutoffs:
        return ArchivedEvent.objects.none()
    expired = Q()
    for days, cutoff in cutoffs.items():
        expired |= Q(archive__retention_days=days, event__ingested_at__lt=cutoff)
    return ArchivedEvent.objects.filter(expired)


def _old_events(older_than: datetime) -> QuerySet[Event]:
    return Event.objects.filter(ingested_at__lt=older_than).order_by()


def _annotated(events: QuerySet[Event], live_entries: Q) -> QuerySet[Event]:
    return events.alias(
        retained=Exists(ArchivedEvent.objects.filter(live_entries, event=OuterRef("pk"))),
        routing=Exists(PendingRoute.objects.filter(event=OuterRef("pk"))),
        delivering=Exists(
            Delivery.objects.filter(event=OuterRef("pk"), status__in=BUSY_DELIVERY_STATES)
        ),
    )


_DOOMED = Q(retained=False, routing=False, delivering=False)
_BUSY = Q(retained=False) & (Q(routing=True) | Q(delivering=True))


def _deadline_passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _batches(queryset: QuerySet[Any], batch_size: int) -> Iterator[list[Any]]:
    """Primary keys in ascending batches (keyset), so rows kept back are not read again."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        keys = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not keys:
            return
        last = keys[-1]
        yield keys


def events_purge(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH_SIZE,
    time_budget_seconds: float | None = None,
) -> PurgeReport:
    """The retention purge, the one door through which events are deleted.

    First, archive entries older than their archive's retention go. Then every event ingested
    before `older_than` that no archive retains (retention 0 keeps forever; N keeps events
    ingested in the last N days) is deleted with its deliveries and their attempts, in batches,
    each in its own transaction. An event still waiting to be routed, or with a delivery
    pending or running, is never deleted."""
    if timezone.is_naive(older_than):
        raise ValidationError("older_than must be an aware datetime.", field="older_than")
    deadline = None if time_budget_seconds is None else time.monotonic() + time_budget_seconds
    cutoffs = _retention_cutoffs(timezone.now())
    live = _live_entries_q(cutoffs)
    old = _annotated(_old_events(older_than), live)
    counts = {"events": 0, "deliveries": 0, "attempts": 0, "entries": 0}

    if dry_run:
        doomed = old.filter(_DOOMED).values("pk")
        counts["entries"] = _expired_entries(cutoffs).count()
        counts["events"] = doomed.count()
        counts["deliveries"] = Delivery.objects.filter(event__in=doomed).count()
        counts["attempts"] = DeliveryAttempt.objects.filter(delivery__event__in=doomed).count()
    else:
        complete = _purge_expired_entries(cutoffs, batch_size, deadline, counts)
        complete = complete and _purge_events(old, live, batch_size, deadline, counts)
        if not complete:
            return PurgeReport(
                older_than=older_than, dry_run=False, events_deleted=counts["events"],
                deliveries_deleted=counts["deliveries"], attempts_deleted=counts["attempts"],
                archive_entries_expired=counts["entries"], complete=False,
            )
    return PurgeReport(
        older_than=older_than,
        dry_run=dry_run,
        events_deleted=counts["events"],
        deliveries_deleted=counts["deliveries"],
        attempts_deleted=counts["attempts"],
        archive_entries_expired=counts["entries"],
        events_retained_by_archives=old.filter(Q(retained=True)).count(),
        events_with_pending_work=old.filter(_BUSY).count(),
    )


def events_purge_by_retention(*, time_budget_seconds: float | None = None) -> PurgeReport | None:
    """The periodic purge: events older than ROUTING_EVENT_RETENTION_DAYS (0 keeps them
    forever, and then this does nothing and returns None)."""
    days = int(settings.ROUTING_EVENT_RETENTION_DAYS)
    if days <= 0:
        return None
    return events_purge(older_than=timezone.now() - timedelta(days=days),
                        time_budget_seconds=time_budget_seconds)


def _purge_expired_entries(
    cutoffs: dict[int, datetime], batch_size: int, deadline: float | None, counts: dict[str, int]
) -> bool:
    for keys in _batches(_expired_entries(cutoffs), batch_size):
        counts["entries"] += ArchivedEvent.objects.filter(pk__in=keys).delete()[0]
        if _deadline_passed(deadline):
            return False
    return True


def _purge_events(
    old: QuerySet[Event],
    live: Q,
    batch_size: int,
    deadline: float | None,
    counts: dict[str, int],
) -> bool:
    for keys in _batches(old.filter(_DOOMED), batch_size):
        with event_deletion_permitted():
            # Checked again with the rows locked: since the batch was chosen, an event may have
            # had a delivery redriven or an archive's retention lengthened.
            pending = set(PendingRoute.objects.select_for_update()
                          .filter(event_id__in=keys).values_list("event_id", flat=True))
            deliveries = list(Delivery.objects.select_for_update()
                              .filter(event_id__in=keys).values_list("event_id", "status"))
            busy = {event_id for event_id, status in deliveries
                    if status in BUSY_DELIVERY_STATES}
            retained = set(ArchivedEvent.objects.filter(live, event_id__in=keys)
                           .values_list("event_id", flat=True))
            doomed = [key for key in keys if key not in pending | busy | retained]
            if doomed:
                counts["attempts"] += DeliveryAttempt.objects.filter(
                    delivery__event_id__in=doomed).delete()[0]
                counts["deliveries"] += Delivery.objects.filter(event_id__in=doomed).delete()[0]
                counts["entries"] += ArchivedEvent.objects.filter(event_id__in=doomed).delete()[0]
                # EventQuerySet refuses to delete; the ORM's own delete still checks that no
                # protected row refers to these events, and the database lets it through only
                # inside event_deletion_permitted().
                _, per_model = models.QuerySet.delete(Event.objects.filter(pk__in=doomed))
                counts["events"] += per_model.get(Event._meta.label, 0)
        if _deadline_passed(deadline):
            return False
    return True
