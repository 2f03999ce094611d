"""A scheduled rule end to end, in real Celery worker and beat processes on real Redis: created,
given its webhook target and disabled with boto3's events client (against the real ASGI server),
it delivers AWS's scheduled event to a local webhook once per tick
while two beats run and one worker (with its beat) is SIGKILLed mid-run.

A test setting makes a schedule's minute 2 seconds long, so that rate(1 minute) ticks every 2 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from routing.aws.credentials import awscredential_create
from routing.models import Delivery, DeliveryStatus, Event, Rule, ScheduleTick
from tests.routing.aws.conftest import Credential, make_client
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.webhook_server import WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TICK_SECONDS = 2
SCHEDULE_ENV = {
    "ROUTING_SCHEDULE_MINUTE_SECONDS": str(TICK_SECONDS),
    "ROUTING_SCHEDULE_POLL_SECONDS": "0.5",
    "ROUTING_SWEEP_GRACE_SECONDS": "1",
    "ROUTING_RUNNING_LEASE_SECONDS": "4",
}


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def credential(transactional_db: None) -> Credential:
    row, secret = awscredential_create(name="schedules")
    return Credential(row.access_key_id, secret)


def test_a_scheduled_rule_fires_once_per_tick_under_two_beats_and_a_killed_worker(
    asgi_server: AsgiServer, credential: Credential, webhook_server: WebhookServer
) -> None:
    first = CeleryWorker(concurrency=2, with_beat=True, env=SCHEDULE_ENV).start_and_wait()
    second = CeleryWorker(concurrency=2, with_beat=True, env=SCHEDULE_ENV).start_and_wait()
    try:
        events: Any = make_client(asgi_server.url + "/aws/events", credential)
        events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
        put = events.put_targets(Rule="every-minute", Targets=[
            {"Id": "hook", "Arn": webhook_server.url + "/tick"}])
        assert put["FailedEntryCount"] == 0, put
        rule = Rule.objects.get(name="every-minute")
        webhook_server.wait_for(3, path="/tick", timeout=60)
        first.kill_hard()  # mid-run: its beat and its tasks die with it
        fired_before_kill = ScheduleTick.objects.filter(rule=rule).count()
        wait_until(lambda: ScheduleTick.objects.filter(rule=rule).count() >= fired_before_kill + 4,
                   60, "four more ticks from the surviving beat and worker")
        events.disable_rule(Name="every-minute")
        assert events.describe_rule(Name="every-minute")["State"] == "DISABLED"
        time.sleep(TICK_SECONDS)  # a firing that started before the disable commits or not
        ticks = list(ScheduleTick.objects.filter(rule=rule).order_by("tick_at"))
        wait_until(lambda: Delivery.objects.filter(
            event_id__in=[t.event_id for t in ticks], status=DeliveryStatus.SUCCEEDED,
        ).count() == len(ticks), 60, "every tick's delivery to succeed")
    finally:
        first.stop()
        second.stop()

    period = timedelta(seconds=TICK_SECONDS)
    # One row per tick; consecutive ticks, none skipped, none late.
    assert len(ticks) >= fired_before_kill + 4 >= 7
    offsets = [(t.tick_at - ticks[0].tick_at) / period for t in ticks]
    assert offsets == list(range(len(ticks))), offsets
    assert [t.missed_before for t in ticks] == [0] * len(ticks)
    # One event per tick, shaped as AWS's scheduled event, and the webhook got each of them
    # (delivery is at least once, as in EventBridge: a copy may arrive twice, an event once).
    scheduled = Event.objects.filter(source="aws.events")
    assert sorted(str(e.pk) for e in scheduled) == sorted(str(t.event_id) for t in ticks)
    bodies = [json.loads(r.body) for r in webhook_server.received("/tick")]
    assert {body["id"] for body in bodies} == {str(t.event_id) for t in ticks}
    for body in bodies:
        assert body["source"] == "aws.events"
        assert body["detail-type"] == "Scheduled Event"
        assert body["resources"] == [rule.arn]
        assert body["detail"] == {}
    by_id = {str(t.event_id): t for t in ticks}
    for body in bodies:
        fired_for = by_id[body["id"]].tick_at
        assert body["time"] == fired_for.strftime("%Y-%m-%dT%H:%M:%SZ")
