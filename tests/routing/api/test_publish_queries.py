"""What one PutEvents request costs the database, counted so that it cannot silently grow: with
a known API key and a known bus, only the write of the events with their outbox rows; on
PostgreSQL that is one statement, however many entries (up to ten) the request has. And what
remembering buses must not break: a bus deleted behind this process's back."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from routing.models import Event, EventBus, PendingRoute
from routing.publishers import Publisher
from routing.services import Actor, EventEntry, bus_create, events_store
from routing.services.apikeys import apikey_create
from routing.services.bus_cache import buses_by_name, forget_buses
from tests.routing.api.conftest import ApiClient, entry

# Committed for real: remembered buses are used only outside a caller's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def _statements(captured: CaptureQueriesContext) -> list[str]:
    # Savepoints are the test's own transaction showing through, not the request's work.
    return [query["sql"] for query in captured.captured_queries
            if "SAVEPOINT" not in query["sql"].upper()]


def _expected_write() -> list[str]:
    if connection.vendor == "postgresql":
        return ['WITH stored_events AS (INSERT INTO "routing_event"']
    # SQLite has no INSERT in a CTE: one transaction of two multi-row INSERTs.
    return ["BEGIN IMMEDIATE", 'INSERT INTO "routing_event"', 'INSERT INTO "routing_pendingroute"',
            "COMMIT"]


@pytest.fixture(autouse=True)
def _nothing_remembered() -> None:
    forget_buses()


@pytest.mark.parametrize("entries", [1, 10])
def test_a_publish_with_a_known_key_and_bus_is_only_the_write(
    default_bus: EventBus, entries: int
) -> None:
    _, key = apikey_create(name="till-1")
    api = ApiClient(key)
    assert api.post("/api/events", {"Entries": [entry()]}).status_code == 200  # now known
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/events", {"Entries": [
            entry(Detail=json.dumps({"n": n})) for n in range(entries)]})
    assert response.status_code == 200, response.content
    assert response.json()["FailedEntryCount"] == 0
    statements = _statements(captured)
    assert len(statements) == len(_expected_write()), statements
    for statement, start in zip(statements, _expected_write(), strict=True):
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


def _delete_behind_our_back(bus: EventBus) -> None:
    # As another process would: no signal reaches this process's memory of buses.
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM "routing_eventbus" WHERE id = %s', [bus.pk])


def test_a_bus_deleted_by_another_process_is_refused_not_a_server_error(
    default_bus: EventBus,
) -> None:
    payments = bus_create(name="payments", actor=Actor.system("test"))
    assert set(buses_by_name(["payments"])) == {"payments"}  # remembered here
    _delete_behind_our_back(payments)
    _, key = apikey_create(name="till-1")
    response = ApiClient(key).post("/api/events", {"Entries": [
        entry(EventBusName="payments"), entry()]})
    assert response.status_code == 200, response.content
    assert response.json()["FailedEntryCount"] == 1
    first, second = response.json()["Entries"]
    assert first["ErrorCode"] == "ResourceNotFoundException"
    assert "EventId" in second
    assert Event.objects.count() == 1
    assert PendingRoute.objects.count() == 1


def test_a_bus_made_again_under_its_name_gets_the_events(default_bus: EventBus) -> None:
    payments = bus_create(name="payments", actor=Actor.system("test"))
    buses_by_name(["payments"])
    _delete_behind_our_back(payments)
    # Another process makes it again (a new id); bulk_create sends no signal here either.
    EventBus.objects.bulk_create([EventBus(name="payments")])
    _, key = apikey_create(name="till-1")
    response = ApiClient(key).post("/api/events", {"Entries": [entry(EventBusName="payments")]})
    assert response.json()["FailedEntryCount"] == 0, response.content
    [event] = Event.objects.all()
    assert event.bus.pk != payments.pk
    assert event.bus.name == "payments"
