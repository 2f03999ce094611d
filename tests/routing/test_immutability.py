"""Events are facts: the ORM refuses to change them, and so does the database itself."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from routing.errors import ImmutableEventError
from routing.immutability import event_deletion_permitted
from routing.models import Event, EventBus

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(default_bus: EventBus) -> Event:
    return Event.objects.create(
        bus=default_bus, source="coffee.test", detail_type="Poured", detail={"cups": 1},
        time=datetime(2026, 11, 29, tzinfo=UTC), ingested_at=datetime(2026, 11, 29, tzinfo=UTC),
    )


def test_orm_refuses_to_update_an_event(event: Event) -> None:
    event.source = "tampered"
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        Event.objects.filter(pk=event.pk).update(source="tampered")
    assert Event.objects.get(pk=event.pk).source == "coffee.test"


def test_orm_refuses_to_delete_an_event(event: Event) -> None:
    with pytest.raises(ImmutableEventError):
        event.delete()
    with pytest.raises(ImmutableEventError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE routing_event SET source = 'tampered'",
        "UPDATE routing_event SET detail = '{}' WHERE source = 'coffee.test'",
        "UPDATE routing_event SET publisher_kind = 'service', publisher_ref = 'orders'",
        "DELETE FROM routing_event",
        "DELETE FROM routing_event WHERE source = 'coffee.test'",
    ],
)
def test_database_refuses_raw_update_and_delete(event: Event, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(statement)
    assert Event.objects.get(pk=event.pk).source == "coffee.test"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
@pytest.mark.django_db(transaction=True)  # TRUNCATE needs the event committed first
def test_postgres_refuses_truncate(event: Event) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("TRUNCATE routing_event CASCADE")
    assert Event.objects.filter(pk=event.pk).exists()


def test_the_purge_door_lets_a_delete_through_and_closes_after(event: Event) -> None:
    with event_deletion_permitted(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM routing_event WHERE id = %s", [event.pk.hex
                       if connection.vendor == "sqlite" else event.pk])
    assert not Event.objects.filter(pk=event.pk).exists()
    Event.objects.create(
        bus=event.bus, source="coffee.test", detail_type="Poured", detail={},
        time=event.time, ingested_at=event.ingested_at,
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM routing_event")
