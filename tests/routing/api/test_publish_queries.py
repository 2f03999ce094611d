"""What one PutEvents request costs the database, counted so that it cannot silently grow: with
a known API key, the bus lookup and the write of the events with their outbox rows; on
PostgreSQL that write is one statement, however many entries (up to ten) the request has."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from routing.models import Event, EventBus, PendingRoute
from routing.publishers import Publisher
from routing.services import EventEntry, events_store
from routing.services.apikeys import apikey_create
from tests.routing.api.conftest import ApiClient, entry

pytestmark = pytest.mark.django_db


def _statements(captured: CaptureQueriesContext) -> list[str]:
    # Savepoints are the test's own transaction showing through, not the request's work.
    return [query["sql"] for query in captured.captured_queries
            if "SAVEPOINT" not in query["sql"].upper()]


def _expected_write() -> list[str]:
    if connection.vendor == "postgresql":
        return ['WITH stored_events AS (INSERT INTO "routing_event"']
    return ['INSERT INTO "routing_event"', 'INSERT INTO "routing_pendingroute"']


@pytest.mark.parametrize("entries", [1, 10])
def test_a_publish_with_a_known_key_is_the_bus_lookup_and_the_write(
    default_bus: EventBus, entries: int
) -> None:
    _, key = apikey_create(name="till-1")
    api = ApiClient(key)
    assert api.post("/api/events", {"Entries": [entry()]}).status_code == 200  # key now known
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/events", {"Entries": [
            entry(Detail=json.dumps({"n": n})) for n in range(entries)]})
    assert response.status_code == 200, response.content
    assert response.json()["FailedEntryCount"] == 0
    statements = _statements(captured)
    assert len(statements) == 1 + len(_expected_write()), statements
    assert 'FROM "routing_eventbus"' in statements[0]
    for statement, start in zip(statements[1:], _expected_write(), strict=True):
        assert statement.startswith(start), statement
    assert Event.objects.count() == 1 + entries
    assert PendingRoute.objects.count() == 1 + entries
    ids = {uuid.UUID(item["EventId"]) for item in response.json()["Entries"]}
    assert set(PendingRoute.objects.filter(event_id__in=ids).values_list(
        "event_id", flat=True)) == ids


def test_the_events_and_their_outbox_rows_are_written_all_or_none(
    default_bus: EventBus,
) -> None:
    taken = events_store(entries=[EventEntry(source="coffee.till", detail_type="T",
                                             detail={})], publisher=Publisher.service("test"))[0]
    batch = [EventEntry(source="coffee.till", detail_type="T", detail={"n": 1}),
             EventEntry(source="coffee.till", detail_type="T", detail={"n": 2},
                        event_id=taken.id)]
    with pytest.raises(IntegrityError), transaction.atomic():
        events_store(entries=batch, publisher=Publisher.service("test"))
    assert Event.objects.count() == 1
    assert PendingRoute.objects.count() == 1
