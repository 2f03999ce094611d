"""Quotas like EventBridge's, set through settings on a server of their own: PutEvents requests per
second per caller and bus (a token bucket in Redis, ThrottlingException with HTTP 400), rules per
bus, targets per rule, characters of a pattern; and a Redis outage never refuses a publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from coffeeshop.embedded_redis import free_tcp_port
from routing.aws.credentials import awscredential_create
from routing.models import Event
from routing.publishers import Publisher
from routing.services import bus_ensure_default, put_events, quotas
from tests.routing.aws.conftest import Credential, make_client
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# One request in five seconds after a burst of three: no request of this test refills a token.
QUOTA_ENVIRONMENT = {
    "ROUTING_PUT_EVENTS_PER_SECOND": "0.2",
    "ROUTING_PUT_EVENTS_BURST": "3",
    "ROUTING_MAX_RULES_PER_BUS": "3",
    "ROUTING_MAX_TARGETS_PER_RULE": "2",
    "ROUTING_MAX_PATTERN_LENGTH": "2048",
}
ENTRY = {"Source": "my.app", "DetailType": "x", "Detail": "{}"}


@pytest.fixture(autouse=True)
def no_buckets_left() -> None:
    """Buckets outlive a test by seconds, and a credential's id may come again: start empty."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{quotas.KEY_PREFIX}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def quota_server(django_db_setup: None) -> Iterator[AsgiServer]:
    server = AsgiServer(env=QUOTA_ENVIRONMENT).start_and_wait()
    yield server
    server.stop()


def _client(server: AsgiServer, name: str) -> Any:
    row, secret = awscredential_create(name=name)
    return make_client(f"{server.url}/aws/events", Credential(row.access_key_id, secret))


def test_put_events_is_throttled_per_caller_and_bus(quota_server: AsgiServer) -> None:
    events = _client(quota_server, "busy-caller")
    events.create_event_bus(Name="other")
    for _ in range(3):
        assert events.put_events(Entries=[ENTRY])["FailedEntryCount"] == 0
    stored = Event.objects.count()
    with pytest.raises(events.exceptions.ClientError) as throttled:
        events.put_events(Entries=[ENTRY])
    response = throttled.value.response
    assert response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert Event.objects.count() == stored  # a refused request stores nothing
    # Another bus of the same caller, and another caller on the same bus, have their own.
    assert events.put_events(Entries=[{**ENTRY, "EventBusName": "other"}])[
        "FailedEntryCount"] == 0
    assert _client(quota_server, "quiet-caller").put_events(Entries=[ENTRY])[
        "FailedEntryCount"] == 0


def test_rules_targets_and_pattern_size_quotas(quota_server: AsgiServer) -> None:
    events = _client(quota_server, "builder")
    events.create_event_bus(Name="small")
    for n in range(3):
        events.put_rule(Name=f"r{n}", EventBusName="small", EventPattern='{"source": ["a"]}')
    with pytest.raises(events.exceptions.LimitExceededException, match="3 rules"):
        events.put_rule(Name="r3", EventBusName="small", EventPattern='{"source": ["a"]}')
    # Changing a rule is no new rule; a deleted rule frees its place.
    events.put_rule(Name="r0", EventBusName="small", EventPattern='{"source": ["b"]}')
    events.delete_rule(Name="r2", EventBusName="small")
    events.put_rule(Name="r3", EventBusName="small", EventPattern='{"source": ["a"]}')

    two = [{"Id": f"t{n}", "Arn": f"https://hooks.example.com/{n}"} for n in range(3)]
    assert events.put_targets(Rule="r0", EventBusName="small", Targets=two[:2])[
        "FailedEntryCount"] == 0
    with pytest.raises(events.exceptions.LimitExceededException, match="more than 2 targets"):
        events.put_targets(Rule="r0", EventBusName="small", Targets=two[2:])

    def pattern_of(length: int) -> str:
        text = json.dumps({"source": ["x" * (length - len('{"source": [""]}'))]})
        assert len(text) == length
        return text

    events.put_rule(Name="r1", EventBusName="small", EventPattern=pattern_of(2048))
    with pytest.raises(events.exceptions.InvalidEventPatternException, match="2048"):
        events.put_rule(Name="r1", EventBusName="small", EventPattern=pattern_of(2049))


@pytest.fixture
def fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    # The process's bucket client remembers an outage for a few seconds: start without one.
    monkeypatch.setattr(quotas, "_buckets", quotas._Buckets())


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fresh_buckets")
def test_a_redis_outage_never_refuses_a_publish() -> None:
    bus_ensure_default()
    row, _ = awscredential_create(name="during-outage")
    publisher = Publisher.aws_credential(credential_id=row.pk, name=row.name)
    dead_redis = f"redis://127.0.0.1:{free_tcp_port()}/0"
    with override_settings(REDIS_URL=dead_redis, ROUTING_PUT_EVENTS_PER_SECOND=0.2,
                           ROUTING_PUT_EVENTS_BURST=1):
        for _ in range(5):
            assert put_events([ENTRY], publisher=publisher).failed_entry_count == 0
    assert Event.objects.count() == 5


@pytest.mark.usefixtures("fresh_buckets")
def test_the_bucket_in_redis_refuses_once_empty_and_spares_the_projects_own() -> None:
    bus_ensure_default()
    row, _ = awscredential_create(name="in-process")
    publisher = Publisher.aws_credential(credential_id=row.pk, name=row.name)
    with override_settings(ROUTING_PUT_EVENTS_PER_SECOND=0.2, ROUTING_PUT_EVENTS_BURST=2):
        put_events([ENTRY], publisher=publisher)
        put_events([ENTRY], publisher=publisher)
        with pytest.raises(quotas.Throttled):
            put_events([ENTRY], publisher=publisher)
        # The shop and the scheduler publish as the project itself: never throttled.
        for _ in range(3):
            put_events([ENTRY], publisher=Publisher.service("tests"))
    assert Event.objects.count() == 5


@pytest.mark.timeout(120)
def test_a_server_whose_redis_is_gone_still_takes_publishes(django_db_setup: None) -> None:
    # Nothing listens on this port: the bucket, the broker and the channel layer all fail.
    server = AsgiServer(env={**QUOTA_ENVIRONMENT,
                                     "REDIS_URL": f"redis://127.0.0.1:{free_tcp_port()}/0"})
    server.start_and_wait()
    try:
        events = _client(server, "outage-caller")
        for _ in range(5):  # more than the burst of three
            assert events.put_events(Entries=[ENTRY])["FailedEntryCount"] == 0
    finally:
        server.stop()
    assert Event.objects.count() == 5
    # Stored with their outbox rows: the sweeper routes them once the broker is back.
    assert all(event.pending_route is not None for event in Event.objects.all())
