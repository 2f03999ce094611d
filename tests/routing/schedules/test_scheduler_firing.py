"""EventBridge Scheduler schedules fired under a controlled clock: a time-zone cron at local time
across a DST change, a one-time at() with ActionAfterCompletion=DELETE fires once and is gone,
rates start at once, start and end dates bound the firings, a flexible window moves each tick
inside it, and a tick is claimed once whoever fires it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from routing.errors import NotFound, ValidationError
from routing.models import Delivery, Event, EventBus, PendingRoute, Rule
from routing.publishers import Publisher
from routing.schedules.models import Schedule, ScheduleFiring
from routing.schedules.scheduler import ScheduleSpec, schedule_create, schedule_get, schedule_update
from routing.schedules.scheduler_firing import due_firings, firing_fire, scheduler_schedules_fire
from routing.schedules.targets import Creator, ScheduleTarget
from routing.selectors.traces import event_trace
from routing.services import Actor, bus_create, bus_ensure_default
from routing.services.delivery import deliveries_attempt
from tests.routing.schedules.test_firing import run_at_once

START = datetime(2027, 3, 26, 12, 0, 0, tzinfo=UTC)
STAFF = Creator(actor=Actor.system("test"), publisher=Publisher.service("test"))
HANDLER = ScheduleTarget(arn="arn:coffeeshop:handler:::tests.recorder", role_arn="",
                         kind="handler", address="tests.recorder")


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def create(expression: str, *, name: str = "tick", target: ScheduleTarget = HANDLER,
           **options: Any) -> Schedule:
    return schedule_create(spec=ScheduleSpec(name=name, expression=expression, target=target,
                                             **options), creator=STAFF)


def fired_ticks() -> list[datetime]:
    return list(ScheduleFiring.objects.order_by("tick_at").values_list("tick_at", flat=True))


def test_a_time_zone_cron_fires_at_local_time_across_a_dst_change(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    # Berlin moves from CET (UTC+1) to CEST (UTC+2) on Sunday 28 March 2027 at 02:00.
    create("cron(0 8 * * ? *)", timezone="Europe/Berlin")
    for day in (27, 28, 29):
        clock.move_to(datetime(2027, 3, day, 5, 59, tzinfo=UTC))
        before = len(fired_ticks())
        scheduler_schedules_fire()
        clock.move_to(datetime(2027, 3, day, 7, 30, tzinfo=UTC))
        scheduler_schedules_fire()
        assert len(fired_ticks()) == before + 1
    assert fired_ticks() == [
        datetime(2027, 3, 27, 7, 0, tzinfo=UTC),   # 08:00 CET
        datetime(2027, 3, 28, 6, 0, tzinfo=UTC),   # 08:00 CEST, the first day of summer time
        datetime(2027, 3, 29, 6, 0, tzinfo=UTC),
    ]


def test_a_cron_in_the_skipped_hour_does_not_fire_that_day(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    create("cron(30 2 * * ? *)", timezone="Europe/Berlin")
    clock.move_to(datetime(2027, 3, 29, 12, 0, tzinfo=UTC))
    scheduler_schedules_fire()
    clock.move_to(datetime(2027, 3, 29, 23, 0, tzinfo=UTC))
    assert scheduler_schedules_fire().fired == 0
    # 27 March 01:30Z (02:30 CET) fired as the missed one is not back-filled: only the latest.
    assert fired_ticks() == [datetime(2027, 3, 29, 0, 30, tzinfo=UTC)]
    assert ScheduleFiring.objects.get().missed_before == 1  # 27 March; 28 March has no 02:30


def test_a_cron_in_the_repeated_hour_fires_once_when_summer_time_ends(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    # Berlin, Sunday 31 October 2027: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice
    # (00:30 and 01:30 UTC). As AWS documents, the schedule fires at the first one only.
    clock.move_to(datetime(2027, 10, 30, 12, 0, tzinfo=UTC))
    create("cron(30 2 * * ? *)", timezone="Europe/Berlin")
    for moment in (datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
                   datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
                   datetime(2027, 10, 31, 2, 0, tzinfo=UTC),
                   datetime(2027, 11, 1, 1, 30, tzinfo=UTC)):
        clock.move_to(moment)
        scheduler_schedules_fire()
    assert fired_ticks() == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first of the two
        datetime(2027, 11, 1, 1, 30, tzinfo=UTC),   # 02:30 CET the next day
    ]
    assert list(ScheduleFiring.objects.values_list("missed_before", flat=True)) == [0, 0]


def test_a_one_time_schedule_with_delete_fires_once_and_is_gone(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    schedule = create("at(2027-03-26T14:30:00)", timezone="Europe/Lisbon",
                      action_after_completion="DELETE",
                      target=ScheduleTarget(arn=HANDLER.arn, role_arn="", kind="handler",
                                            address="tests.recorder", input='{"remind": 1}'))
    clock.move_to(datetime(2027, 3, 26, 14, 29, 59, tzinfo=UTC))  # Lisbon is on UTC in March
    assert scheduler_schedules_fire().fired == 0
    clock.move_to(datetime(2027, 3, 26, 14, 30, tzinfo=UTC))
    assert scheduler_schedules_fire().fired == 1
    clock.shift(timedelta(days=2))
    assert scheduler_schedules_fire().fired == 0

    firing = ScheduleFiring.objects.get()
    assert firing.tick_at == datetime(2027, 3, 26, 14, 30, tzinfo=UTC)
    with pytest.raises(NotFound):
        schedule_get(name="tick", group_name=None, actor=STAFF.actor)
    schedule.refresh_from_db()
    assert schedule.deleted_at is not None
    assert schedule.carrier_rule_id is not None
    rule = Rule.objects.get(pk=schedule.carrier_rule_id)
    assert rule.deleted_at is not None
    # The one firing is still delivered, with the schedule's Input.
    delivery = Delivery.objects.get()
    assert delivery.event_id == firing.event_id
    event = Event.objects.get(pk=firing.event_id)
    assert event.detail == {"input": {"remind": 1}}
    assert delivery.target.input_path == "$.detail.input"
    assert event.source == "aws.scheduler"
    assert event.resources == [schedule.arn]
    assert event.published_by == f"scheduler:{schedule.arn}"
    assert not PendingRoute.objects.filter(event=event).exists()


def test_a_late_firing_is_flagged_in_the_event_trace(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    schedule = create("cron(0/10 * * * ? *)")
    clock.shift(timedelta(hours=1, minutes=5))  # every firer was down for an hour
    assert scheduler_schedules_fire().fired == 1
    firing = ScheduleFiring.objects.get()
    assert event_trace(firing.event_id or uuid.uuid4())["schedule"] == {
        "schedule_arn": schedule.arn, "tick_at": "2027-03-26T13:00:00Z",
        "due_at": "2027-03-26T13:00:00Z", "late": True, "missed_before": 5}


def test_a_one_time_schedule_with_none_stays_and_fires_no_more(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    create("at(2027-03-26T13:00:00)")
    clock.shift(timedelta(hours=2))
    assert scheduler_schedules_fire().fired == 1
    clock.shift(timedelta(days=400))
    assert scheduler_schedules_fire().fired == 0
    assert schedule_get(name="tick", group_name=None, actor=STAFF.actor).deleted_at is None
    # Sent back as it was, with a new description: its past at() is no reason to refuse.
    schedule_update(spec=ScheduleSpec(name="tick", expression="at(2027-03-26T13:00:00)",
                                      target=HANDLER, description="done"), creator=STAFF)
    with pytest.raises(ValidationError, match="already past"):
        schedule_update(spec=ScheduleSpec(name="tick", expression="at(2027-03-26T14:00:00)",
                                          target=HANDLER), creator=STAFF)
    assert scheduler_schedules_fire().fired == 0


def test_a_rate_starts_at_once_and_stays_between_start_and_end_dates(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    create("rate(10 minutes)", name="now")
    create("rate(10 minutes)", name="later", start_date=START + timedelta(minutes=25),
           end_date=START + timedelta(minutes=50))
    for _ in range(8):
        scheduler_schedules_fire()
        clock.shift(timedelta(minutes=10))
    by_name: dict[str, list[datetime]] = {}
    for firing in ScheduleFiring.objects.select_related("schedule").order_by("tick_at"):
        by_name.setdefault(firing.schedule.name, []).append(firing.tick_at)
    assert by_name["now"] == [START + timedelta(minutes=10 * k) for k in range(8)]
    assert by_name["later"] == [START + timedelta(minutes=m) for m in (25, 35, 45)]


def test_a_flexible_window_moves_each_tick_inside_it(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    create("cron(0 * * * ? *)", flexible_mode="FLEXIBLE", window_minutes=15)
    offsets = []
    for hour in range(1, 9):
        tick = START + timedelta(hours=hour)
        clock.move_to(tick - timedelta(seconds=1))
        assert scheduler_schedules_fire().fired == 0
        for minute in range(16):
            clock.move_to(tick + timedelta(minutes=minute))
            if scheduler_schedules_fire().fired:
                break
        firing = ScheduleFiring.objects.get(tick_at=tick)
        assert tick <= firing.due_at < tick + timedelta(minutes=15)
        assert firing.fired_at >= firing.due_at
        offsets.append(firing.due_at - tick)
    assert len(set(offsets)) > 1  # spread, not one fixed delay


def test_two_firers_for_one_tick_fire_once(default_bus: EventBus, recorder: Any,
                                           clock: Any) -> None:
    create("rate(5 minutes)")
    seen_by_first = due_firings(now=START)
    seen_by_second = due_firings(now=START + timedelta(seconds=3))
    assert seen_by_first == seen_by_second
    assert firing_fire(*seen_by_first[0]) is True
    assert firing_fire(*seen_by_second[0]) is False
    assert ScheduleFiring.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_disabled_schedules_do_not_fire_and_enabling_does_not_back_fill(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    spec = ScheduleSpec(name="tick", expression="cron(0/5 * * * ? *)", target=HANDLER,
                        state="DISABLED")
    schedule_create(spec=spec, creator=STAFF)
    clock.shift(timedelta(minutes=32))
    assert scheduler_schedules_fire().fired == 0
    schedule_update(spec=ScheduleSpec(name="tick", expression=spec.expression, target=HANDLER),
                    creator=STAFF)
    assert scheduler_schedules_fire().fired == 0
    clock.shift(timedelta(minutes=3))
    assert scheduler_schedules_fire().fired == 1
    assert fired_ticks() == [START + timedelta(minutes=35)]


def test_a_bus_target_publishes_the_input_as_detail_to_that_bus(
    default_bus: EventBus, clock: Any
) -> None:
    bus_create(name="shop", actor=STAFF.actor)
    schedule = create("rate(1 hour)", target=ScheduleTarget(
        arn="arn:aws:events:us-east-1:000000000000:event-bus/shop", role_arn="", kind="bus",
        address="shop", input=json.dumps({"shop": 1}), event_source="shop.clock",
        event_detail_type="Opening Time"))
    assert scheduler_schedules_fire().fired == 1
    event = Event.objects.get(pk=ScheduleFiring.objects.get().event_id or uuid.uuid4())
    assert event.bus.name == "shop"
    envelope = event.envelope()
    assert (envelope["source"], envelope["detail-type"], envelope["detail"]) == (
        "shop.clock", "Opening Time", {"shop": 1})
    assert envelope["resources"] == [schedule.arn]
    assert envelope["time"] == "2027-03-26T12:00:00Z"
    assert event.published_by == f"scheduler:{schedule.arn}"
    assert PendingRoute.objects.filter(event=event).exists()  # routed by the bus's own rules
    assert schedule.carrier_rule is None


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="concurrent claims rest on PostgreSQL's unique index under "
                           "concurrency; SQLite runs one writer at a time "
                           "(run with DATABASE_URL=postgres://...)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_firers_on_postgresql_claim_each_tick_once(recorder: Any) -> None:
    bus_ensure_default()
    bus_create(name="shop", actor=STAFF.actor)
    bus_target = ScheduleTarget(
        arn="arn:aws:events:us-east-1:000000000000:event-bus/shop", role_arn="", kind="bus",
        address="shop", event_source="shop.clock", event_detail_type="Tick")
    with time_machine.travel(START, tick=False) as clock:
        for n in range(3):
            create("rate(5 minutes)", name=f"hook-{n}")
            create("rate(5 minutes)", name=f"bus-{n}", target=bus_target)
        clock.shift(timedelta(minutes=5))
        results = run_at_once([scheduler_schedules_fire for _ in range(4)])  # type: ignore[misc]
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.fired for r in results) == 6  # type: ignore[union-attr]
    assert ScheduleFiring.objects.count() == 6
    assert Event.objects.filter(source="aws.scheduler").count() == 3
    assert Event.objects.filter(bus__name="shop").count() == 3
    assert Delivery.objects.count() == 3


def test_a_handler_target_gets_the_input_from_the_scheduler(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    create("rate(1 hour)", target=ScheduleTarget(
        arn=HANDLER.arn, role_arn="", kind="handler", address="tests.recorder",
        input='{"reset": "counters"}'))
    assert scheduler_schedules_fire().fired == 1
    delivery = Delivery.objects.get()
    assert deliveries_attempt([str(delivery.pk)])[0].status == "succeeded"
    [(payload, context)] = recorder.calls
    assert payload == {"reset": "counters"}
    assert context.publisher.label == f"scheduler:{Schedule.objects.get().arn}"


def test_only_due_schedules_are_read_and_the_next_due_time_follows_each_firing(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    hourly = create("cron(0 * * * ? *)", name="hourly")
    later = create("rate(1 day)", name="later", start_date=START + timedelta(days=3))
    off = create("rate(1 day)", name="off", state="DISABLED")
    assert hourly.next_due_at == START + timedelta(hours=1)
    assert later.next_due_at == START + timedelta(days=3)
    assert off.next_due_at is None
    # A schedule not due is not even read: a broken one would not be noticed before its time.
    Schedule.objects.filter(pk=later.pk).update(expression="cron(broken)")
    clock.shift(timedelta(hours=1))
    assert [pk for pk, _ in due_firings(now=START + timedelta(hours=1))] == [hourly.pk]
    assert scheduler_schedules_fire().fired == 1
    hourly.refresh_from_db()
    assert hourly.next_due_at == START + timedelta(hours=2)


def test_context_attributes_in_the_input_are_replaced_at_each_firing(
    default_bus: EventBus, recorder: Any, clock: Any
) -> None:
    text = json.dumps({"arn": "<aws.scheduler.schedule-arn>",
                       "at": "<aws.scheduler.scheduled-time>",
                       "id": "<aws.scheduler.execution-id>",
                       "attempt": "<aws.scheduler.attempt-number>"})
    bus_create(name="shop", actor=STAFF.actor)
    to_bus = create("rate(1 hour)", name="to-bus", target=ScheduleTarget(
        arn="arn:aws:events:us-east-1:000000000000:event-bus/shop", role_arn="", kind="bus",
        address="shop", input=text, event_source="shop.clock", event_detail_type="Tick"))
    to_handler = create("rate(1 hour)", name="to-handler", target=ScheduleTarget(
        arn=HANDLER.arn, role_arn="", kind="handler", address="tests.recorder", input=text))
    clock.shift(timedelta(hours=1))
    assert scheduler_schedules_fire().fired == 2
    bus_firing = ScheduleFiring.objects.get(schedule=to_bus)
    bus_event = Event.objects.get(pk=bus_firing.event_id or uuid.uuid4())
    assert bus_event.detail == {"arn": to_bus.arn, "at": "2027-03-26T13:00:00Z",
                                "id": str(bus_event.pk),
                                "attempt": "<aws.scheduler.attempt-number>"}
    delivery = Delivery.objects.get()
    assert deliveries_attempt([str(delivery.pk)])[0].status == "succeeded"
    [(payload, _)] = recorder.calls
    assert payload == {"arn": to_handler.arn, "at": "2027-03-26T13:00:00Z",
                       "id": str(delivery.event_id),
                       "attempt": "<aws.scheduler.attempt-number>"}
