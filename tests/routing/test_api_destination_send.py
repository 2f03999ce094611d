"""The API destination sender in-process, against local servers and the suite's real Redis: the
request it builds (path wildcards, headers, query, the connection's parameters, each kind of
authorization), OAuth tokens cached and fetched again (expiry, 401), deauthorized and missing
destinations, the shared rate's slots, a put-off send that counts as no attempt, and the address
policy applied to endpoints and token endpoints alike."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from routing import destination_rate, netpolicy
from routing.errors import ValidationError
from routing.models import (
    ApiDestination,
    Connection,
    ConnectionState,
    Delivery,
    DeliveryStatus,
    Event,
    EventBus,
    Target,
    TargetKind,
)
from routing.services import Actor, TargetSpec, put_events, route_events, rule_put, targets_put
from routing.services.api_destinations import api_destination_create
from routing.services.connections import connection_create, connection_deauthorize
from routing.services.delivery import deliveries_attempt
from routing.services.oauth import connection_authorize
from routing.targets import api_destination
from routing.targets.base import AttemptFailure, DeliveryContext
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
EVENT = {"id": "e1", "source": "shop", "detail": {"shop": "a/b", "orderId": "o-1", "n": 3}}


@pytest.fixture
def api() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def tokens() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    issued: list[int] = []

    def token(request: ReceivedRequest) -> Reply:
        issued.append(1)
        return Reply(200, json.dumps({"access_token": f"t{len(issued)}",
                                      "expires_in": 3600}).encode())

    server.responder = token
    yield server
    server.stop()


def context(event: dict[str, Any] = EVENT) -> DeliveryContext:
    return DeliveryContext(event=event, event_id="e1", bus_name="default", rule_name="r",
                           rule_arn="arn:rule", target_id="t", delivery_id=str(uuid.uuid4()),
                           attempt=1, publisher=TEST_PUBLISHER)


def destination(endpoint: str, connection: Connection, *, method: str = "POST",
                rate: int = 300) -> ApiDestination:
    return api_destination_create(name=f"d-{uuid.uuid4().hex[:8]}", actor=ACTOR,
                                  connection_reference=connection.name, http_method=method,
                                  invocation_endpoint=endpoint,
                                  invocation_rate_limit_per_second=rate)


def target_for(dest: ApiDestination, http: dict[str, Any] | None = None) -> Target:
    return Target(target_id="t", kind=TargetKind.API_DESTINATION, address=dest.name,
                  http_parameters=http)


def api_key_connection(**invocation: Any) -> Connection:
    parameters: dict[str, Any] = {"ApiKeyAuthParameters": {"ApiKeyName": "X-Key",
                                                           "ApiKeyValue": "k-1"}}
    if invocation:
        parameters["InvocationHttpParameters"] = invocation
    return connection_create(name=f"c-{uuid.uuid4().hex[:8]}", authorization_type="API_KEY",
                             auth_parameters=parameters, actor=ACTOR)


def oauth_connection(tokens: WebhookServer) -> Connection:
    return connection_create(
        name=f"o-{uuid.uuid4().hex[:8]}", authorization_type="OAUTH_CLIENT_CREDENTIALS",
        actor=ACTOR, auth_parameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"},
            "AuthorizationEndpoint": f"{tokens.url}/token", "HttpMethod": "POST"}})


def test_the_request_fills_wildcards_and_adds_every_parameter(api: WebhookServer) -> None:
    connection = api_key_connection(
        HeaderParameters=[{"Key": "X-Shop", "Value": "north", "IsValueSecret": False}],
        QueryStringParameters=[{"Key": "v", "Value": "2", "IsValueSecret": True}],
        BodyParameters=[{"Key": "from", "Value": "bus", "IsValueSecret": False}])
    dest = destination(f"{api.url}/shops/*/orders/*", connection, method="PUT")
    status = api_destination.send(target_for(dest, {
        "PathParameterValues": ["$.detail.shop", "fixed"],
        "HeaderParameters": {"X-Order": "$.detail.orderId", "X-Count": "$.detail.n",
                             "X-Missing": "$.detail.nothing"},
        "QueryStringParameters": {"order": "$.detail.orderId"}}), '{"a": 1}', context())
    assert status == 200
    [request] = api.received()
    assert request.method == "PUT"
    assert request.path == "/shops/a%2Fb/orders/fixed?v=2&order=o-1"
    assert (request.headers["x-key"], request.headers["x-shop"]) == ("k-1", "north")
    assert (request.headers["x-order"], request.headers["x-count"]) == ("o-1", "3")
    assert "x-missing" not in request.headers
    assert json.loads(request.body) == {"from": "bus", "a": 1}


def test_get_sends_no_body_and_basic_auth_is_basic(api: WebhookServer) -> None:
    connection = connection_create(name="basic", authorization_type="BASIC", actor=ACTOR,
                                   auth_parameters={"BasicAuthParameters": {
                                       "Username": "u", "Password": "p"}})
    api_destination.send(target_for(destination(f"{api.url}/ping", connection, method="GET")),
                         '{"a": 1}', context())
    [request] = api.received()
    assert (request.method, request.body) == ("GET", b"")
    assert request.headers["authorization"] == "Basic dTpw"


def test_oauth_tokens_are_cached_then_fetched_again_on_expiry_and_on_401(
    api: WebhookServer, tokens: WebhookServer,
) -> None:
    connection = oauth_connection(tokens)
    assert connection.state == ConnectionState.AUTHORIZING
    assert connection_authorize(connection.pk) == ConnectionState.AUTHORIZED
    dest = destination(f"{api.url}/x", connection)
    for _ in range(2):
        api_destination.send(target_for(dest), "{}", context())
    assert len(tokens.received()) == 1  # cached
    assert [r.headers["authorization"] for r in api.received()] == ["Bearer t1", "Bearer t1"]

    # About to expire: fetched again before use.
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=timezone.now() + timedelta(seconds=30))
    api_destination.send(target_for(ApiDestination.objects.get(pk=dest.pk)), "{}", context())
    assert api.received()[-1].headers["authorization"] == "Bearer t2"

    # Refused with 401: a new token, and the call once more.
    api.responder = lambda request: Reply(
        401 if request.headers["authorization"] == "Bearer t2" else 200)
    assert api_destination.send(target_for(ApiDestination.objects.get(pk=dest.pk)), "{}",
                                context()) == 200
    assert [r.headers["authorization"] for r in api.received()[-2:]] == ["Bearer t2",
                                                                         "Bearer t3"]
    assert Connection.objects.get(pk=connection.pk).state == ConnectionState.AUTHORIZED
    assert Connection.objects.get(pk=connection.pk).token_encrypted.startswith("gAAAA")  # Fernet
    assert "secret" not in json.dumps(Connection.objects.get(pk=connection.pk).public_parameters)


def test_a_refused_token_request_deauthorizes_with_the_reason(tokens: WebhookServer) -> None:
    tokens.responder = lambda request: Reply(401, b"bad client")
    connection = oauth_connection(tokens)
    assert connection_authorize(connection.pk) == ConnectionState.DEAUTHORIZED
    connection.refresh_from_db()
    assert "HTTP 401" in connection.state_reason


def test_an_api_key_401_is_final_and_a_5xx_retryable(api: WebhookServer) -> None:
    dest = destination(f"{api.url}/x", api_key_connection())
    api.responder = lambda request: Reply(401)
    with pytest.raises(AttemptFailure) as refused:
        api_destination.send(target_for(dest), "{}", context())
    assert (refused.value.retryable, len(api.received())) == (False, 1)
    api.responder = lambda request: Reply(503, headers={"Retry-After": "7"})
    with pytest.raises(AttemptFailure) as busy:
        api_destination.send(target_for(dest), "{}", context())
    assert (busy.value.retryable, busy.value.retry_after) == (True, 7.0)
    api.responder = lambda request: Reply(429)
    with pytest.raises(AttemptFailure) as throttled:
        api_destination.send(target_for(dest), "{}", context())
    assert (throttled.value.code, throttled.value.retryable) == ("THROTTLING", True)


def test_deauthorized_and_missing_destinations_fail_for_good(api: WebhookServer) -> None:
    connection = api_key_connection()
    dest = destination(f"{api.url}/x", connection)
    connection_deauthorize(name=connection.name, actor=ACTOR)
    with pytest.raises(AttemptFailure) as deauthorized:
        api_destination.send(target_for(ApiDestination.objects.get(pk=dest.pk)), "{}",
                             context())
    assert (deauthorized.value.code, deauthorized.value.retryable) == (
        "CONNECTION_DEAUTHORIZED", False)
    with pytest.raises(AttemptFailure) as missing:
        api_destination.send(Target(kind=TargetKind.API_DESTINATION, address="gone"), "{}",
                             context())
    assert (missing.value.code, missing.value.retryable) == ("NO_RESOURCE", False)
    assert api.received() == []


def redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1_000_000


def test_slots_are_shared_and_spaced_by_the_rate() -> None:
    bucket = f"test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    # Each slot's moment on Redis's clock, bracketed by reading that clock around the call.
    slots = []
    for _ in range(4):
        before = redis_now(client)
        slot = destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=10)
        slots.append((before + slot.wait_seconds, redis_now(client) + slot.wait_seconds))
        assert slot.granted
    client.close()
    # One second (1/rate) after the one before, however long the calls took to make.
    first_low, first_high = slots[0]
    for number, (low, high) in enumerate(slots):
        assert low - first_high <= number + 0.001, slots
        assert high - first_low >= number - 0.001, slots
    # Beyond the wait allowed: not granted, not taken, and told how long until a slot frees.
    refused = destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=0.5)
    assert not refused.granted
    assert refused.wait_seconds > 3
    again = destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=10)
    assert again.granted
    assert again.wait_seconds <= refused.wait_seconds


def test_a_send_at_the_rate_limit_is_put_off_without_counting_an_attempt(
    api: WebhookServer, settings: Any,
) -> None:
    settings.ROUTING_API_DESTINATION_MAX_WAIT_SECONDS = 0.0
    EventBus.objects.get_or_create(name="default")
    dest = destination(f"{api.url}/x", api_key_connection(), rate=1)
    rule = rule_put(bus_name="default", name="r", actor=ACTOR, event_pattern={"source": ["s"]})
    assert not targets_put(rule=rule, actor=ACTOR, targets=[TargetSpec(
        target_id="t", kind=TargetKind.API_DESTINATION, address=dest.name)])
    put_events([{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 2,
               publisher=TEST_PUBLISHER)
    route_events([str(pk) for pk in Event.objects.values_list("pk", flat=True)])
    ids = [str(pk) for pk in Delivery.objects.values_list("pk", flat=True)]
    reports = deliveries_attempt(ids)
    assert sorted(report.status for report in reports) == ["pending", "succeeded"]
    put_off = Delivery.objects.get(status=DeliveryStatus.PENDING)
    assert (put_off.attempt_count, put_off.attempts.count()) == (0, 0)
    assert put_off.next_attempt_at > timezone.now()
    assert put_off.claim_token == ""
    assert len(api.received()) == 1


def test_redis_unreachable_sends_nothing(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    slot = destination_rate.slot_take("x", rate_per_second=5, max_wait_seconds=1)
    assert not slot.granted
    assert slot.wait_seconds == destination_rate.REDIS_DOWN_RETRY_SECONDS


def test_private_endpoints_are_refused_at_creation_and_at_send(
    settings: Any, monkeypatch: pytest.MonkeyPatch, api: WebhookServer,
) -> None:
    connection = api_key_connection()
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError, match="loopback"):
        destination("http://127.0.0.1:9/x", connection)
    oauth = {"OAuthParameters": {
        "ClientParameters": {"ClientID": "i", "ClientSecret": "s"},
        "AuthorizationEndpoint": "http://169.254.169.254/latest/meta-data",
        "HttpMethod": "GET"}}
    with pytest.raises(ValidationError, match="link-local"):
        connection_create(name="meta", authorization_type="OAUTH_CLIENT_CREDENTIALS",
                          auth_parameters=oauth, actor=ACTOR)
    # A public-looking name that resolves to loopback when it is sent to.
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))])
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    dest = destination(f"http://api.example.com:{api.port}/x", connection)
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(AttemptFailure) as refused:
        api_destination.send(target_for(dest), "{}", context())
    assert refused.value.code == "NO_PERMISSIONS"
    assert netpolicy.ALLOW_SETTING in refused.value.message
    assert api.received() == []


def test_redis_flush_forgets_only_the_schedule() -> None:
    bucket = f"test-{uuid.uuid4().hex}"
    assert destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=0).granted
    assert not destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=0).granted
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(destination_rate.KEY_PREFIX + bucket)
    client.close()
    assert destination_rate.slot_take(bucket, rate_per_second=1, max_wait_seconds=0).granted


def test_a_connection_encrypted_under_a_lost_key_fails_for_good(
    api: WebhookServer, settings: Any,
) -> None:
    from cryptography.fernet import Fernet

    dest = destination(f"{api.url}/x", api_key_connection())
    settings.ROUTING_AWS_CREDENTIALS_KEY = Fernet.generate_key().decode()
    with pytest.raises(AttemptFailure) as unreadable:
        api_destination.send(target_for(dest), "{}", context())
    assert (unreadable.value.code, unreadable.value.retryable) == ("CONNECTION_UNREADABLE",
                                                                  False)
    assert "ROUTING_AWS_CREDENTIALS_KEY" in unreadable.value.message
    assert api.received() == []
