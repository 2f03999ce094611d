"""EventBridge Scheduler schedules end to end, in real Celery worker and beat processes on real
Redis: created with boto3's scheduler client, a webhook schedule and a bus schedule (PutEvents to
a bus whose rule sends to a webhook) each deliver once per tick while two beats run and one
worker (with its beat) is SIGKILLed mid-run.

A test setting makes a schedule's minute 2 seconds long, so that rate(1 minute) ticks every 2 s.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from routing.aws.credentials import awscredential_create
from routing.models import ACCOUNT_ID, Delivery, DeliveryStatus, Event, region
from routing.schedules.models import Schedule, ScheduleFiring
from routing.services import Actor, TargetSpec, bus_create, rule_put, targets_put
from tests.integration.test_schedules import SCHEDULE_ENV, TICK_SECONDS, wait_until
from tests.routing.aws.conftest import Credential
from tests.routing.aws.test_scheduler_boto3 import ROLE, scheduler_client
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.webhook_server import WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def credential(transactional_db: None) -> Credential:
    row, secret = awscredential_create(name="scheduler")
    return Credential(row.access_key_id, secret)


def firings(name: str) -> list[ScheduleFiring]:
    return list(ScheduleFiring.objects.filter(schedule__name=name).order_by("tick_at"))


def assert_consecutive(ticks: list[ScheduleFiring]) -> None:
    period = timedelta(seconds=TICK_SECONDS)
    offsets = [(t.tick_at - ticks[0].tick_at) / period for t in ticks]
    assert offsets == list(range(len(ticks))), offsets
    assert [t.missed_before for t in ticks] == [0] * len(ticks)


@pytest.mark.timeout(240)
def test_schedules_fire_once_per_tick_under_two_beats_and_a_killed_worker(
    asgi_server: AsgiServer, credential: Credential, webhook_server: WebhookServer
) -> None:
    actor = Actor.system("test")
    bus_create(name="shop", actor=actor)
    listener = rule_put(bus_name="shop", name="clock", event_pattern={"source": ["shop.clock"]},
                        actor=actor)
    targets_put(rule=listener, actor=actor, targets=[
        TargetSpec(target_id="hook", kind="webhook", address=webhook_server.url + "/bus")])
    first = CeleryWorker(concurrency=2, with_beat=True, env=SCHEDULE_ENV).start_and_wait()
    second = CeleryWorker(concurrency=2, with_beat=True, env=SCHEDULE_ENV).start_and_wait()
    scheduler: Any = scheduler_client(asgi_server, credential)
    common: dict[str, Any] = {"ScheduleExpression": "rate(1 minute)",
                              "FlexibleTimeWindow": {"Mode": "OFF"}}
    bus_target = {"Arn": f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/shop",
                  "RoleArn": ROLE, "Input": json.dumps({"shop": 1}),
                  "EventBridgeParameters": {"Source": "shop.clock", "DetailType": "Tick"}}
    hook_target = {"Arn": webhook_server.url + "/hook", "RoleArn": ROLE}
    try:
        scheduler.create_schedule(Name="hook", Target=hook_target, **common)
        scheduler.create_schedule(Name="bus", Target=bus_target, **common)
        # Three ticks claimed (not three requests received: a retried delivery is a request too).
        wait_until(lambda: len(firings("hook")) >= 3, 60, "three ticks before the kill")
        first.kill_hard()  # mid-run: its beat and its tasks die with it
        before_kill = len(firings("hook"))
        wait_until(lambda: len(firings("hook")) >= before_kill + 4, 60,
                   "four more ticks from the surviving beat and worker")
        for name, target in (("hook", hook_target), ("bus", bus_target)):
            scheduler.update_schedule(Name=name, Target=target, State="DISABLED", **common)
        time.sleep(TICK_SECONDS)  # a firing that started before the disable commits or not
        hook_ticks, bus_ticks = firings("hook"), firings("bus")
        hook_events = [t.event_id for t in hook_ticks]
        wait_until(lambda: Delivery.objects.filter(
            event_id__in=hook_events, status=DeliveryStatus.SUCCEEDED).count() == len(hook_ticks),
            60, "every webhook tick's delivery to succeed")
        wait_until(lambda: Delivery.objects.filter(
            event_id__in=[t.event_id for t in bus_ticks],
            status=DeliveryStatus.SUCCEEDED).count() == len(bus_ticks),
            60, "every bus tick's event to be routed and delivered")
    finally:
        first.stop()
        second.stop()

    assert len(hook_ticks) >= before_kill + 4 >= 7
    # Created just after the webhook schedule and disabled with it: a tick or two fewer, or more.
    assert len(bus_ticks) >= len(hook_ticks) - 2 >= 5
    assert_consecutive(hook_ticks)
    assert_consecutive(bus_ticks)
    hook = Schedule.objects.get(name="hook")
    # One event per tick; the webhook got each (at least once, as AWS delivers), no other.
    bodies = [json.loads(r.body) for r in webhook_server.received("/hook")]
    assert {body["id"] for body in bodies} == {str(event_id) for event_id in hook_events}
    by_id = {str(t.event_id): t for t in hook_ticks}
    for body in bodies:
        assert body["source"] == "aws.scheduler"
        assert body["resources"] == [hook.arn]
        assert body["time"] == by_id[body["id"]].tick_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    bus_events = Event.objects.filter(bus__name="shop")
    assert sorted(str(e.pk) for e in bus_events) == sorted(str(t.event_id) for t in bus_ticks)
    routed = [json.loads(r.body) for r in webhook_server.received("/bus")]
    assert {body["id"] for body in routed} == {str(t.event_id) for t in bus_ticks}
    for body in routed:
        assert (body["source"], body["detail-type"], body["detail"]) == (
            "shop.clock", "Tick", {"shop": 1})
