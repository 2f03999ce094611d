"""A delivery batch that outlives its Celery soft time limit, in a real worker: what succeeded
before the cut is never sent again, and everything else is still delivered."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.utils import timezone

from routing import dispatch
from routing.models import AttemptOutcome, Delivery, DeliveryStatus
from routing.services import put_events, route_events
from tests.integration.test_bus_delivery import make_order_entry, wait_until, webhook_rule
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SOFT_LIMIT = 3.0
# The hard limit kills the worker's child; the lease outlasts it, as routing's check requires.
HARD_LIMIT = 12.0
LEASE = 25.0  # well past the hard limit, so a slow machine never lets a running claim lapse
SLOW_REPLY = 10.0


def test_a_batch_cut_by_its_soft_time_limit_resends_nothing_that_succeeded(
    django_db_setup: None, webhook_server: WebhookServer
) -> None:
    from coffeeshop.celery import app

    target = webhook_rule("slow-screen", webhook_server, "/screen", webhook_timeout_seconds=20.0)
    published = put_events([make_order_entry(f"o-{n}") for n in range(8)],
                           publisher=TEST_PUBLISHER)
    route_events([entry["EventId"] for entry in published.entries])
    dispatch.flush()
    app.control.purge()  # only the database remembers these deliveries now
    ids = [str(pk) for pk in
           Delivery.objects.filter(target=target).order_by("created_at", "pk")
           .values_list("pk", flat=True)]
    assert len(ids) == 8
    Delivery.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())

    # The fourth and fifth answer slowly the first time: the batch is cut in the fourth's send.
    slow_once = {ids[3], ids[4]}
    answered: list[tuple[str, bool]] = []  # (idempotency key, answered slowly), in order
    lock = threading.Lock()

    def responder(request: ReceivedRequest) -> Reply:
        key = request.headers["idempotency-key"]
        with lock:
            slow = key in slow_once
            slow_once.discard(key)
            answered.append((key, slow))
        return Reply(200, delay_seconds=SLOW_REPLY if slow else 0.0)

    webhook_server.responder = responder
    worker = CeleryWorker(concurrency=2, with_beat=True, env={
        "CELERY_TASK_SOFT_TIME_LIMIT": str(SOFT_LIMIT),
        "CELERY_TASK_TIME_LIMIT": str(HARD_LIMIT),
        "ROUTING_RUNNING_LEASE_SECONDS": str(LEASE),
    }).start_and_wait()
    try:
        assert dispatch.send_deliver_batch(ids)
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SUCCEEDED).count()
            == len(ids),
            90, "every delivery of the batch to succeed",
        )
    finally:
        worker_log = worker.log()
        worker.stop()

    sent = Counter(key for key, _ in answered)
    for delivery_id in ids:
        quick = [slow for key, slow in answered if key == delivery_id]
        # A quick answer is a success the receiver completed: nothing may follow it.
        # (A slow answer may complete too, under load: only quick ones are surely successes.)
        assert False not in quick[:-1], f"delivery {ids.index(delivery_id)} re-sent: {quick}"
    # Where the soft limit lands depends on the machine's speed (the fourth delivery's slow send,
    # unless a loaded machine ran out of time earlier): find it from the attempts on record.
    outcomes = {delivery_id: [(a.outcome, a.error_code) for a in
                              Delivery.objects.get(pk=delivery_id).attempts.order_by("number")]
                for delivery_id in ids}
    cut = [n for n in range(len(ids))
           if (AttemptOutcome.FAILED, "TimeLimitExceeded") in outcomes[ids[n]]]
    assert cut or "cut short by SoftTimeLimitExceeded" in worker_log, (
        f"no batch was cut by its soft time limit: {outcomes}\n{worker_log[-6000:]}")
    for delivery in Delivery.objects.filter(pk__in=ids):
        attempts = list(delivery.attempts.all())
        # Every request the receiver saw is an attempt on record, and exactly one succeeded.
        assert sent[str(delivery.pk)] == len(attempts), delivery.pk
        assert [a.outcome for a in attempts].count(AttemptOutcome.SUCCEEDED) == 1
    # (A cut that landed in a database write rather than a send leaves no such attempt.)
    for n in range(cut[0] + 1 if cut else len(ids), len(ids)):
        if n not in cut:
            # Given back by the cut batch before it was started: sent once, by whoever took it.
            assert sent[ids[n]] == 1, f"delivery {n}, given back by the cut batch, was sent twice"
