"""GET /api/events/<id> (the trace, built by routing.selectors.event_trace) and the redrive
endpoints, with routing and delivery run in-process."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from routing.api.docs import openapi_document
from routing.models import ApiKey, Delivery, DeliveryStatus, EventBus, Rule
from routing.selectors import event_trace, public_target_address
from routing.services import (
    Actor,
    TargetSpec,
    delivery_attempt,
    route_events,
    rule_put,
    targets_put,
)
from routing.services.apikeys import apikey_create
from tests.routing.api import schema_check
from tests.routing.api.conftest import ApiClient, entry

pytestmark = pytest.mark.django_db

PATTERN = {"source": ["coffee.till"]}
DOCUMENT = openapi_document()
HOOK = "https://barista:s3cret@hooks.example.com:8443/orders?token=abc&shop=1#frag"


@pytest.fixture
def rule(default_bus: EventBus, actor: Actor, recorder: Any) -> Rule:
    made = rule_put(bus_name="default", name="orders", event_pattern=PATTERN, actor=actor)
    assert not targets_put(rule=made, actor=actor, targets=[
        TargetSpec("store", "handler", "tests.recorder", max_retry_attempts=0),
        TargetSpec("screen", "webhook", HOOK),
    ])
    return Rule.objects.get(pk=made.pk)


def publish(api: ApiClient, bus: str = "default") -> str:
    response = api.post("/api/events", {"Entries": [entry(EventBusName=bus)]})
    [result] = response.json()["Entries"]
    return str(result["EventId"])


def delivery_to(event_id: str, target_id: str) -> Delivery:
    return Delivery.objects.get(event_id=event_id, target__target_id=target_id)


def test_the_trace_follows_an_event_from_routing_to_delivery(
    api: ApiClient, rule: Rule, recorder: Any, actor: Actor, django_assert_max_num_queries: Any
) -> None:
    event_id = publish(api)
    trace = api.get(f"/api/events/{event_id}").json()
    assert trace["status"] == "routing"
    assert trace["routing"]["pending"] is True
    assert trace["routing"]["enqueue_count"] == 1
    assert trace["deliveries"] == []
    assert trace["published_by"] == "api-key:till-1"
    assert trace["publisher"] == {"kind": "api_key", "label": "api-key:till-1",
                                  "reference": str(ApiKey.objects.get(name="till-1").pk)}
    assert trace["replay_of"] is None
    assert trace["bus"] == {"name": "default",
                            "arn": "arn:aws:events:us-east-1:000000000000:event-bus/default"}
    assert trace["event"]["id"] == event_id
    assert trace["event"]["detail"] == {"orderId": "o-1", "drink": "Latte"}
    assert trace["ingested_at"].endswith("Z")

    route_events([event_id])
    # The rule changes after routing: the trace still shows the revision that matched.
    rule_put(bus_name="default", name="orders", event_pattern={"source": ["other"]}, actor=actor)
    recorder.failures_left = 1
    assert delivery_attempt(str(delivery_to(event_id, "store").pk)).status == "dead"

    with django_assert_max_num_queries(4):
        trace = event_trace(event_id)
    assert api.get(f"/api/events/{event_id}").json() == trace
    assert not schema_check.errors(DOCUMENT, {"$ref": "#/components/schemas/EventTrace"}, trace)
    assert trace["status"] == "in_progress"  # one dead, one still to be attempted
    assert trace["routing"] == {"pending": False, "enqueued_at": None, "enqueue_count": 0}
    assert trace["matched_rules"] == [{
        "name": "orders",
        "arn": "arn:aws:events:us-east-1:000000000000:rule/orders",
        "revision": 2,
        "event_pattern": PATTERN,
        "deleted": False,
    }]
    screen, store = sorted(trace["deliveries"], key=lambda d: d["target_id"])
    assert screen["status"] == "pending"
    assert screen["attempts"] == []
    assert screen["next_attempt_at"] is not None
    assert screen["address"] == "https://barista:***@hooks.example.com:8443/orders?token=***&shop=***"
    assert "s3cret" not in str(trace)
    assert "abc" not in screen["address"]
    assert store["kind"] == "handler"
    assert store["address"] == "tests.recorder"
    assert store["rule"] == "orders"
    assert store["rule_revision"] == 2
    assert store["status"] == "dead"
    assert store["attempt_count"] == 1
    assert store["exhausted_condition"] == "MaximumRetryAttempts"
    assert store["last_error"] == "RuntimeError: told to fail"
    assert store["redrive_count"] == 0
    [attempt] = store["attempts"]
    assert attempt["number"] == 1
    assert attempt["outcome"] == "failed"
    assert attempt["error"] == "RuntimeError: told to fail"
    assert attempt["error_code"]
    assert attempt["latency_ms"] >= 0
    assert attempt["response_status"] is None
    assert attempt["started_at"] <= attempt["finished_at"]


def test_trace_status_words(
    api: ApiClient, default_bus: EventBus, recorder: Any, actor: Actor
) -> None:
    solo = rule_put(bus_name="default", name="solo", event_pattern={"source": ["solo"]},
                    actor=actor)
    targets_put(rule=solo, actor=actor, targets=[
        TargetSpec("store", "handler", "tests.recorder", max_retry_attempts=0)
    ])

    def publish_routed(source: str) -> str:
        response = api.post("/api/events", {"Entries": [entry(Source=source)]})
        event_id = str(response.json()["Entries"][0]["EventId"])
        route_events([event_id])
        return event_id

    assert event_trace(publish_routed("nobody-listens"))["status"] == "unmatched"
    delivered = publish_routed("solo")
    assert event_trace(delivered)["status"] == "in_progress"
    delivery_attempt(str(delivery_to(delivered, "store").pk))
    assert event_trace(delivered)["status"] == "delivered"
    failed = publish_routed("solo")
    recorder.failures_left = 1
    delivery_attempt(str(delivery_to(failed, "store").pk))
    assert event_trace(failed)["status"] == "failed"


def test_trace_of_unknown_and_malformed_ids(api: ApiClient) -> None:
    missing = uuid.uuid4()
    response = api.get(f"/api/events/{missing}")
    assert response.status_code == 404
    assert response.json() == {"code": "ResourceNotFoundException",
                               "message": f"Event {missing} does not exist.", "field": "EventId"}
    response = api.get("/api/events/not-a-uuid")
    assert response.status_code == 400
    assert response.json()["field"] == "EventId"
    assert api.post(f"/api/events/{missing}", {}).status_code == 405


@pytest.mark.parametrize(("address", "shown"), [
    ("https://hooks.example.com/x", "https://hooks.example.com/x"),
    ("https://u:p@h.example.com/x?a=1&b=&a=2", "https://u:***@h.example.com/x?a=***&b=***&a=***"),
    ("https://ghp_abc123@h.example.com/x", "https://***@h.example.com/x"),
    ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXX1",
     "https://hooks.slack.com/services/T00000000/B00000000/***"),
    ("https://discord.com/api/webhooks/123456789012345678/a1B2c3D4e5F6g7H8i9J0kLmN",
     "https://discord.com/api/webhooks/123456789012345678/***"),
    ("not a url", "not a url"),
    ("https://h.example.com:99999/x", "***"),
    ("http://[::1]:8080/p?k=v", "http://[::1]:8080/p?k=***"),
    ("https://h.example.com/x#secret", "https://h.example.com/x"),
])
def test_webhook_addresses_are_shown_without_secrets(address: str, shown: str) -> None:
    assert public_target_address("webhook", address) == shown
    assert public_target_address("handler", "orders.store") == "orders.store"


def _dead_delivery(api: ApiClient, recorder: Any, bus: str = "default") -> str:
    event_id = publish(api, bus)
    route_events([event_id])
    recorder.failures_left = 1
    delivery = delivery_to(event_id, "store")
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.DEAD
    return str(delivery.pk)


def test_redrive_one_dead_letter(api: ApiClient, rule: Rule, recorder: Any) -> None:
    delivery_id = _dead_delivery(api, recorder)
    response = api.post(f"/api/deliveries/{delivery_id}/redrive")
    assert response.status_code == 200
    assert response.json() == {"DeliveryId": delivery_id, "Redriven": True}
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.redrive_count) == (DeliveryStatus.PENDING, 1)

    again = api.post(f"/api/deliveries/{delivery_id}/redrive")
    assert again.status_code == 400
    assert again.json()["message"] == "Only dead-lettered or dropped deliveries can be redriven."
    missing = api.post(f"/api/deliveries/{uuid.uuid4()}/redrive")
    assert missing.status_code == 404
    assert missing.json()["field"] == "DeliveryId"
    assert api.post("/api/deliveries/nope/redrive").status_code == 400
    assert api.get(f"/api/deliveries/{delivery_id}/redrive").status_code == 405


def test_redrive_many_says_why_each_one_was_not(
    api: ApiClient, rule: Rule, recorder: Any, other_bus: EventBus, actor: Actor
) -> None:
    dead = [_dead_delivery(api, recorder) for _ in range(2)]
    event_id = publish(api)
    route_events([event_id])
    pending = str(delivery_to(event_id, "screen").pk)
    ghost = str(uuid.uuid4())
    response = api.post("/api/dead-letters/redrive", {
        "DeliveryIds": [dead[0], "nope", dead[1], pending, ghost, dead[0]],
    })
    assert response.status_code == 200
    body = response.json()
    assert body["Redriven"] == dead
    assert body["RedrivenCount"] == 2
    assert body["FailedCount"] == 3
    failed = {item["DeliveryId"]: item for item in body["Failed"]}
    assert failed["nope"]["ErrorCode"] == "InvalidArgument"
    assert failed[ghost]["ErrorCode"] == "ResourceNotFoundException"
    assert failed[pending] == {
        "DeliveryId": pending,
        "ErrorCode": "ValidationException",
        "ErrorMessage": "The delivery is pending: only dead-lettered or dropped deliveries can "
                        "be redriven.",
    }
    assert set(Delivery.objects.filter(pk__in=dead).values_list("status", flat=True)) == {
        DeliveryStatus.PENDING
    }

    # A key limited to another bus may not touch this bus's dead letters.
    other_dead = _dead_delivery(api, recorder)
    scoped = ApiClient(apikey_create(name="payments-only", bus_names=["payments"])[1])
    denied = scoped.post("/api/dead-letters/redrive", {"DeliveryIds": [other_dead]}).json()
    assert denied["Redriven"] == []
    assert denied["Failed"][0]["ErrorCode"] == "AccessDeniedException"
    single = scoped.post(f"/api/deliveries/{other_dead}/redrive")
    assert single.status_code == 403
    assert Delivery.objects.get(pk=other_dead).status == DeliveryStatus.DEAD


@pytest.mark.parametrize("body", [
    {}, {"DeliveryIds": []}, {"DeliveryIds": "x"}, {"DeliveryIds": [1]},
    {"DeliveryIds": [str(uuid.uuid4())] * 101}, [], None,
])
def test_redrive_many_refuses_a_malformed_request(api: ApiClient, body: Any) -> None:
    response = api.post("/api/dead-letters/redrive", raw=json.dumps(body))
    assert response.status_code == 400
    assert response.json()["field"] in {"DeliveryIds", "body"}


def test_staff_may_redrive_from_a_session_with_csrf(
    api: ApiClient, rule: Rule, recorder: Any
) -> None:
    delivery_id = _dead_delivery(api, recorder)
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    assert client.post(f"/api/deliveries/{delivery_id}/redrive").status_code == 403
    client.get("/api/docs")
    response = client.post(f"/api/deliveries/{delivery_id}/redrive",
                           headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert response.status_code == 200
