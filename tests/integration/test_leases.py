"""A worker SIGKILLed in the middle of a batch, in real processes: the deliveries it had not
started were never claimed, so another worker delivers them long before the old fixed 120 s
lease; the one it was sending is taken back after its own lease; nothing that succeeded is sent
again."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.utils import timezone

from routing import dispatch
from routing.models import AttemptOutcome, Delivery, DeliveryStatus
from routing.services import put_events, route_events
from tests.integration.test_bus_delivery import make_order_entry, wait_until, webhook_rule
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

COUNT = 8
REPLY_SECONDS = 1.0


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_batch_holds_up_only_the_delivery_it_was_sending(
    django_db_setup: None, webhook_server: WebhookServer
) -> None:
    from coffeeshop.celery import app
    from routing.rule_cache import forget_compiled_buses

    forget_compiled_buses()  # a bus version an earlier test rolled back is no guide here

    webhook_server.responder = lambda request: Reply(200, delay_seconds=REPLY_SECONDS)
    # Its lease: the floor (ROUTING_LEASE_MIN_SECONDS, 10 s), twice this time-out being less.
    target = webhook_rule("kill-screen", webhook_server, "/screen", webhook_timeout_seconds=3.0)
    published = put_events([make_order_entry(f"o-{n}") for n in range(COUNT)],
                           publisher=TEST_PUBLISHER)
    route_events([entry["EventId"] for entry in published.entries])
    dispatch.flush()
    app.control.purge()  # only the batch below carries these deliveries
    ids = [str(pk) for pk in Delivery.objects.filter(target=target)
           .order_by("created_at", "pk").values_list("pk", flat=True)]
    assert len(ids) == COUNT
    Delivery.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())

    first = CeleryWorker(concurrency=1).start_and_wait()
    try:
        assert dispatch.send_deliver_batch(ids)
        try:
            webhook_server.wait_for(3, timeout=60)
        except AssertionError as error:
            raise AssertionError(f"{error}; the worker's log:\n{first.log()[-6000:]}") from None
        time.sleep(REPLY_SECONDS / 2)  # inside the third send
        first.kill_hard()
    finally:
        first.stop()
    killed_at = time.monotonic()
    succeeded = {str(pk) for pk in Delivery.objects.filter(
        pk__in=ids, status=DeliveryStatus.SUCCEEDED).values_list("pk", flat=True)}
    running = {str(pk) for pk in Delivery.objects.filter(
        pk__in=ids, status=DeliveryStatus.RUNNING).values_list("pk", flat=True)}
    reached = {r.headers["idempotency-key"] for r in webhook_server.received()}
    never_started = [delivery_id for delivery_id in ids if delivery_id not in reached]
    assert len(running) <= 1, "a dead worker holds claims it never started"
    assert never_started, "the kill came too late to test anything"
    assert Delivery.objects.filter(pk__in=never_started, status=DeliveryStatus.PENDING,
                                   attempt_count=0).count() == len(never_started)

    # The sweeper sends the lost message's deliveries again after its grace period, and takes
    # back the claim of the one being sent once its lease runs out.
    second = CeleryWorker(concurrency=2, with_beat=True,
                          env={"ROUTING_SWEEP_GRACE_SECONDS": "5"}).start_and_wait()
    try:
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SUCCEEDED).count()
            == COUNT,
            75, "every delivery to succeed, well before the old 120 s lease",
        )
    finally:
        second.stop()
    recovered_in = time.monotonic() - killed_at

    sent = Counter(r.headers["idempotency-key"] for r in webhook_server.received())
    for delivery_id in succeeded:
        assert sent[delivery_id] == 1, "a delivery that had succeeded was sent again"
    for delivery_id in never_started:
        assert sent[delivery_id] == 1
        assert [a.outcome for a in Delivery.objects.get(pk=delivery_id).attempts.all()] == [
            AttemptOutcome.SUCCEEDED], "a delivery never started was recorded as lost"
    for delivery_id in running:
        outcomes = [a.outcome for a in Delivery.objects.get(pk=delivery_id).attempts.all()]
        assert outcomes == [AttemptOutcome.LOST, AttemptOutcome.SUCCEEDED]
    print(f"all {COUNT} delivered {recovered_in:.1f} s after the kill")
