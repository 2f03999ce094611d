"""Archives, replays and the retention purge as services, in-process (tests/integration/
test_replay.py runs them in real workers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from routing import dispatch
from routing.errors import (
    AlreadyExists,
    InvalidEventPattern,
    LimitExceeded,
    NotFound,
    ValidationError,
)
from routing.models import (
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
from routing.services import (
    Actor,
    TargetSpec,
    bus_create,
    delivery_attempt,
    route_events,
    rule_put,
    targets_put,
)
from routing.services import replays as replays_module
from routing.services.archives import archive_create, archive_delete, archive_get, archive_update
from routing.services.publish import EventEntry, events_store
from routing.services.replays import (
    MAX_ACTIVE_REPLAYS,
    replay_cancel,
    replay_get,
    replay_run,
    replay_start,
    replayed_event_id,
    replays_resume,
)
from routing.services.retention import events_purge, events_purge_by_retention
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SHOP = {"source": ["shop"]}


def publish(count: int = 1, *, start: datetime = T0, step: timedelta = timedelta(minutes=1),
            source: str = "shop", bus: str = "default") -> list[Event]:
    """Stores `count` events with times start, start+step, ... and routes them in-process."""
    events = events_store(
        entries=[
            EventEntry(source=source, detail_type="OrderPlaced", detail={"n": n}, bus_name=bus,
                       time=start + n * step)
            for n in range(count)
        ],
        publisher=TEST_PUBLISHER,
    )
    route_events([str(event.pk) for event in events])
    return events


def old_event(days_ago: float, *, bus: EventBus, source: str = "shop") -> Event:
    """An event ingested `days_ago` (stored directly: the service stamps the current time),
    then routed like any other."""
    moment = timezone.now() - timedelta(days=days_ago)
    event = Event.objects.create(bus=bus, source=source, detail_type="OrderPlaced",
                                 detail={"age": days_ago}, time=moment, ingested_at=moment)
    PendingRoute.objects.create(event=event, created_at=moment)
    route_events([str(event.pk)])
    return event


def rules_version(bus: EventBus) -> int:
    return EventBus.objects.get(pk=bus.pk).rules_version


def replayed(replay: Replay) -> list[Event]:
    return list(Event.objects.filter(replay_name=replay.name).order_by("time"))


@pytest.fixture
def archive(default_bus: EventBus, actor: Actor) -> Archive:
    return archive_create(name="orders", bus_name="default", event_pattern=SHOP, actor=actor)


@pytest.fixture
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replay runs sent to the queue, recorded instead of sent."""
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send_replay", sent.append)
    return sent


def start(name: str = "again", *, start_at: datetime = T0, end_at: datetime | None = None,
          **options: Any) -> Replay:
    return replay_start(
        name=name, archive_name="orders", event_start_time=start_at,
        event_end_time=end_at or T0 + timedelta(days=1), actor=Actor.system("test"), **options,
    )


# Archives ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("options", "error", "message", "field"),
    [
        ({"name": ""}, ValidationError, "Archive names are 1-48 characters", "ArchiveName"),
        ({"name": "a" * 49}, ValidationError, "Archive names are 1-48 characters", "ArchiveName"),
        ({"name": "with space"}, ValidationError, "Archive names are", "ArchiveName"),
        ({"description": "d" * 513}, ValidationError, "longer than 512", "Description"),
        ({"retention_days": -1}, ValidationError, "between 0 (keep forever)", "RetentionDays"),
        ({"retention_days": "7"}, ValidationError, "whole number of days", "RetentionDays"),
        ({"retention_days": True}, ValidationError, "whole number of days", "RetentionDays"),
        ({"event_pattern": {"source": "shop"}}, InvalidEventPattern, "", None),
        ({"bus_name": "nope"}, NotFound, "Event bus nope does not exist.", "EventSourceArn"),
    ],
)
def test_archive_create_refuses_bad_input_naming_the_field(
    default_bus: EventBus, actor: Actor, options: dict[str, Any], error: type[Exception],
    message: str, field: str | None,
) -> None:
    arguments: dict[str, Any] = {"name": "orders", "bus_name": "default", **options}
    with pytest.raises(error) as raised:
        archive_create(actor=actor, **arguments)
    assert message in str(raised.value)
    if field:
        assert raised.value.field == field  # type: ignore[attr-defined]
    assert not Archive.objects.exists()


def test_archive_create_refuses_a_duplicate_name_in_eventbridge_words(
    archive: Archive, actor: Actor
) -> None:
    bus_create(name="other", actor=actor)
    with pytest.raises(AlreadyExists, match=r"^Archive orders already exists\.$"):
        archive_create(name="orders", bus_name="other", actor=actor)
    created = archive_create(name="a" * 48, bus_name="arn:aws:events:us-east-1:000000000000:"
                             "event-bus/other", retention_days=7, actor=actor)
    assert (created.bus.name, created.retention_days, created.event_pattern) == ("other", 7, None)


def test_archive_keeps_matching_events_but_never_replayed_ones(archive: Archive) -> None:
    [matching] = publish(1)
    publish(1, source="elsewhere")
    events_store(entries=[EventEntry(source="shop", detail_type="OrderPlaced", detail={},
                                     replay_name="some-replay")], publisher=TEST_PUBLISHER)
    route_events(list(PendingRoute.objects.values_list("event_id", flat=True)))
    assert list(ArchivedEvent.objects.values_list("event_id", "event_time")) == [
        (matching.pk, matching.time)
    ]


def test_archive_changes_reach_routing_through_rules_version(
    archive: Archive, default_bus: EventBus, actor: Actor
) -> None:
    version = rules_version(default_bus)
    archive_update(name="orders", description="all orders", retention_days=30, actor=actor)
    assert rules_version(default_bus) == version  # neither changes what routing archives
    updated = archive_get("orders")
    assert (updated.description, updated.retention_days, updated.event_pattern) == (
        "all orders", 30, SHOP)

    archive_update(name="orders", event_pattern=None, actor=actor)
    assert rules_version(default_bus) == version + 1
    publish(1, source="elsewhere")
    assert ArchivedEvent.objects.count() == 1  # no pattern: every event of the bus

    archive_update(name="orders", state=ArchiveState.DISABLED, actor=actor)
    assert rules_version(default_bus) == version + 2
    publish(1)
    assert ArchivedEvent.objects.count() == 1  # disabled: archives nothing, keeps what it has
    assert archive_get("orders").retention_days == 30  # untouched by the other updates

    archive_update(name="orders", state=ArchiveState.ENABLED, event_pattern=SHOP, actor=actor)
    assert rules_version(default_bus) == version + 3
    publish(1)
    assert ArchivedEvent.objects.count() == 2

    with pytest.raises(ValidationError, match="State must be one of") as raised:
        archive_update(name="orders", state="PAUSED", actor=actor)
    assert raised.value.field == "State"
    with pytest.raises(NotFound, match=r"^Archive nope does not exist\.$"):
        archive_update(name="nope", description="", actor=actor)


def test_archive_delete_takes_its_entries_and_finished_replays_but_not_events(
    archive: Archive, default_bus: EventBus, actor: Actor, no_enqueue: list[int]
) -> None:
    events = publish(3)
    replay = start()
    version = rules_version(default_bus)
    with pytest.raises(ValidationError, match=r"has a replay in progress \(again\)"):
        archive_delete(name="orders", actor=actor)
    replay_run(replay_id=replay.pk)
    route_events(list(PendingRoute.objects.values_list("event_id", flat=True)))

    archive_delete(name="orders", actor=actor)
    assert rules_version(default_bus) == version + 1
    assert not ArchivedEvent.objects.exists()
    assert not Replay.objects.exists()
    assert Event.objects.filter(pk__in=[e.pk for e in events]).count() == 3
    with pytest.raises(NotFound, match=r"^Archive orders does not exist\.$"):
        archive_get("orders")
    with pytest.raises(NotFound):
        archive_delete(name="orders", actor=actor)
    publish(1)
    assert not ArchivedEvent.objects.exists()  # routing no longer archives for it


# Starting a replay ---------------------------------------------------------------------------

def test_replay_start_refuses_bad_requests_in_eventbridge_words(
    archive: Archive, actor: Actor, no_enqueue: list[int]
) -> None:
    bus_create(name="other", actor=actor)
    rule_put(bus_name="other", name="elsewhere", event_pattern=SHOP, actor=actor)
    now = timezone.now()
    cases: list[tuple[dict[str, Any], type[Exception], str, str]] = [
        ({"name": "bad name"}, ValidationError, "Replay names are 1-64 characters", "ReplayName"),
        ({"archive_name": "nope"}, ValidationError,
         "Parameter EventSourceArn is not valid. Reason: Archive nope does not exist.",
         "EventSourceArn"),
        ({"destination_bus_name": "other"}, ValidationError,
         "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not "
         "permitted.", "Destination.Arn"),
        ({"destination_bus_name": "missing"}, NotFound, "Event bus missing does not exist.",
         "Destination.Arn"),
        ({"event_start_time": T0, "event_end_time": T0}, ValidationError,
         "Parameter EventEndTime is not valid. Reason: EventStartTime must be before "
         "EventEndTime.", "EventEndTime"),
        ({"event_end_time": now + timedelta(minutes=5)}, ValidationError,
         "EventEndTime must not be in the future", "EventEndTime"),
        ({"event_start_time": "yesterday"}, ValidationError,
         "Parameter EventStartTime is not valid", "EventStartTime"),
        ({"filter_rule_names": ["ghost"]}, NotFound,
         "Rule ghost does not exist on EventBus default.", "Destination.FilterArns"),
        ({"filter_rule_names": ["arn:aws:events:us-east-1:000000000000:rule/other/elsewhere"]},
         ValidationError, "rule elsewhere is on event bus other", "Destination.FilterArns"),
        ({"filter_rule_names": "screen"}, ValidationError, "expected a list of rule names",
         "Destination.FilterArns"),
        ({"description": "d" * 513}, ValidationError, "longer than 512", "Description"),
    ]
    for options, error, message, field in cases:
        arguments: dict[str, Any] = {
            "name": "again", "archive_name": "orders", "event_start_time": T0,
            "event_end_time": now - timedelta(minutes=1), **options,
        }
        with pytest.raises(error) as raised:
            replay_start(actor=actor, **arguments)
        assert message in str(raised.value), options
        assert raised.value.field == field, options  # type: ignore[attr-defined]
    assert not Replay.objects.exists()
    assert no_enqueue == []


def test_replay_names_are_unique_and_ten_may_run_at_once(
    archive: Archive, no_enqueue: list[int]
) -> None:
    first = start("r0", end_at=T0 + timedelta(hours=1))
    assert (first.state, first.destination_bus.name) == (ReplayState.STARTING, "default")
    with pytest.raises(AlreadyExists, match=r"^Replay r0 already exists\.$"):
        start("r0")
    for n in range(1, MAX_ACTIVE_REPLAYS):
        start(f"r{n}")
    with pytest.raises(LimitExceeded, match="at most 10 replays"):
        start("one-too-many")
    replay_cancel(name="r0", actor=Actor.system("test"))
    start("one-too-many")


def test_replay_start_enqueues_its_run_only_after_commit(
    archive: Archive, no_enqueue: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        replay = start()
        assert no_enqueue == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert no_enqueue == [replay.pk]


# Running a replay ----------------------------------------------------------------------------

def test_replay_replays_the_window_in_time_order_onto_the_archive_bus(
    archive: Archive, actor: Actor, recorder: Any, no_enqueue: list[int]
) -> None:
    rule = rule_put(bus_name="default", name="orders", event_pattern=SHOP, actor=actor)
    targets_put(rule=rule, actor=actor, targets=[TargetSpec("r", "handler", "tests.recorder")])
    # Published out of order; the window [T0+1m, T0+4m) holds minutes 1, 2 and 3.
    originals = publish(6, start=T0 + timedelta(minutes=5), step=timedelta(minutes=-1))
    by_minute = {int((e.time - T0).total_seconds() // 60): e for e in originals}
    replay = start(start_at=T0 + timedelta(minutes=1), end_at=T0 + timedelta(minutes=4))

    report = replay_run(replay_id=replay.pk, batch_size=2)
    assert (report.state, report.replayed, report.batches) == (ReplayState.COMPLETED, 3, 2)
    replay.refresh_from_db()
    assert (replay.total_events, replay.replayed_events) == (3, 3)
    assert replay.event_last_replayed_time == T0 + timedelta(minutes=3)
    assert replay.started_at is not None
    assert replay.ended_at is not None
    assert replay.started_at <= replay.ended_at

    copies = replayed(replay)
    assert [c.time for c in copies] == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]
    for copy in copies:
        original = by_minute[int((copy.time - T0).total_seconds() // 60)]
        assert copy.pk == replayed_event_id(replay, original.pk) != original.pk
        assert (copy.source, copy.detail_type, copy.detail, copy.bus_id) == (
            original.source, original.detail_type, original.detail, original.bus_id)
        assert copy.published_by == "replay:again"
        assert copy.envelope()["replay-name"] == "again"

    route_events([str(c.pk) for c in copies])
    assert ArchivedEvent.objects.count() == 6  # replayed events are never archived again
    recorder.calls.clear()
    for delivery in Delivery.objects.filter(event__in=copies):
        delivery_attempt(str(delivery.pk))
    assert sorted(p["detail"]["n"] for p, _ in recorder.calls) == [
        by_minute[m].detail["n"] for m in (3, 2, 1)
    ]
    assert {p["replay-name"] for p, _ in recorder.calls} == {"again"}


def test_filter_rules_limit_which_rules_see_the_replay(
    archive: Archive, actor: Actor, recorder: Any, no_enqueue: list[int]
) -> None:
    for name in ("screen", "kitchen"):
        rule = rule_put(bus_name="default", name=name, event_pattern=SHOP, actor=actor)
        targets_put(rule=rule, actor=actor,
                    targets=[TargetSpec(name, "handler", "tests.recorder")])
    publish(2)
    assert Delivery.objects.count() == 4
    screen = Rule.objects.get(name="screen")
    replay = start(filter_rule_names=["arn:aws:events:us-east-1:000000000000:rule/screen"])
    assert list(replay.filter_rules.all()) == [screen]
    replay_run(replay_id=replay.pk)
    route_events([str(e.pk) for e in replayed(replay)])
    replayed_deliveries = Delivery.objects.filter(event__replay_name="again")
    assert {d.target.rule.name for d in replayed_deliveries} == {"screen"}
    assert replayed_deliveries.count() == 2


class WorkerDied(BaseException):
    """Stands for the process dying mid-batch: nothing in the replay code catches it."""


def test_a_replay_that_dies_resumes_and_running_again_never_duplicates(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, no_enqueue: list[int]
) -> None:
    publish(250, step=timedelta(seconds=0))  # all at one instant: only the keyset tells them apart
    replay = start()
    calls = {"n": 0}

    def store_then_die(**kwargs: Any) -> list[Event]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied
        return events_store(**kwargs)

    monkeypatch.setattr(replays_module, "events_store", store_then_die)
    with pytest.raises(WorkerDied):
        replay_run(replay_id=replay.pk, batch_size=100)
    replay.refresh_from_db()
    assert (replay.state, replay.replayed_events, replay.total_events) == (
        ReplayState.RUNNING, 100, 250)
    assert len(replayed(replay)) == 100  # the second batch rolled back with its progress

    monkeypatch.setattr(replays_module, "events_store", events_store)
    assert replay_run(replay_id=replay.pk, batch_size=100).replayed == 150
    assert replay_run(replay_id=replay.pk, batch_size=100).replayed == 0  # finished: no-op
    replay.refresh_from_db()
    assert (replay.state, replay.replayed_events, replay.total_events) == (
        ReplayState.COMPLETED, 250, 250)
    copies = replayed(replay)
    assert len(copies) == len({c.pk for c in copies}) == 250
    assert {c.detail["n"] for c in copies} == set(range(250))

    # Even a run that walks the whole window again publishes nothing twice.
    Replay.objects.filter(pk=replay.pk).update(
        state=ReplayState.RUNNING, last_entry_id=None, event_last_replayed_time=None,
        replayed_events=0,
    )
    assert replay_run(replay_id=replay.pk, batch_size=100).state == ReplayState.COMPLETED
    assert Event.objects.filter(replay_name="again").count() == 250


def test_a_run_stops_on_its_time_budget_and_enqueues_its_continuation(
    archive: Archive, no_enqueue: list[int]
) -> None:
    publish(5)
    replay = start()
    assert no_enqueue == []  # replay_start's enqueue waits for a commit that never comes here
    report = replay_run(replay_id=replay.pk, batch_size=2, max_seconds=0)
    assert (report.state, report.replayed, report.continuing) == (ReplayState.RUNNING, 2, True)
    assert no_enqueue == [replay.pk]
    replay.refresh_from_db()
    assert (replay.replayed_events, replay.total_events) == (2, 5)
    assert replay.event_last_replayed_time == T0 + timedelta(minutes=1)
    assert replay_run(replay_id=replay.pk, batch_size=2).state == ReplayState.COMPLETED
    assert len(replayed(replay)) == 5


def test_cancelling(archive: Archive, actor: Actor, no_enqueue: list[int]) -> None:
    publish(5)
    waiting = start("waiting")
    cancelled = replay_cancel(name="waiting", actor=actor)
    assert cancelled.state == ReplayState.CANCELLED
    assert cancelled.state_reason == "Cancelled by test."
    assert cancelled.ended_at is not None
    assert replay_run(replay_id=waiting.pk).state == ReplayState.CANCELLED
    assert replayed(waiting) == []

    running = start("running")
    replay_run(replay_id=running.pk, batch_size=2, max_seconds=0)
    assert replay_cancel(name="running", actor=actor).state == ReplayState.CANCELLING
    with pytest.raises(ValidationError, match=r"^Replay running is not in a valid state for this "
                                              r"operation\.$") as raised:
        replay_cancel(name="running", actor=actor)
    assert raised.value.code == "IllegalStatusException"
    assert replay_run(replay_id=running.pk, batch_size=2).state == ReplayState.CANCELLED
    running.refresh_from_db()
    assert (running.replayed_events, len(replayed(running))) == (2, 2)
    assert running.ended_at is not None

    done = start("done")
    replay_run(replay_id=done.pk)
    with pytest.raises(ValidationError, match="not in a valid state"):
        replay_cancel(name="done", actor=actor)
    with pytest.raises(NotFound, match=r"^Replay ghost does not exist\.$"):
        replay_cancel(name="ghost", actor=actor)
    with pytest.raises(NotFound, match=r"^Replay ghost does not exist\.$"):
        replay_get("ghost")


def test_a_replay_that_cannot_go_on_fails_with_the_reason(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, no_enqueue: list[int]
) -> None:
    publish(3)
    replay = start()

    def broken(**kwargs: Any) -> list[Event]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(replays_module, "events_store", broken)
    assert replay_run(replay_id=replay.pk).state == ReplayState.FAILED
    replay.refresh_from_db()
    assert (replay.state, replay.state_reason) == (ReplayState.FAILED, "RuntimeError: disk on fire")
    assert replay.ended_at is not None
    assert replay_run(replay_id=replay.pk).state == ReplayState.FAILED  # stays failed


def test_an_empty_window_completes_at_once(archive: Archive, no_enqueue: list[int]) -> None:
    publish(2)
    replay = start(start_at=T0 - timedelta(days=2), end_at=T0 - timedelta(days=1))
    assert replay_run(replay_id=replay.pk).state == ReplayState.COMPLETED
    replay.refresh_from_db()
    assert (replay.total_events, replay.replayed_events, replay.event_last_replayed_time) == (
        0, 0, None)
    assert replay_run(replay_id=123456).state == "missing"


def test_resume_enqueues_only_active_replays_that_went_silent(
    archive: Archive, no_enqueue: list[int]
) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    fresh = start("fresh")
    silent = start("silent")
    cancelling = start("cancelling")
    finished = start("finished")
    Replay.objects.filter(pk=silent.pk).update(state=ReplayState.RUNNING, heartbeat_at=long_ago)
    Replay.objects.filter(pk=cancelling.pk).update(state=ReplayState.CANCELLING,
                                                   heartbeat_at=long_ago)
    Replay.objects.filter(pk=finished.pk).update(state=ReplayState.COMPLETED,
                                                 heartbeat_at=long_ago)
    assert sorted(replays_resume(stale_after_seconds=60)) == sorted([silent.pk, cancelling.pk])
    assert sorted(no_enqueue) == sorted([silent.pk, cancelling.pk])
    assert replays_resume(stale_after_seconds=60) == []  # claimed: not sent twice
    assert fresh.pk not in no_enqueue
    assert replays_resume(stale_after_seconds=0) != []  # everything active is "silent" at 0 s


# The retention purge -------------------------------------------------------------------------

def delivered_old_event(days_ago: float, bus: EventBus) -> Event:
    event = old_event(days_ago, bus=bus)
    for delivery in Delivery.objects.filter(event=event):
        delivery_attempt(str(delivery.pk))
    return event


@pytest.fixture
def screen(default_bus: EventBus, actor: Actor, recorder: Any) -> Rule:
    rule = rule_put(bus_name="default", name="screen", event_pattern=SHOP, actor=actor)
    targets_put(rule=rule, actor=actor, targets=[TargetSpec("s", "handler", "tests.recorder")])
    return rule


def test_purge_deletes_old_events_with_their_deliveries_and_attempts(
    default_bus: EventBus, screen: Rule
) -> None:
    old = delivered_old_event(40, default_bus)
    young = delivered_old_event(5, default_bus)
    assert Delivery.objects.get(event=old).status == DeliveryStatus.SUCCEEDED

    report = events_purge(older_than=timezone.now() - timedelta(days=30), batch_size=1)
    assert (report.events_deleted, report.deliveries_deleted, report.attempts_deleted) == (1, 1, 1)
    assert not Event.objects.filter(pk=old.pk).exists()
    assert not Delivery.objects.filter(event_id=old.pk).exists()
    assert Event.objects.filter(pk=young.pk).exists()
    assert DeliveryAttempt.objects.filter(delivery__event=young).count() == 1
    assert report.complete
    assert not report.dry_run

    # The door is shut again: the database still refuses any other delete.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM routing_event")


def test_archives_retain_events_for_their_own_retention(
    default_bus: EventBus, actor: Actor
) -> None:
    archive_create(name="forever", bus_name="default", event_pattern={"source": ["keep"]},
                   actor=actor)
    archive_create(name="week", bus_name="default", event_pattern=SHOP, retention_days=7,
                   actor=actor)
    kept_forever = old_event(400, bus=default_bus, source="keep")
    in_week = old_event(3, bus=default_bus)
    past_week = old_event(10, bus=default_bus)
    past_week_and_global = old_event(40, bus=default_bus)
    archive_update(name="forever", state=ArchiveState.DISABLED, actor=actor)  # still retains
    assert ArchivedEvent.objects.count() == 4

    # Past the archive's retention the entry goes, though the event may stay for the global one.
    report = events_purge(older_than=timezone.now() - timedelta(days=30))
    assert (report.archive_entries_expired, report.events_deleted) == (2, 1)
    assert report.events_retained_by_archives == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {
        kept_forever.pk, in_week.pk, past_week.pk}
    assert not Event.objects.filter(pk=past_week_and_global.pk).exists()
    assert set(ArchivedEvent.objects.values_list("event_id", flat=True)) == {
        kept_forever.pk, in_week.pk}

    # Everything old by the global cut-off: only what the archives still retain stays.
    report = events_purge(older_than=timezone.now() + timedelta(days=1))
    assert (report.events_deleted, report.events_retained_by_archives) == (1, 2)
    assert set(Event.objects.values_list("pk", flat=True)) == {kept_forever.pk, in_week.pk}

    archive_delete(name="forever", actor=actor)
    assert events_purge(older_than=timezone.now() + timedelta(days=1)).events_deleted == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [in_week.pk]


def test_purge_never_deletes_events_with_work_still_to_do(
    default_bus: EventBus, screen: Rule, recorder: Any
) -> None:
    long_ago = timezone.now() - timedelta(days=40)
    unrouted = Event.objects.create(bus=default_bus, source="shop", detail_type="OrderPlaced",
                                    time=long_ago, ingested_at=long_ago)
    PendingRoute.objects.create(event=unrouted, created_at=long_ago)
    pending = old_event(40, bus=default_bus)  # routed; its delivery not attempted yet
    running = old_event(40, bus=default_bus)
    Delivery.objects.filter(event=running).update(status=DeliveryStatus.RUNNING)
    dead = old_event(40, bus=default_bus)
    Delivery.objects.filter(event=dead).update(status=DeliveryStatus.DEAD)

    report = events_purge(older_than=timezone.now() - timedelta(days=30))
    assert (report.events_deleted, report.events_with_pending_work) == (1, 3)
    assert set(Event.objects.values_list("pk", flat=True)) == {unrouted.pk, pending.pk, running.pk}
    assert not Event.objects.filter(pk=dead.pk).exists()  # dead letters go with their event


def test_dry_run_counts_exactly_what_a_real_run_deletes(
    default_bus: EventBus, screen: Rule, actor: Actor
) -> None:
    archive_create(name="week", bus_name="default", retention_days=7, actor=actor)
    for days in (40, 40, 10, 3):
        delivered_old_event(days, default_bus)
    old_event(40, bus=default_bus)  # pending delivery: kept
    events_before = Event.objects.count()
    cut_off = timezone.now() - timedelta(days=30)

    dry = events_purge(older_than=cut_off, dry_run=True)
    assert Event.objects.count() == events_before
    assert ArchivedEvent.objects.count() == 5
    real = events_purge(older_than=cut_off)
    assert dry.dry_run
    assert not real.dry_run
    for field in ("events_deleted", "deliveries_deleted", "attempts_deleted",
                  "archive_entries_expired", "events_retained_by_archives",
                  "events_with_pending_work"):
        assert getattr(dry, field) == getattr(real, field), field
    assert (real.events_deleted, real.deliveries_deleted, real.attempts_deleted) == (2, 2, 2)
    assert (real.archive_entries_expired, real.events_with_pending_work) == (4, 1)


def test_purge_events_command(default_bus: EventBus, capsys: pytest.CaptureFixture[str]) -> None:
    old = old_event(40, bus=default_bus)
    old_event(5, bus=default_bus)

    call_command("purge_events", "--dry-run")  # ROUTING_EVENT_RETENTION_DAYS is 30
    out = capsys.readouterr().out
    assert "would delete 1 events, 0 deliveries, 0 delivery attempts" in out
    assert Event.objects.filter(pk=old.pk).exists()

    call_command("purge_events", "--older-than-days", "2")
    assert "deleted 2 events" in capsys.readouterr().out
    assert not Event.objects.exists()

    with pytest.raises(CommandError, match="0 or more"):
        call_command("purge_events", "--older-than-days", "-1")
    with override_settings(ROUTING_EVENT_RETENTION_DAYS=0):
        with pytest.raises(CommandError, match="keep events forever"):
            call_command("purge_events")
        assert events_purge_by_retention() is None


def test_purge_by_retention_uses_the_setting(default_bus: EventBus) -> None:
    old = old_event(12, bus=default_bus)
    young = old_event(8, bus=default_bus)
    with override_settings(ROUTING_EVENT_RETENTION_DAYS=10):
        report = events_purge_by_retention()
    assert report is not None
    assert report.events_deleted == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [young.pk]
    assert old.pk != young.pk
    with pytest.raises(ValidationError, match="aware"):
        events_purge(older_than=datetime(2026, 1, 1))


def test_replayed_ids_differ_per_replay(archive: Archive, no_enqueue: list[int]) -> None:
    [event] = publish(1)
    first, second = start("one"), start("two")
    assert replayed_event_id(first, event.pk) != replayed_event_id(second, event.pk)
    assert replayed_event_id(first, event.pk) == replayed_event_id(first, event.pk)
    assert isinstance(replayed_event_id(first, uuid.uuid4()), uuid.UUID)
