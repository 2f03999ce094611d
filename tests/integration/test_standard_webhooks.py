"""Webhook deliveries signed by the Standard Webhooks spec, checked by a receiver written with the
`standardwebhooks` library itself: real deliveries from a real worker, before, during and after
a rotation of the signing secret made through the REST API. The older X-Coffeeshop-Signature
header stays, and verifies too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from routing.models import Target
from routing.services import (
    Actor,
    TargetSpec,
    bus_create,
    bus_ensure_default,
    put_events,
    rule_put,
    targets_put,
)
from routing.services.apikeys import apikey_create
from routing.targets.webhook import SIGNATURE_HEADER, verify_signature
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("test")
SECRET_PATH = "/api/buses/default/rules/receipts/targets/printer/signing-secret"


def verifies(secret: str, request: ReceivedRequest) -> bool:
    """What a receiver does with the library: True if the delivery is ours and fresh."""
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def deliver(server: WebhookServer, number: int) -> ReceivedRequest:
    put_events([{"Source": "coffee.till", "DetailType": "Receipt",
                 "Detail": json.dumps({"receipt": number})}], publisher=TEST_PUBLISHER)
    for request in server.wait_for(number, path="/receipts"):
        if json.loads(request.body)["detail"]["receipt"] == number:
            return request
    raise AssertionError(f"receipt {number} did not arrive")


def api_call(client: Client, key: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if method == "GET":
        response = client.get(path, headers=headers)
    else:
        response = client.post(path, data="" if body is None else json.dumps(body),
                               content_type="application/json", headers=headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_standard_webhooks_receiver_verifies_our_deliveries_through_a_rotation(
    celery_worker: CeleryWorker, webhook_server: WebhookServer,
) -> None:
    bus_ensure_default()
    rule = rule_put(bus_name="default", name="receipts", actor=ACTOR,
                    event_pattern={"source": ["coffee.till"]})
    assert not targets_put(rule=rule, actor=ACTOR, targets=[TargetSpec(
        target_id="printer", kind="webhook", address=f"{webhook_server.url}/receipts")])
    _, key = apikey_create(name="printer-owner")
    client = Client()
    first = api_call(client, key, "GET", SECRET_PATH)
    assert first["Secret"].startswith("whsec_")
    assert first["PreviousSecret"] is None

    request = deliver(webhook_server, 1)
    assert verifies(first["Secret"], request)
    assert not verifies("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", request)
    assert request.headers["webhook-id"] == request.headers["idempotency-key"]
    assert request.headers["webhook-signature"].startswith("v1,")
    assert " " not in request.headers["webhook-signature"]
    assert verify_signature(first["LegacySecret"], request.headers[SIGNATURE_HEADER.lower()],
                            request.body)

    # Rotated with an overlap: two signatures, and receivers on either secret accept.
    rotated = api_call(client, key, "POST", SECRET_PATH + "/rotate", {"OverlapSeconds": 3600})
    assert rotated["Secret"] != first["Secret"]
    assert rotated["PreviousSecret"] == first["Secret"]
    assert api_call(client, key, "GET", SECRET_PATH) == rotated
    request = deliver(webhook_server, 2)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verifies(rotated["Secret"], request)
    assert verifies(first["Secret"], request)
    legacy = request.headers[SIGNATURE_HEADER.lower()]
    assert verify_signature(rotated["LegacySecret"], legacy, request.body)
    assert verify_signature(first["LegacySecret"], legacy, request.body)

    # A change of the target through PutTargets keeps its secrets: its receiver knows them.
    assert not targets_put(rule=rule, actor=ACTOR, targets=[TargetSpec(
        target_id="printer", kind="webhook", address=f"{webhook_server.url}/receipts",
        max_retry_attempts=3)])
    assert Target.objects.get(rule=rule, deleted_at__isnull=True).max_retry_attempts == 3
    assert api_call(client, key, "GET", SECRET_PATH) == rotated

    # Rotated again with no overlap: only the newest secret signs.
    latest = api_call(client, key, "POST", SECRET_PATH + "/rotate", {"OverlapSeconds": 0})
    assert latest["PreviousSecret"] is None
    request = deliver(webhook_server, 3)
    assert verifies(latest["Secret"], request)
    assert not verifies(rotated["Secret"], request)
    assert not verifies(first["Secret"], request)
    assert not verify_signature(first["LegacySecret"], request.headers[SIGNATURE_HEADER.lower()],
                                request.body)


def test_the_signing_secret_is_refused_to_callers_of_other_buses_and_for_other_kinds() -> None:
    bus_ensure_default()
    bus_create(name="payments", actor=ACTOR)
    rule = rule_put(bus_name="default", name="receipts", actor=ACTOR,
                    event_pattern={"source": ["coffee.till"]})
    assert not targets_put(rule=rule, actor=ACTOR, targets=[
        TargetSpec(target_id="printer", kind="webhook", address="https://hooks.example.com/r"),
        TargetSpec(target_id="elsewhere", kind="bus", address="payments")])
    _, limited = apikey_create(name="payments-only", bus_names=["payments"])
    client = Client()
    refused = client.get(SECRET_PATH, headers={"Authorization": f"Bearer {limited}"})
    assert refused.status_code == 403
    assert "whsec_" not in refused.content.decode()
    assert client.post(SECRET_PATH + "/rotate", headers={
        "Authorization": f"Bearer {limited}"}).status_code == 403
    _, key = apikey_create(name="everything")
    other_kind = client.get(SECRET_PATH.replace("printer", "elsewhere"),
                            headers={"Authorization": f"Bearer {key}"})
    assert other_kind.status_code == 400
    assert other_kind.json()["code"] == "ValidationException"
    missing = client.get(SECRET_PATH.replace("printer", "nobody"),
                         headers={"Authorization": f"Bearer {key}"})
    assert missing.status_code == 404
    bad = client.post(SECRET_PATH + "/rotate", data=json.dumps({"OverlapSeconds": -1}),
                      content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "OverlapSeconds"
