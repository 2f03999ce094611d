"""Firing scheduled rules under a controlled clock: each tick is claimed once, publishes AWS's
scheduled event to its own rule's targets only, missed ticks fire the latest once (flagged in the
trace), disabled rules stay silent and enabling again back-fills nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, connections

from routing.models import Delivery, Event, EventBus, PendingRoute, Rule, RuleState, ScheduleTick
from routing.schedules.firing import due_ticks, schedules_fire, tick_fire
from routing.selectors.traces import event_trace
from routing.services import Actor, TargetSpec, rule_put, rule_set_state, targets_put

START = datetime(2026, 12, 3, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def scheduled_rule(actor: Actor, expression: str = "rate(5 minutes)", name: str = "tick") -> Rule:
    rule = rule_put(bus_name="default", name=name, event_pattern=None,
                    schedule_expression=expression, actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("r", "handler", "tests.recorder")], actor=actor)
    return rule


def test_a_due_tick_fires_aws_scheduled_event_once(default_bus: EventBus, actor: Actor,
                                                   recorder: Any, clock: Any) -> None:
    rule = scheduled_rule(actor)
    # Another rule on the bus that would match the event, were it routed by pattern.
    listener = rule_put(bus_name="default", name="listener",
                        event_pattern={"source": ["aws.events"]}, actor=actor)
    targets_put(rule=listener, targets=[TargetSpec("l", "handler", "tests.recorder")],
                actor=actor)
    clock.shift(timedelta(minutes=4, seconds=59))
    assert schedules_fire().fired == 0
    clock.shift(timedelta(seconds=1))
    assert schedules_fire().fired == 1
    assert schedules_fire().fired == 0  # the same tick again: already fired

    tick = ScheduleTick.objects.get()
    assert tick.tick_at == START + timedelta(minutes=5)
    assert tick.missed_before == 0
    event = Event.objects.get(pk=tick.event_id)
    envelope = event.envelope()
    assert envelope["source"] == "aws.events"
    assert envelope["detail-type"] == "Scheduled Event"
    assert envelope["resources"] == [rule.arn]
    assert envelope["detail"] == {}
    assert envelope["time"] == "2026-12-03T08:05:00Z"
    assert not PendingRoute.objects.filter(event=event).exists()
    deliveries = Delivery.objects.filter(event=event)
    assert [d.target.rule.name for d in deliveries] == ["tick"]
    assert event_trace(event.pk)["schedule"] == {
        "rule": "tick", "tick_at": "2026-12-03T08:05:00Z", "late": False, "missed_before": 0}

    clock.shift(timedelta(minutes=5))
    assert schedules_fire().fired == 1
    assert list(ScheduleTick.objects.order_by("tick_at").values_list("tick_at", flat=True)) == [
        START + timedelta(minutes=5), START + timedelta(minutes=10)]


def test_two_firers_for_one_tick_fire_once(default_bus: EventBus, actor: Actor, recorder: Any,
                                           clock: Any) -> None:
    scheduled_rule(actor)
    clock.shift(timedelta(minutes=5))
    seen_by_first, seen_by_second = due_ticks(now=START + timedelta(minutes=5)), \
        due_ticks(now=START + timedelta(minutes=5, seconds=3))
    assert seen_by_first == seen_by_second
    assert tick_fire(seen_by_first[0]) is True
    assert tick_fire(seen_by_second[0]) is False
    assert ScheduleTick.objects.count() == 1
    assert Event.objects.filter(source="aws.events").count() == 1
    assert Delivery.objects.count() == 1


def test_missed_ticks_fire_the_latest_once(default_bus: EventBus, actor: Actor, recorder: Any,
                                           clock: Any) -> None:
    scheduled_rule(actor, "cron(0/5 * * * ? *)")
    clock.shift(timedelta(hours=1, minutes=2))  # everything was down for an hour
    assert schedules_fire().fired == 1
    tick = ScheduleTick.objects.get()
    assert tick.tick_at == START + timedelta(hours=1)
    assert tick.missed_before == 11  # 08:05 ... 08:55
    trace = event_trace(tick.event_id)  # type: ignore[arg-type]
    assert trace["schedule"]["late"] is True
    assert trace["schedule"]["missed_before"] == 11
    clock.shift(timedelta(minutes=3))
    assert schedules_fire().fired == 1
    assert ScheduleTick.objects.order_by("-tick_at").first().missed_before == 0  # type: ignore[union-attr]


def test_disabled_rules_do_not_fire_and_enabling_does_not_back_fill(
    default_bus: EventBus, actor: Actor, recorder: Any, clock: Any
) -> None:
    rule = scheduled_rule(actor, "cron(0/5 * * * ? *)")
    rule = rule_set_state(rule=rule, state=RuleState.DISABLED, actor=actor)
    clock.shift(timedelta(minutes=30))
    assert schedules_fire().fired == 0
    clock.shift(timedelta(minutes=2))  # 08:32
    rule_set_state(rule=rule, state=RuleState.ENABLED, actor=actor)
    assert schedules_fire().fired == 0  # 08:05 ... 08:30 slept through: not back-filled
    clock.shift(timedelta(minutes=3))
    assert schedules_fire().fired == 1
    assert ScheduleTick.objects.get().tick_at == START + timedelta(minutes=35)


def test_deleted_rules_do_not_fire(default_bus: EventBus, actor: Actor, recorder: Any,
                                   clock: Any) -> None:
    from routing.services import rule_delete

    rule = scheduled_rule(actor)
    assert due_ticks(now=START + timedelta(minutes=4)) == []
    clock.shift(timedelta(minutes=5))
    ticks = due_ticks(now=START + timedelta(minutes=5))
    rule_delete(rule=rule, actor=actor, force=True)
    assert tick_fire(ticks[0]) is False
    assert schedules_fire().fired == 0


def run_at_once(calls: list[Callable[[], bool]]) -> list[bool | Exception]:
    barrier = threading.Barrier(len(calls))
    results: list[bool | Exception] = [RuntimeError("did not run")] * len(calls)

    def run(position: int, call: Callable[[], bool]) -> None:
        try:
            barrier.wait(timeout=30)
            results[position] = call()
        except Exception as error:  # collected: the test looks at every outcome
            results[position] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="concurrent claims rest on PostgreSQL's unique index under "
                           "concurrency; SQLite runs one writer at a time "
                           "(run with DATABASE_URL=postgres://...)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_firers_on_postgresql_claim_each_tick_once(recorder: Any) -> None:
    from routing.services import bus_ensure_default

    bus_ensure_default()
    actor = Actor.system("test")
    with time_machine.travel(START, tick=False) as clock:
        for n in range(5):
            scheduled_rule(actor, name=f"tick-{n}")
        clock.shift(timedelta(minutes=5))
        results = run_at_once([schedules_fire for _ in range(8)])  # type: ignore[list-item]
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.fired for r in results) == 5  # type: ignore[union-attr]
    assert ScheduleTick.objects.count() == 5
    assert Event.objects.filter(source="aws.events").count() == 5
    assert Delivery.objects.count() == 5


def test_a_tick_sends_no_route_message(default_bus: EventBus, actor: Actor, recorder: Any,
                                       clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from routing import dispatch

    scheduled_rule(actor)
    routed: list[list[str]] = []
    original = dispatch.route_events_on_commit

    def spy(event_ids: Any) -> None:
        routed.append(list(event_ids))
        original(event_ids)

    monkeypatch.setattr(dispatch, "route_events_on_commit", spy)
    clock.shift(timedelta(minutes=5))
    assert schedules_fire().fired == 1
    assert routed == []  # firing knows its rule's targets: nothing is left to route
    assert Delivery.objects.count() == 1


def test_archives_of_the_default_bus_keep_the_scheduled_events_they_match(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any) -> None:
    from routing.models import ArchivedEvent
    from routing.services.archives import archive_create

    scheduled_rule(actor)
    archive_create(name="everything", bus_name="default", actor=actor)
    archive_create(name="scheduled", bus_name="default",
                   event_pattern={"detail-type": ["Scheduled Event"]}, actor=actor)
    archive_create(name="orders-only", bus_name="default",
                   event_pattern={"source": ["awsserverlessda.serverlesspresso"]}, actor=actor)
    clock.shift(timedelta(minutes=5))
    assert schedules_fire().fired == 1
    event_id = ScheduleTick.objects.get().event_id
    assert sorted(ArchivedEvent.objects.filter(event_id=event_id)
                  .values_list("archive__name", flat=True)) == ["everything", "scheduled"]
