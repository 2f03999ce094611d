"""The shop's subscribers, called as the delivery task calls them (envelope, context): what each
does, and that a repeated delivery of the same event changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders.events import PUBLISHER as SHOP
from orders.events import DetailType
from orders.models import Customer, DailyMetric, JourneyEntry, Order, ProcessedEvent, Shop
from orders.services import (
    order_announce,
    order_cancel,
    order_complete,
    order_start,
    orders_time_out_overdue,
)
from orders.subscribers import (
    announce_waiting_order,
    metric_increments,
    record_journey,
    record_metrics,
    start_workflow,
)
from orders.workflow import OrderState
from routing.handlers import PermanentHandlerError, get_handler
from routing.models import Event
from routing.targets.base import DeliveryContext
from tests.orders.conftest import claimed, deliver, queued, redeem, shop_events, started

pytestmark = pytest.mark.django_db


def fake_envelope(detail: Any, detail_type: str = "Validator.NewOrder") -> dict[str, Any]:
    return {"detail-type": detail_type, "source": "awsserverlessda.serverlesspresso",
            "detail": detail}


def test_handlers_are_registered_by_name() -> None:
    assert get_handler("orders.workflow.start") is start_workflow
    assert get_handler("orders.store.waiting_completion") is announce_waiting_order
    assert get_handler("orders.metrics.record") is record_metrics
    assert get_handler("orders.journey.record") is record_journey


def test_new_order_starts_the_workflow_once(shop: Shop, customer: Customer) -> None:
    order = redeem(shop, customer)
    [event] = shop_events(DetailType.NEW_ORDER)
    deliver(start_workflow, event)
    deliver(start_workflow, event, attempt=2)
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_FOR_DRINK
    assert len(shop_events(DetailType.WORKFLOW_STARTED)) == 1


def test_an_event_naming_no_order_is_dead_lettered(db: None) -> None:
    context = DeliveryContext({}, "e", "b", "r", "arn", "t", "d", 1, SHOP)
    with pytest.raises(PermanentHandlerError, match="no order 'nope' to start"):
        start_workflow(fake_envelope({"orderId": "nope", "userId": "1"}), context)
    with pytest.raises(PermanentHandlerError, match=r"needs detail\.orderId"):
        start_workflow(fake_envelope({"userId": "1"}), context)
    with pytest.raises(PermanentHandlerError, match="envelope"):
        start_workflow({"orderId": "x"}, context)
    with pytest.raises(PermanentHandlerError, match="no order 'nope' to announce"):
        announce_waiting_order(fake_envelope({"orderId": "nope"}), context)


def test_the_order_store_announces_once(shop: Shop, customer: Customer) -> None:
    order = queued(shop, customer)
    [event] = shop_events(DetailType.PROCESSOR_WAITING_COMPLETION)
    deliver(announce_waiting_order, event)
    deliver(announce_waiting_order, event, attempt=2)
    [announced] = shop_events(DetailType.MANAGER_WAITING_COMPLETION)
    assert announced.detail["orderId"] == order.pk


def test_metrics_count_each_event_once(
    shop: Shop, customer: Customer, other_customer: Customer, barista: User
) -> None:
    order = claimed(shop, customer, barista)
    order_complete(order=order, barista=barista)
    cancelled = started(shop, other_customer)
    order_cancel(order=cancelled, by="customer", customer=other_customer)
    for event in Event.objects.all():
        deliver(record_metrics, event)
    order_announce(order_id=order.pk)  # too late (completed): not announced, not counted
    for event in Event.objects.all():
        deliver(record_metrics, event, attempt=2)  # repeats count nothing
    counts = {m.name: (m.count, m.total) for m in DailyMetric.objects.filter(shop=shop)}
    assert counts["orders.started"] == (2, 0)
    assert counts["orders.submitted"] == (1, 0)
    assert counts["orders.completed"] == (1, 0)
    assert counts["orders.cancelled"] == (1, 0)
    assert counts["orders.cancelled.customer"] == (1, 0)
    assert counts["wait.Latte"][0] == 1
    assert counts["wait.Latte"][1] >= 0
    assert "drink.Latte" not in counts
    assert ProcessedEvent.objects.filter(subscriber="orders.metrics").count() == 5
    metric = DailyMetric.objects.get(shop=shop, name="orders.started")
    assert metric.business_date == shop.business_date(timezone.now())


def test_metrics_of_the_announcement_count_drinks_and_modifiers(
    shop: Shop, customer: Customer
) -> None:
    order = queued(shop, customer)
    order_announce(order_id=order.pk)
    [event] = shop_events(DetailType.MANAGER_WAITING_COMPLETION)
    deliver(record_metrics, event)
    names = set(DailyMetric.objects.values_list("name", flat=True))
    assert names == {"drink.Latte", "modifier.Oat", "modifier.Vanilla"}


def test_timeouts_and_turned_away_orders_are_counted(shop: Shop, customer: Customer) -> None:
    started(shop, customer)
    orders_time_out_overdue(now=timezone.now() + timedelta(hours=1))
    # Closed between the redemption and the start (a closed shop refuses the code itself).
    redeemed = redeem(shop, customer)
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    order_start(order_id=redeemed.pk)
    for event in Event.objects.all():
        deliver(record_metrics, event)
    names = set(DailyMetric.objects.values_list("name", flat=True))
    assert {"orders.timed_out", "orders.unavailable", "orders.unavailable.closed"} <= names


def test_metric_increments_ignore_what_they_do_not_know() -> None:
    assert list(metric_increments("OrderManager.MakeOrder", {"orderId": "x"})) == []
    assert list(metric_increments("Other.Thing", {})) == []
    assert list(metric_increments(DetailType.ORDER_COMPLETED, {"waitSeconds": "soon"})) == [
        ("orders.completed", 0)
    ]


def test_metrics_of_an_unknown_shop_are_skipped(db: None) -> None:
    context = DeliveryContext({}, "00000000-0000-0000-0000-000000000001", "b", "r", "arn", "t",
                              "d", 1, SHOP)
    record_metrics(fake_envelope({"shopId": "nowhere"}), context)
    assert not DailyMetric.objects.exists()


def test_the_journey_records_each_event_of_an_order_once(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = claimed(shop, customer, barista)
    for event in Event.objects.all():
        deliver(record_journey, event)
        deliver(record_journey, event, attempt=2)
    entries = list(JourneyEntry.objects.filter(order=order).order_by("time"))
    assert [e.detail_type for e in entries] == [
        "Validator.NewOrder", "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion", "OrderManager.MakeOrder",
    ]
    assert entries[-1].message == "Alice is making order #1 (Latte)."
    assert entries[-1].detail["baristaName"] == "Alice"
    times = [e.time for e in entries]
    assert times == sorted(times)
    assert len(set(times)) == len(times)


def test_the_journey_ignores_events_of_no_known_order(db: None) -> None:
    context = DeliveryContext({}, "00000000-0000-0000-0000-000000000002", "b", "r", "arn", "t",
                              "d", 1, SHOP)
    record_journey(fake_envelope({"orderId": "1", "userId": "1"}), context)
    record_journey(fake_envelope({"shopId": "main"}), context)
    assert not JourneyEntry.objects.exists()
