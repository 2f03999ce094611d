"""The bus end to end, in real Celery worker processes on real Redis: publish → route → deliver
to a local webhook; retries on schedule; dead letters; redrive; and surviving a killed worker
and a flushed Redis without losing a delivery."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable

import pytest
import redis
from django.conf import settings

from routing.models import AttemptOutcome, Delivery, DeliveryStatus, PendingRoute, Target
from routing.services import (
    Actor,
    TargetSpec,
    deliveries_redrive,
    put_events,
    rule_put,
    targets_put,
)
from routing.targets.webhook import SIGNATURE_HEADER, verify_signature
from routing.transform.target_input import InputTransformer, TargetInput
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("test")
PATTERN = {
    "source": ["coffee.till"],
    "detail-type": ["OrderManager.MakeOrder"],
}


def make_order_entry(order_id: str) -> dict[str, str]:
    return {
        "Source": "coffee.till",
        "DetailType": "OrderManager.MakeOrder",
        "Detail": json.dumps({"orderId": order_id, "drink": "Latte", "userId": "u-7"}),
    }


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def webhook_rule(name: str, server: WebhookServer, path: str, **spec: object) -> Target:
    rule = rule_put(bus_name="default", name=name, event_pattern=PATTERN, actor=ACTOR)
    failures = targets_put(rule=rule, actor=ACTOR, targets=[
        TargetSpec(target_id=name, kind="webhook", address=server.url + path, **spec)  # type: ignore[arg-type]
    ])
    assert not failures
    return Target.objects.get(rule=rule, deleted_at__isnull=True)


def test_published_event_reaches_a_webhook_signed_and_transformed(
    celery_worker: CeleryWorker, webhook_server: WebhookServer
) -> None:
    target = webhook_rule("barista-screen", webhook_server, "/orders", target_input=TargetInput(
        input_transformer=InputTransformer(
            input_paths_map={"order": "$.detail.orderId", "drink": "$.detail.drink"},
            input_template='{"text": "Make a <drink> for order <order>", "order": <order>, '
                           '"rule": <aws.events.rule-name>}',
        )))
    result = put_events([make_order_entry("o-42")], publisher=TEST_PUBLISHER)
    event_id = result.entries[0]["EventId"]

    [request] = webhook_server.wait_for(1, path="/orders")
    assert json.loads(request.body) == {
        "text": "Make a Latte for order o-42", "order": "o-42", "rule": "barista-screen"
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-coffeeshop-event-id"] == event_id
    assert verify_signature(target.signing_secret, request.headers[SIGNATURE_HEADER.lower()],
                            request.body)
    assert not verify_signature("another-secret", request.headers[SIGNATURE_HEADER.lower()],
                                request.body)
    delivery = Delivery.objects.get(event_id=event_id, target=target)
    assert request.headers["idempotency-key"] == str(delivery.pk)
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED,
               10, "the delivery to be recorded as succeeded")
    [attempt] = Delivery.objects.get(pk=delivery.pk).attempts.all()
    assert attempt.outcome == AttemptOutcome.SUCCEEDED
    assert attempt.response_status == 200
    assert attempt.latency_ms > 0


def test_failing_webhook_is_retried_on_schedule_then_dead_lettered_then_redriven(
    celery_worker: CeleryWorker, webhook_server: WebhookServer
) -> None:
    healthy = {"yes": False}

    def respond(request: ReceivedRequest) -> Reply:
        return Reply(200) if healthy["yes"] else Reply(503, b"kitchen on fire")

    webhook_server.responder = respond
    target = webhook_rule("flaky", webhook_server, "/flaky", max_retry_attempts=3)
    event_id = put_events([make_order_entry("o-7")], publisher=TEST_PUBLISHER).entries[0]["EventId"]
    wait_until(lambda: Delivery.objects.filter(event_id=event_id, target=target).exists(),
               10, "the event to be routed")
    delivery = Delivery.objects.get(event_id=event_id, target=target)

    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DEAD,
               30, "the delivery to be dead-lettered")
    delivery.refresh_from_db()
    assert delivery.exhausted_condition == "MaximumRetryAttempts"
    assert delivery.last_error_code == "HTTP503"
    assert "kitchen on fire" in delivery.last_error
    attempts = list(delivery.attempts.all())
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED] * 4
    assert [a.response_status for a in attempts] == [503] * 4
    # On schedule: each wait is at least half the exponential step (equal jitter).
    received = [r.received_at for r in webhook_server.received("/flaky")]
    assert len(received) == 4
    base = settings.ROUTING_RETRY_BASE_SECONDS
    for retry, (earlier, later) in enumerate(itertools.pairwise(received), start=1):
        assert later - earlier >= base * 2 ** (retry - 1) / 2 * 0.9

    healthy["yes"] = True
    assert deliveries_redrive(delivery_ids=[str(delivery.pk)]) == [str(delivery.pk)]
    wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED,
               15, "the redriven delivery to succeed")
    last = Delivery.objects.get(pk=delivery.pk).attempts.last()
    assert last is not None
    assert (last.number, last.outcome) == (5, AttemptOutcome.SUCCEEDED)
    keys = {r.headers["idempotency-key"] for r in webhook_server.received("/flaky")}
    assert keys == {str(delivery.pk)}


def test_killed_worker_and_flushed_redis_lose_nothing(
    django_db_setup: None, webhook_server: WebhookServer
) -> None:
    # Slow receivers, so that deliveries are in flight when the worker is killed.
    webhook_server.responder = lambda request: Reply(200, delay_seconds=0.2)
    targets = [webhook_rule(f"screen-{n}", webhook_server, f"/screen-{n}") for n in range(2)]
    sweeper_env = {"ROUTING_SWEEP_GRACE_SECONDS": "1", "ROUTING_RUNNING_LEASE_SECONDS": "4"}

    first = CeleryWorker(concurrency=2, with_beat=True, env=sweeper_env).start_and_wait()
    try:
        published = []
        for batch in range(3):
            entries = [make_order_entry(f"o-{batch}-{n}") for n in range(10)]
            published += put_events(entries, publisher=TEST_PUBLISHER).entries
        webhook_server.wait_for(4, timeout=30)
        first.kill_hard()
    finally:
        first.stop()
    unfinished = Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).count()
    assert unfinished or PendingRoute.objects.exists(), "the kill came too late to test anything"

    # Published while no worker runs, then every queued message is wiped out.
    published += put_events([make_order_entry(f"late-{n}") for n in range(10)],
                            publisher=TEST_PUBLISHER).entries
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    client.close()
    assert PendingRoute.objects.count() >= 10  # only the database remembers these now

    second = CeleryWorker(concurrency=2, with_beat=True, env=sweeper_env).start_and_wait()
    try:
        expected = len(published) * len(targets)
        wait_until(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == expected,
            120, f"all {expected} deliveries to succeed",
        )
    finally:
        second.stop()

    deliveries = Delivery.objects.filter(target__in=targets)
    assert deliveries.count() == expected
    assert {str(d.event_id) for d in deliveries} == {e["EventId"] for e in published}
    received_keys = {r.headers["idempotency-key"] for r in webhook_server.received()}
    assert received_keys == {str(d.pk) for d in deliveries}, "a delivery never reached its target"
