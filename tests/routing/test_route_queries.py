"""What routing one event to one handler target costs the database, counted so that it cannot
silently grow: the route task's transaction (claim the outbox row and read the event in one
statement, insert the delivery), then the inline delivery (read it, claim it, and record its
outcome with its attempt in one statement on PostgreSQL). And what the shortcuts must keep: a
claimed outbox row is gone only with its deliveries, a row another router holds is skipped, and
an outcome written under a lost claim records nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from routing.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, PendingRoute
from routing.services import (
    Actor,
    TargetSpec,
    bus_create,
    bus_delete,
    event_publish,
    rule_put,
    targets_put,
)
from routing.services.matching import route_events as route_events_service
from routing.services.outcome_rows import delivery_settle
from routing.tasks import route_events
from tests.routing.conftest import Recorder
from tests.support.publishers import TEST_PUBLISHER

# Committed for real: the counts are of the statements a worker sends, outside any test
# transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def _publish() -> str:
    return str(event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
                             detail={"orderId": "o-1"}).pk)


@pytest.fixture
def handler_rule(default_bus: object, recorder: Recorder) -> None:
    actor = Actor.system("test")
    rule = rule_put(bus_name="default", name="orders", event_pattern={"source": ["shop"]},
                    actor=actor)
    targets_put(rule=rule, actor=actor,
                targets=[TargetSpec("whole", "handler", "tests.recorder")])
    route_events([_publish()])  # the worker's rule index is now compiled


def _expected_statements() -> list[str]:
    if connection.vendor == "postgresql":
        return ["BEGIN", "WITH claimed AS (DELETE", 'INSERT INTO "routing_delivery"', "COMMIT",
                'SELECT "routing_delivery"', 'UPDATE "routing_delivery"',
                'WITH settled AS (UPDATE "routing_delivery"']
    return ["BEGIN", 'DELETE FROM "routing_pendingroute"', 'SELECT "routing_event"',
            'INSERT OR IGNORE INTO "routing_delivery"', "COMMIT",
            'SELECT "routing_delivery"', 'UPDATE "routing_delivery"',
            "BEGIN", 'UPDATE "routing_delivery"', 'INSERT INTO "routing_deliveryattempt"',
            "COMMIT"]


def test_routing_one_event_to_a_handler_is_a_few_statements(
    handler_rule: None, recorder: Recorder
) -> None:
    event_id = _publish()
    with CaptureQueriesContext(connection) as captured:
        result = route_events([event_id])
    assert result == {"routed": 1, "deliveries": 1, "attempted_now": 1}
    statements = [query["sql"] for query in captured.captured_queries]
    expected = _expected_statements()
    assert len(statements) == len(expected), statements
    for statement, start in zip(statements, expected, strict=True):
        assert statement.upper().startswith(start.upper()), (start, statement)
    delivery = Delivery.objects.get(event_id=event_id)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [(a.number, a.outcome) for a in delivery.attempts.all()] == [
        (1, AttemptOutcome.SUCCEEDED)]
    assert not PendingRoute.objects.filter(event_id=event_id).exists()
    assert len(recorder.calls) == 2


def test_a_failed_route_puts_the_outbox_row_back(handler_rule: None, monkeypatch) -> None:
    event_id = _publish()

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database refused the deliveries")

    monkeypatch.setattr(Delivery.objects, "bulk_create", refuse)
    with pytest.raises(RuntimeError):
        route_events_service([event_id])
    assert PendingRoute.objects.filter(event_id=event_id).exists()
    assert not Delivery.objects.filter(event_id=event_id).exists()


def test_an_outbox_row_another_router_holds_is_skipped_not_waited_for(
    handler_rule: None,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no router holds a row while another runs")
    event_id = _publish()
    holding, release = threading.Event(), threading.Event()

    def other_router() -> None:
        try:
            with transaction.atomic():
                list(PendingRoute.objects.select_for_update().filter(event_id=event_id))
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_router)
    thread.start()
    try:
        assert holding.wait(10)
        result = route_events_service([event_id])
    finally:
        release.set()
        thread.join()
    assert (result.routed_events, result.skipped_events) == (0, 1)
    assert PendingRoute.objects.filter(event_id=event_id).exists()
    assert route_events_service([event_id]).routed_events == 1


def test_events_of_a_bus_deleted_since_are_routed_to_nothing_not_stuck(
    handler_rule: None, recorder: Recorder
) -> None:
    actor = Actor.system("test")
    bus_create(name="payments", actor=actor)
    orphan = str(event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="Paid",
                               detail={}, bus_name="payments").pk)
    bus_delete(name="payments", actor=actor)
    alongside = _publish()
    result = route_events_service([orphan, alongside])
    assert (result.routed_events, result.deliveries) == (2, 1)
    assert not PendingRoute.objects.filter(event_id__in=[orphan, alongside]).exists()
    assert not Delivery.objects.filter(event_id=orphan).exists()


def test_an_outcome_under_a_lost_claim_records_no_attempt(handler_rule: None) -> None:
    event_id = _publish()
    route_events_service([event_id])  # pending, not attempted
    delivery = Delivery.objects.get(event_id=event_id)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.RUNNING,
                                                   claim_token="theirs")
    attempt = DeliveryAttempt(delivery=delivery, number=1, started_at=delivery.created_at,
                              finished_at=delivery.created_at,
                              outcome=AttemptOutcome.SUCCEEDED, latency_ms=1.0)
    assert not delivery_settle(delivery_id=delivery.pk, token="mine",
                               update={"status": DeliveryStatus.SUCCEEDED}, attempt=attempt)
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.RUNNING
    assert delivery_settle(delivery_id=delivery.pk, token="theirs",
                           update={"status": DeliveryStatus.SUCCEEDED}, attempt=attempt)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED
