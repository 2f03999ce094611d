"""Archive and replay end to end in real Celery workers on real Redis: events archived as they
are routed, a replay delivered to a webhook with `replay-name` and never archived again, and a
replay whose worker and queue messages were lost finished by the resume job without duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from routing import dispatch
from routing.models import (
    ArchivedEvent,
    Delivery,
    DeliveryStatus,
    Event,
    PendingRoute,
    Replay,
    ReplayState,
)
from routing.rule_cache import forget_compiled_buses
from routing.services import Actor, TargetSpec, put_events, route_events, rule_put, targets_put
from routing.services.archives import archive_create
from routing.services.publish import EventEntry, events_store
from routing.services.replays import replay_run, replay_start
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("test")
PATTERN = {"source": ["shop"], "detail-type": ["OrderPlaced"]}


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def flush_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    client.close()


def order_entry(order_id: str) -> dict[str, str]:
    return {"Source": "shop", "DetailType": "OrderPlaced",
            "Detail": json.dumps({"orderId": order_id})}


# First in this module: it needs no module-wide worker running while its messages are lost.
def test_resume_job_finishes_a_replay_whose_worker_and_messages_were_lost(
    django_db_setup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This process routes too; what it compiled for earlier tests' (rolled back) rows is stale.
    forget_compiled_buses()
    archive_create(name="everything", bus_name="default", actor=ACTOR)
    started = timezone.now()
    events = events_store(
        entries=[EventEntry(source="shop", detail_type="OrderPlaced", detail={"n": n})
                 for n in range(250)],
        publisher=TEST_PUBLISHER,
    )
    route_events([str(event.pk) for event in events])  # archived here, with no worker running
    assert ArchivedEvent.objects.count() == 250

    # A first run gets one batch done, then its worker "dies": the continuation is never sent.
    monkeypatch.setattr(dispatch, "send_replay", lambda replay_id: False)
    replay = replay_start(name="lost-and-found", archive_name="everything",
                          event_start_time=started - timedelta(seconds=1),
                          event_end_time=timezone.now(), actor=ACTOR)
    report = replay_run(replay_id=replay.pk, batch_size=100, max_seconds=0)
    assert (report.replayed, report.continuing) == (100, True)
    monkeypatch.undo()
    flush_redis()  # and every other queued message is gone too
    Replay.objects.filter(pk=replay.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    worker = CeleryWorker(with_beat=True, env={"ROUTING_SWEEP_GRACE_SECONDS": "1"})
    worker.start_and_wait()
    try:
        wait_until(lambda: Replay.objects.get(pk=replay.pk).state == ReplayState.COMPLETED,
                   60, "the resume job to finish the replay")
        wait_until(lambda: not PendingRoute.objects.exists(), 60,
                   "the sweeper to route every replayed event")
    finally:
        worker.stop()

    replay.refresh_from_db()
    assert (replay.replayed_events, replay.total_events) == (250, 250)
    copies = Event.objects.filter(replay_name="lost-and-found")
    assert copies.count() == 250
    assert sorted(copies.values_list("detail__n", flat=True)) == list(range(250))
    assert ArchivedEvent.objects.count() == 250  # replayed events are not archived again


def test_replay_reaches_the_filtered_rule_once_with_replay_name_and_is_not_archived(
    celery_worker: CeleryWorker, webhook_server: WebhookServer
) -> None:
    for name in ("screen", "kitchen"):
        rule = rule_put(bus_name="default", name=name, event_pattern=PATTERN, actor=ACTOR)
        assert not targets_put(rule=rule, actor=ACTOR, targets=[
            TargetSpec(target_id=name, kind="webhook", address=f"{webhook_server.url}/{name}")
        ])
    archive_create(name="orders", bus_name="default", event_pattern=PATTERN, retention_days=7,
                   actor=ACTOR)
    window_start = timezone.now() - timedelta(seconds=1)
    result = put_events([order_entry(f"o-{n}") for n in range(5)], publisher=TEST_PUBLISHER)
    originals = {entry["EventId"] for entry in result.entries}
    webhook_server.wait_for(5, path="/screen")
    webhook_server.wait_for(5, path="/kitchen")
    wait_until(lambda: ArchivedEvent.objects.count() == 5, 10, "the events to be archived")

    replay = replay_start(name="screen-again", archive_name="orders",
                          event_start_time=window_start, event_end_time=timezone.now(),
                          filter_rule_names=["screen"], actor=ACTOR)
    assert replay.state == ReplayState.STARTING
    wait_until(lambda: Replay.objects.get(pk=replay.pk).state == ReplayState.COMPLETED,
               20, "the replay to complete")
    requests = webhook_server.wait_for(10, path="/screen")
    wait_until(
        lambda: Delivery.objects.filter(event__replay_name="screen-again",
                                        status=DeliveryStatus.SUCCEEDED).count() == 5,
        20, "the replayed deliveries to succeed",
    )

    replayed_bodies = [json.loads(r.body) for r in requests if b"replay-name" in r.body]
    assert len(replayed_bodies) == 5
    assert {body["replay-name"] for body in replayed_bodies} == {"screen-again"}
    assert {body["detail"]["orderId"] for body in replayed_bodies} == {f"o-{n}" for n in range(5)}
    assert not {body["id"] for body in replayed_bodies} & originals  # new ids
    assert len(webhook_server.received("/screen")) == 10  # each replayed event exactly once
    assert len(webhook_server.received("/kitchen")) == 5  # not among the filter rules
    assert not PendingRoute.objects.exists()
    assert ArchivedEvent.objects.count() == 5  # replayed events are never archived

    replay.refresh_from_db()
    last_original = Event.objects.filter(pk__in=originals).order_by("-time").first()
    assert last_original is not None
    assert (replay.total_events, replay.replayed_events) == (5, 5)
    assert replay.event_last_replayed_time == last_original.time
    assert replay.started_at is not None
    assert replay.ended_at is not None
    assert replay.created_at <= replay.started_at <= replay.ended_at
