"""The API for real: a key, PutEvents over HTTP to uvicorn, a Celery worker routing and
delivering to a webhook, and the trace showing it done."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from routing.api.docs import openapi_document
from routing.models import Target
from routing.services import Actor, TargetSpec, bus_ensure_default, rule_put, targets_put
from routing.services.apikeys import apikey_create
from tests.routing.api import schema_check
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.webhook_server import WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_publish_over_http_is_delivered_and_traced(
    asgi_server: AsgiServer, celery_worker: CeleryWorker, webhook_server: WebhookServer
) -> None:
    bus_ensure_default()
    actor = Actor.system("test")
    rule = rule_put(bus_name="default", name="barista-screen", actor=actor,
                    event_pattern={"source": ["coffee.till"],
                                   "detail": {"drink": ["Latte"]}})
    assert not targets_put(rule=rule, actor=actor, targets=[
        TargetSpec("screen", "webhook", webhook_server.url + "/orders?token=sekrit"),
    ])
    _, key = apikey_create(name="till-1", bus_names=["default"])

    with httpx.Client(base_url=asgi_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post("/api/events", json={"Entries": [{
            "Source": "coffee.till",
            "DetailType": "OrderManager.MakeOrder",
            "Detail": json.dumps({"orderId": "o-42", "drink": "Latte"}),
        }]})
        assert response.status_code == 200, response.text
        assert response.json()["FailedEntryCount"] == 0
        event_id = response.json()["Entries"][0]["EventId"]

        [request] = webhook_server.wait_for(1, path="/orders?token=sekrit")
        delivered = json.loads(request.body)
        assert delivered["id"] == event_id
        assert delivered["detail"] == {"orderId": "o-42", "drink": "Latte"}

        trace = _wait_for_trace(client, event_id, lambda t: t["status"] == "delivered")
    assert not schema_check.errors(openapi_document(),
                                   {"$ref": "#/components/schemas/EventTrace"}, trace)
    assert trace["published_by"] == "api-key:till-1"
    assert trace["routing"]["pending"] is False
    assert [(r["name"], r["revision"]) for r in trace["matched_rules"]] == [
        ("barista-screen", 2)
    ]
    [delivery] = trace["deliveries"]
    target = Target.objects.get(rule=rule, deleted_at__isnull=True)
    assert delivery["target_id"] == target.target_id == "screen"
    assert delivery["kind"] == "webhook"
    assert delivery["address"] == webhook_server.url + "/orders?token=***"
    assert delivery["status"] == "succeeded"
    assert delivery["attempt_count"] == 1
    [attempt] = delivery["attempts"]
    assert attempt["outcome"] == "succeeded"
    assert attempt["response_status"] == 200
    assert attempt["latency_ms"] > 0
    assert request.headers["idempotency-key"] == delivery["id"]


def _wait_for_trace(client: httpx.Client, event_id: str, done: Any, timeout: float = 15
                    ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/events/{event_id}")
        assert response.status_code == 200, response.text
        trace: dict[str, Any] = response.json()
        if done(trace) or time.monotonic() > deadline:
            assert done(trace), trace
            return trace
        time.sleep(0.1)
