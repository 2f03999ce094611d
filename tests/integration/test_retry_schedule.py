"""Retries keep their back-off schedule with a thousand slow messages queued ahead, because
they travel on their own queue, consumed by its own worker (the Procfile's `retries`); and a
target out of retries is dead-lettered when its policy says, not when the backlog clears."""

from __future__ import annotations

import itertools

import pytest
import redis
from django.conf import settings

from routing import dispatch
from routing.models import AttemptOutcome, Delivery, DeliveryStatus
from routing.services import put_events, route_events
from routing.services.delivery import delivery_attempt
from tests.integration.test_bus_delivery import make_order_entry, wait_until, webhook_rule
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BACKLOG = 1000
SLOW_SECONDS = 0.05  # the backlog alone keeps the main worker busy for 50 s
BASE = 1.0  # the production schedule: waits of 0.5-1, 1-2 and 2-4 s
LATE_BY_AT_MOST = 1.5  # a loaded machine's scheduling slack, far below the backlog's 50 s


def main_queue_length() -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


@pytest.mark.timeout(240)
def test_retries_keep_their_schedule_behind_a_backlog_and_are_dead_lettered_on_time(
    django_db_setup: None, webhook_server: WebhookServer, settings
) -> None:
    from coffeeshop.celery import app
    from routing.rule_cache import forget_compiled_buses

    forget_compiled_buses()  # a bus version an earlier test rolled back is no guide here

    settings.ROUTING_RETRY_BASE_SECONDS = BASE
    settings.ROUTING_RETRY_MAX_SECONDS = 300
    schedule = {"ROUTING_RETRY_BASE_SECONDS": str(BASE), "ROUTING_RETRY_MAX_SECONDS": "300"}
    webhook_server.responder = lambda request: Reply(503, b"down")
    target = webhook_rule("down", webhook_server, "/down", max_retry_attempts=3)
    event_id = put_events([make_order_entry("o-1")], publisher=TEST_PUBLISHER).entries[0]["EventId"]
    route_events([event_id])
    dispatch.flush()
    app.control.purge()
    delivery = Delivery.objects.get(event_id=event_id, target=target)

    for _ in range(BACKLOG):
        app.send_task("tests.sleep", args=[SLOW_SECONDS], ignore_result=True)
    main = CeleryWorker(concurrency=1, queues="celery", env=schedule).start_and_wait()
    retries = CeleryWorker(concurrency=1, queues=dispatch.RETRY_QUEUE,
                           env=schedule).start_and_wait()
    try:
        # The first attempt fails here; its retry is sent behind the backlog's back.
        assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.PENDING
        dispatch.flush()
        wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DEAD,
                   40, "the delivery to be dead-lettered")
        backlog_left = main_queue_length()
    finally:
        main.stop()
        retries.stop()
        app.control.purge()

    assert backlog_left > BACKLOG / 2, "the backlog had cleared: the test proved nothing"
    delivery.refresh_from_db()
    assert delivery.exhausted_condition == "MaximumRetryAttempts"
    assert [a.outcome for a in delivery.attempts.all()] == [AttemptOutcome.FAILED] * 4
    received = [r.received_at for r in webhook_server.received("/down")]
    assert len(received) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(received)]
    for retry, gap in enumerate(gaps, start=1):
        step = BASE * 2 ** (retry - 1)
        assert step / 2 * 0.9 <= gap <= step + LATE_BY_AT_MOST, (
            f"retry {retry} came {gap:.2f} s after the attempt before (schedule: "
            f"{step / 2:g}-{step:g} s); all gaps: {[round(g, 2) for g in gaps]}")
