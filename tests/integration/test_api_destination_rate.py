"""An API destination behind an OAuth client-credentials connection, end to end on real Celery
workers: transformed events arrive at no more than the destination's rate across two workers,
an expired token is fetched again on 401, 5xx answers are retried, and a Redis flush midway
loses no delivery (the database says what is pending)."""

from __future__ import annotations

import collections
import json
import math
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

from routing.models import Delivery, DeliveryStatus, Target
from routing.services import Actor, TargetSpec, put_events, rule_put, targets_put
from routing.services.api_destinations import api_destination_create
from routing.services.connections import connection_create
from routing.transform.target_input import InputTransformer, TargetInput
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("test")
RATE = 5
EVENTS = 40
WORKER_ENV = {"ROUTING_SWEEP_GRACE_SECONDS": "1", "ROUTING_RUNNING_LEASE_SECONDS": "20",
              "ROUTING_API_DESTINATION_MAX_WAIT_SECONDS": "0.25"}


class OAuthApi:
    """A token endpoint and the API it guards: tokens are numbered; after `revoke_after`
    calls every token issued so far is refused with 401; every 9th call answers 503 once."""

    def __init__(self, revoke_after: int) -> None:
        self.lock = threading.Lock()
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.calls = 0
        self.revoke_after = revoke_after
        self.failed_once: set[str] = set()

    def token(self, request: ReceivedRequest) -> Reply:
        with self.lock:
            token = f"token-{len(self.issued) + 1}"
            self.issued.append(token)
        return Reply(200, json.dumps({"access_token": token, "token_type": "Bearer",
                                      "expires_in": 3600}).encode(),
                     {"Content-Type": "application/json"})

    def api(self, request: ReceivedRequest) -> Reply:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.calls += 1
            if self.calls == self.revoke_after:
                self.revoked.update(self.issued)
            if bearer not in self.issued or bearer in self.revoked:
                return Reply(401, b"token expired")
            key = request.headers["idempotency-key"]
            if self.calls % 9 == 0 and key not in self.failed_once:
                self.failed_once.add(key)
                return Reply(503, b"busy")
        return Reply(200, b"ok")


@pytest.fixture
def servers() -> Iterator[tuple[WebhookServer, WebhookServer, OAuthApi]]:
    behaviour = OAuthApi(revoke_after=8)
    token_server, api_server = WebhookServer().start(), WebhookServer().start()
    token_server.responder = behaviour.token
    api_server.responder = behaviour.api
    yield token_server, api_server, behaviour
    token_server.stop()
    api_server.stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.mark.timeout(240)
def test_oauth_api_destination_holds_its_rate_across_workers_and_a_redis_flush(
    django_db_setup: None, servers: tuple[WebhookServer, WebhookServer, OAuthApi],
) -> None:
    token_server, api_server, behaviour = servers
    connection = connection_create(
        name="kitchen", authorization_type="OAUTH_CLIENT_CREDENTIALS", actor=ACTOR,
        auth_parameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "shop", "ClientSecret": "hush"},
            "AuthorizationEndpoint": f"{token_server.url}/token", "HttpMethod": "POST"}})
    api_destination_create(name="kitchen-orders", connection_reference=connection.arn,
                           invocation_endpoint=f"{api_server.url}/shops/*/tickets",
                           http_method="POST", invocation_rate_limit_per_second=RATE,
                           actor=ACTOR)
    rule = rule_put(bus_name="default", name="to-kitchen", actor=ACTOR,
                    event_pattern={"source": ["coffee.till"]})
    assert not targets_put(rule=rule, actor=ACTOR, targets=[TargetSpec(
        target_id="kitchen", kind="api_destination", address="kitchen-orders",
        http_parameters={"PathParameterValues": ["$.detail.shop"],
                         "QueryStringParameters": {"order": "$.detail.orderId"}},
        target_input=TargetInput(input_transformer=InputTransformer(
            input_paths_map={"order": "$.detail.orderId"},
            input_template='{"ticket": <order>, "rule": <aws.events.rule-name>}')),
        max_retry_attempts=10)])
    target = Target.objects.get(rule=rule, deleted_at__isnull=True)

    workers = [CeleryWorker(concurrency=2, with_beat=beat, env=WORKER_ENV) for beat in (True,
                                                                                       False)]
    try:
        for worker in workers:
            worker.start_and_wait()
        entries = [{"Source": "coffee.till", "DetailType": "Order",
                    "Detail": json.dumps({"orderId": f"o-{n}", "shop": "north"})}
                   for n in range(EVENTS)]
        published = []
        for start in range(0, EVENTS, 10):
            published += put_events(entries[start:start + 10], publisher=TEST_PUBLISHER).entries
        api_server.wait_for(12, timeout=60)
        flushed_at = time.time()
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.flushdb()  # every queued message and the rate's schedule are gone
        client.close()
        wait_until(lambda: Delivery.objects.filter(
            target=target, status=DeliveryStatus.SUCCEEDED).count() == EVENTS,
            180, f"all {EVENTS} deliveries to succeed")
    finally:
        for worker in workers:
            worker.stop()

    deliveries = Delivery.objects.filter(target=target)
    assert {str(d.event_id) for d in deliveries} == {e["EventId"] for e in published}
    received = api_server.received()
    succeeded = {r.headers["idempotency-key"] for r in received
                 if json.loads(r.body).get("ticket")}
    assert succeeded == {str(d.pk) for d in deliveries}, "a delivery never reached the API"
    sample = received[0]
    assert sample.path.startswith("/shops/north/tickets?order=o-")
    assert json.loads(sample.body)["rule"] == "to-kitchen"
    # The expired token was fetched again; every 401 and 503 was retried to success.
    assert len(behaviour.issued) >= 2
    assert behaviour.revoked
    assert behaviour.failed_once
    assert deliveries.filter(attempts__response_status=503).exists()

    # No second window of the receiver's clock saw more than the rate (one slot of tolerance
    # for the clock's edges); around the flush, the forgotten schedule may let the calls
    # already waiting for their slots through beside new ones (at most one per worker
    # process: four).
    windows = collections.Counter(math.floor(r.received_wall) for r in received)
    for second, count in sorted(windows.items()):
        near_flush = abs(second - flushed_at) <= 2
        assert count <= RATE + (4 if near_flush else 1), (second, count, sorted(windows.items()))
    span = received[-1].received_wall - received[0].received_wall
    assert (len(received) - 1) / span <= RATE * 1.15, (len(received), span)
