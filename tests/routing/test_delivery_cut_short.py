"""A delivery batch records each outcome as it is known, and a batch cut short (Celery's soft
time limit) keeps what it did, gives back what it did not start, and lets the cut through.
In-process, with the real broker's queue read back; tests/integration runs it in a worker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from routing import dispatch, handlers, task_names
from routing.handlers import HandlerContext, register_handler
from routing.models import AttemptOutcome, Delivery, DeliveryStatus, EventBus
from routing.services import (
    Actor,
    TargetSpec,
    event_publish,
    route_events,
    rule_put,
    sweep,
    targets_put,
)
from routing.services.delivery import deliveries_attempt
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db


def queued_messages(queue: str = "celery") -> list[tuple[str, list[Any]]]:
    """(task name, args) of every message waiting in one of the broker's queues."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    messages = []
    for item in reversed(raw):  # kombu pushes on the left
        message = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], args))
    return messages


@pytest.fixture
def empty_queue() -> Iterator[None]:
    from coffeeshop.celery import app

    dispatch.flush()
    app.control.purge()
    yield
    app.control.purge()


class Handler:
    """Records what it is called with, and can play the soft time limit on one call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.seen_settled: list[list[str]] = []
        self.cut_on_call: int | None = None

    def __call__(self, payload: Any, context: HandlerContext) -> None:
        self.calls.append(context.delivery_id)
        # What the database says about the deliveries attempted before this one.
        self.seen_settled.append(sorted(str(pk) for pk in Delivery.objects.filter(
            pk__in=self.calls[:-1], status=DeliveryStatus.SUCCEEDED).values_list("pk", flat=True)))
        if self.cut_on_call == len(self.calls):
            raise SoftTimeLimitExceeded


@pytest.fixture
def handler() -> Iterator[Handler]:
    recording = Handler()
    register_handler("tests.cut")(recording)
    yield recording
    handlers._handlers.pop("tests.cut", None)


@pytest.fixture
def five_deliveries(default_bus: EventBus, actor: Actor, handler: Handler) -> list[str]:
    rule = rule_put(bus_name="default", name="cut", event_pattern={"source": ["shop"]},
                    actor=actor)
    targets_put(rule=rule, actor=actor, targets=[TargetSpec("cut", "handler", "tests.cut")])
    events = [event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="T",
                             detail={"n": n}) for n in range(5)]
    result = route_events([str(event.pk) for event in events])
    assert len(result.deliver_now) == 5
    return list(result.deliver_now)


def test_each_outcome_is_recorded_before_the_next_attempt(five_deliveries, handler) -> None:
    reports = deliveries_attempt(five_deliveries)
    assert [report.status for report in reports] == [DeliveryStatus.SUCCEEDED] * 5
    assert handler.calls == five_deliveries
    for n, settled in enumerate(handler.seen_settled):
        assert settled == sorted(five_deliveries[:n])


def test_a_cut_batch_keeps_what_it_did_and_gives_back_what_it_did_not_start(
    five_deliveries, handler, empty_queue, django_capture_on_commit_callbacks
) -> None:
    handler.cut_on_call = 3
    with (django_capture_on_commit_callbacks(execute=True),
          pytest.raises(SoftTimeLimitExceeded)):
        deliveries_attempt(five_deliveries)
    done, cut, untouched = five_deliveries[:2], five_deliveries[2], five_deliveries[3:]
    by_id = {str(d.pk): d for d in Delivery.objects.filter(pk__in=five_deliveries)}

    for delivery_id in done:
        assert by_id[delivery_id].status == DeliveryStatus.SUCCEEDED
        assert [a.outcome for a in by_id[delivery_id].attempts.all()] == [AttemptOutcome.SUCCEEDED]

    in_flight = by_id[cut]
    assert in_flight.status == DeliveryStatus.PENDING
    assert in_flight.next_attempt_at > timezone.now() - timedelta(seconds=1)
    [attempt] = in_flight.attempts.all()
    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.FAILED, "TimeLimitExceeded")

    for delivery_id in untouched:
        delivery = by_id[delivery_id]
        assert (delivery.status, delivery.claim_token, delivery.attempt_count) == (
            DeliveryStatus.PENDING, "", 0), "a delivery never started keeps its claim or count"
        assert not delivery.attempts.exists()

    # Sent again at once, not after the lease: the rest as a batch, the one cut as a retry.
    dispatch.flush()
    assert queued_messages() == [(task_names.DELIVER_BATCH_TASK, [untouched])]
    assert queued_messages(dispatch.RETRY_QUEUE) == [(task_names.DELIVER_TASK, [cut])]
    assert [r.status for r in deliveries_attempt(untouched)] == [DeliveryStatus.SUCCEEDED] * 2
    assert handler.calls == five_deliveries  # nothing that succeeded was attempted again


def test_the_sweeper_sends_webhooks_one_per_message_and_fast_targets_in_batches(
    default_bus: EventBus, actor: Actor, handler: Handler, empty_queue: None, settings
) -> None:
    settings.ROUTING_SWEEP_GRACE_SECONDS = 0
    rule = rule_put(bus_name="default", name="mixed", event_pattern={"source": ["shop"]},
                    actor=actor)
    targets_put(rule=rule, actor=actor, targets=[
        TargetSpec("screen", "webhook", "http://127.0.0.1:9/screen"),
        TargetSpec("cut", "handler", "tests.cut"),
    ])
    events = [event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="T",
                             detail={"n": n}) for n in range(3)]
    route_events([str(event.pk) for event in events])
    Delivery.objects.update(enqueued_at=timezone.now() - timedelta(minutes=1))

    assert sweep().deliveries_requeued == 6
    webhooks = {str(pk) for pk in Delivery.objects.filter(target__kind="webhook")
                .values_list("pk", flat=True)}
    fast = {str(pk) for pk in Delivery.objects.filter(target__kind="handler")
            .values_list("pk", flat=True)}
    messages = queued_messages()
    singles = [args for name, args in messages if name == task_names.DELIVER_TASK]
    batches = [args for name, args in messages if name == task_names.DELIVER_BATCH_TASK]
    assert sorted(singles) == sorted([[delivery_id] for delivery_id in webhooks])
    assert [set(args[0]) for args in batches] == [fast]
    assert len(messages) == 4
