"""What one PutEvents request to the AWS JSON endpoint costs the database, counted so that it
cannot silently grow: with a known credential and a known bus, only the write of the events with
their outbox rows (one statement on PostgreSQL), as on the REST endpoint
(tests/routing/api/test_publish_queries.py)."""

from __future__ import annotations

import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from routing.aws.credentials import awscredential_create
from routing.models import Event, EventBus, PendingRoute, region
from routing.services.bus_cache import forget_buses

# Committed for real: remembered buses and callers are used only outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def _put_events(access_key_id: str, secret: str, entries: int) -> dict[str, object]:
    body = json.dumps({"Entries": [
        {"Source": "coffee.till", "DetailType": "OrderPlaced", "Detail": json.dumps({"n": n})}
        for n in range(entries)]}).encode()
    request = AWSRequest(method="POST", url="http://testserver/aws/events", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents"})
    SigV4Auth(Credentials(access_key_id, secret), "events", region()).add_auth(request)
    # As an HTTP library would send them (botocore signs the Host it derives from the URL).
    headers = {"Host": "testserver", **{name: value for name, value in request.headers.items()
                                        if name.lower() != "content-type"}}
    response = Client().post("/aws/events", body, content_type="application/x-amz-json-1.1",
                             headers=headers)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _expected_write() -> list[str]:
    if connection.vendor == "postgresql":
        return ['WITH stored_events AS (INSERT INTO "routing_event"']
    return ["BEGIN", 'INSERT INTO "routing_event"', 'INSERT INTO "routing_pendingroute"',
            "COMMIT"]


@pytest.mark.parametrize("entries", [1, 10])
def test_a_put_events_with_a_known_credential_and_bus_is_only_the_write(
    default_bus: EventBus, entries: int
) -> None:
    forget_buses()
    row, secret = awscredential_create(name="till-aws")
    assert _put_events(row.access_key_id, secret, 1)["FailedEntryCount"] == 0  # now known
    with CaptureQueriesContext(connection) as captured:
        answer = _put_events(row.access_key_id, secret, entries)
    assert answer["FailedEntryCount"] == 0, answer
    statements = [query["sql"] for query in captured.captured_queries]
    expected = _expected_write()
    assert len(statements) == len(expected), statements
    for statement, start in zip(statements, expected, strict=True):
        assert statement.startswith(start), statement
    assert Event.objects.count() == PendingRoute.objects.count() == 1 + entries
