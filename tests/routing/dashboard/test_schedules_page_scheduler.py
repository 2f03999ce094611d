"""The Schedules page lists the EventBridge Scheduler's schedules as rows of their own kind, under a
controlled clock: the expression in words in its time zone, the next five firings as the firer
reckons them (local time, flexible offsets), the last firings with their deliveries, and
enable/disable through the Scheduler's services (enabling again does not back-fill)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from routing.models import Delivery, EventBus
from routing.publishers import Publisher
from routing.schedules.models import Schedule, ScheduleFiring, ScheduleState
from routing.schedules.scheduler import (
    Creator,
    ScheduleSpec,
    ScheduleTarget,
    schedule_create,
    timing_of,
)
from routing.schedules.scheduler_firing import scheduler_schedules_fire
from routing.selectors.schedules import schedule_rows
from routing.services import Actor, TargetSpec, bus_create, rule_put, targets_put
from routing.services.matching import route_events
from tests.routing.dashboard.test_rules_support import client_for, make_user

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 3, 7, 58, 0, tzinfo=UTC)  # a Thursday; Berlin is on CET (UTC+1)
PAGE = "/dashboard/schedules/"
STAFF = Creator(actor=Actor.system("test"), publisher=Publisher.service("test"))
HANDLER = ScheduleTarget(arn="arn:coffeeshop:handler:::tests.recorder", role_arn="",
                         kind="handler", address="tests.recorder")


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client() -> Client:
    return client_for(make_user("ops"))


def text_of(response: Any) -> str:
    """What a person reads: the page without its tags."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def create(expression: str, *, name: str = "opening", **options: Any) -> Schedule:
    return schedule_create(spec=ScheduleSpec(name=name, expression=expression, target=HANDLER,
                                             **options), creator=STAFF)


def schedule_row(schedule: Schedule) -> Any:
    [row] = schedule_rows(schedule_ids=[schedule.pk])
    return row


def test_a_schedule_is_a_row_of_its_own_kind_in_words_in_its_time_zone(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    rule_put(bus_name="default", name="nightly", event_pattern=None,
             schedule_expression="cron(0 2 * * ? *)", actor=actor)
    schedule = create("cron(0 8 ? * MON-FRI *)", timezone="Europe/Berlin")
    rows = schedule_rows()
    assert [(row.kind, row.label) for row in rows] == [("rule", "nightly"),
                                                       ("schedule", "default/opening")]
    row = rows[1]
    assert row.id == schedule.pk
    assert row.description == "every weekday at 08:00 Europe/Berlin"
    assert (row.target_kind, row.target_address) == ("handler", "tests.recorder")
    # 08:00 in Berlin is 07:00 UTC in December: today's has passed, the weekend is skipped.
    assert row.next_firings == tuple(datetime(2026, 12, day, 7, 0, tzinfo=UTC)
                                     for day in (4, 7, 8, 9, 10))
    response = client.get(PAGE)
    page, body = text_of(response), response.content.decode()
    assert "every weekday at 08:00 Europe/Berlin" in page
    assert "Scheduler schedule in group default → handler tests.recorder" in page
    assert "Fri 04 Dec 2026, 08:00:00 CET" in page  # shown in the schedule's own zone
    assert "Thu 10 Dec 2026, 08:00:00 CET" in page
    assert f'id="schedule-{schedule.pk}"' in body
    assert 'aria-label="Disable default/opening"' in body


def test_next_firings_follow_the_flexible_window_and_a_one_time_schedule(
        default_bus: EventBus, recorder: Any, clock: Any) -> None:
    flexible = create("rate(1 hour)", name="flexible", flexible_mode="FLEXIBLE",
                      window_minutes=15)
    timing = timing_of(flexible)
    ticks = [START + timedelta(hours=hours) for hours in range(6)]
    # The rate fired at its start; each next firing is its tick moved by the firer's offset.
    expected = sorted(tick + timing.offset(tick) for tick in ticks)
    expected = [moment for moment in expected if moment > START][:5]
    row = schedule_row(flexible)
    assert list(row.next_firings) == expected
    assert any(moment != moment.replace(minute=58, second=0, microsecond=0)
               for moment in row.next_firings)  # offsets really move them
    assert row.window_minutes == 15
    once = create("at(2026-12-24T18:00:00)", name="eve", timezone="Europe/Berlin",
                  action_after_completion="DELETE")
    row = schedule_row(once)
    assert row.description == "once, on 2026-12-24 at 18:00:00 Europe/Berlin"
    assert row.next_firings == (datetime(2026, 12, 24, 17, 0, tzinfo=UTC),)
    assert row.after_completion == "DELETE"


def test_the_last_firings_link_to_their_events_and_deliveries(
        default_bus: EventBus, recorder: Any, clock: Any, client: Client) -> None:
    schedule = create("rate(5 minutes)")
    assert scheduler_schedules_fire().fired == 1  # a rate fires at its start
    clock.shift(timedelta(minutes=5))
    assert scheduler_schedules_fire().fired == 1
    firings = list(ScheduleFiring.objects.filter(schedule=schedule).order_by("-tick_at"))
    row = schedule_row(schedule)
    assert [firing.tick_at for firing in row.last_firings] == [f.tick_at for f in firings]
    newest = firings[0]
    delivery = Delivery.objects.get(event_id=newest.event_id)
    assert [(d.id, d.target_id) for d in row.last_firings[0].deliveries] == [
        (delivery.id, "schedule")]
    body = client.get(PAGE).content.decode()
    assert f'href="/dashboard/events/{newest.event_id}/"' in body
    assert f'href="/dashboard/events/{newest.event_id}/#delivery-{delivery.id}"' in body
    # The next firing is the one after the newest tick, not one already fired.
    assert row.next_firings[0] == START + timedelta(minutes=10)


def test_disable_and_enable_through_the_scheduler_services_without_back_fill(
        default_bus: EventBus, recorder: Any, clock: Any, client: Client) -> None:
    schedule = create("rate(5 minutes)")
    assert scheduler_schedules_fire().fired == 1
    url = f"/dashboard/schedules/scheduler/{schedule.pk}/state"
    response = client.post(url, {"state": "DISABLED"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#schedule-{schedule.pk}")
    schedule.refresh_from_db()
    assert (schedule.state, schedule.next_due_at) == (ScheduleState.DISABLED, None)
    response = client.get(PAGE)
    page = text_of(response)
    assert "Schedule default/opening is disabled: it does not fire." in page
    assert "does not fire while disabled" in page
    assert 'aria-label="Enable default/opening"' in response.content.decode()

    clock.shift(timedelta(minutes=30))  # six ticks slept through
    assert scheduler_schedules_fire().fired == 0
    client.post(url, {"state": "ENABLED"})
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENABLED
    assert schedule.started_at == START + timedelta(minutes=30)
    assert "is enabled: it starts again from now" in text_of(client.get(PAGE))
    assert scheduler_schedules_fire().fired == 1  # the rate restarts now, once
    latest = ScheduleFiring.objects.filter(schedule=schedule).order_by("-tick_at").first()
    assert latest is not None
    assert (latest.tick_at, latest.missed_before) == (START + timedelta(minutes=30), 0)
    assert ScheduleFiring.objects.filter(schedule=schedule).count() == 2


def test_a_state_change_is_staff_only_and_checked(default_bus: EventBus, recorder: Any,
                                                  clock: Any, client: Client) -> None:
    schedule = create("rate(5 minutes)")
    url = f"/dashboard/schedules/scheduler/{schedule.pk}/state"
    guest = client_for(make_user("guest", staff=False))
    assert guest.post(url, {"state": "DISABLED"}).status_code == 403
    assert client.get(url).status_code == 405
    client.post(url, {"state": "ASLEEP"})
    schedule.refresh_from_db()
    assert schedule.state == ScheduleState.ENABLED
    assert "State must be one of ENABLED, DISABLED." in text_of(client.get(PAGE))
    assert client.post("/dashboard/schedules/scheduler/9999/state",
                       {"state": "DISABLED"}).status_code == 404


def test_a_deleted_schedule_leaves_the_page(default_bus: EventBus, recorder: Any, clock: Any,
                                            client: Client) -> None:
    once = create("at(2026-12-03T08:00:00)", name="once", action_after_completion="DELETE")
    assert 'data-schedule="default/once"' in client.get(PAGE).content.decode()
    clock.shift(timedelta(minutes=3))
    assert scheduler_schedules_fire().fired == 1
    assert not Schedule.objects.filter(pk=once.pk, deleted_at__isnull=True).exists()
    assert schedule_rows() == []
    assert "No scheduled rules or schedules yet." in text_of(client.get(PAGE))


def test_the_preview_takes_at_for_a_scheduler_schedule_only(default_bus: EventBus, clock: Any,
                                                            client: Client) -> None:
    preview = "/dashboard/schedules/preview"
    once = {"expression": "at(2026-12-24T18:00:00)", "timezone": "Europe/Berlin"}
    body = client.get(preview, {**once, "kind": "schedule"}).json()
    assert body["valid"] is True
    assert body["description"] == "once, on 2026-12-24 at 18:00:00 Europe/Berlin"
    assert body["next"] == ["2026-12-24T17:00:00Z"]
    refused = client.get(preview, once)  # a rule's expression, as before
    assert refused.status_code == 400
    assert refused.json()["reason"] == "the expression must be rate() or cron()"
    bad = client.get(preview, {**once, "kind": "queue"})
    assert bad.status_code == 400
    assert bad.json()["message"] == "kind must be one of rule, schedule."


def test_a_bus_target_schedule_shows_the_deliveries_of_that_bus_s_rules(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    bus_create(name="shop", actor=actor)
    listener = rule_put(bus_name="shop", name="clock", event_pattern={"source": ["shop.clock"]},
                        actor=actor)
    targets_put(rule=listener, targets=[TargetSpec("r", "handler", "tests.recorder")],
                actor=actor)
    schedule = schedule_create(spec=ScheduleSpec(name="bell", expression="rate(1 hour)",
                                                 target=ScheduleTarget(
        arn="arn:aws:events:us-east-1:000000000000:event-bus/shop", role_arn="", kind="bus",
        address="shop", input='{"shop": 1}', event_source="shop.clock",
        event_detail_type="Bell")), creator=STAFF)
    assert scheduler_schedules_fire().fired == 1
    firing = ScheduleFiring.objects.get(schedule=schedule)
    route_events([str(firing.event_id)])
    row = schedule_row(schedule)
    assert (row.target_kind, row.target_address) == ("bus", "shop")
    [delivery] = row.last_firings[0].deliveries
    assert (delivery.rule_name, delivery.target_id) == ("clock", "r")
    page = text_of(client.get(PAGE))
    assert "Scheduler schedule in group default → bus shop" in page
    assert "clock/r: pending" in page
