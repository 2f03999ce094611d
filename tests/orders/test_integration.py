"""The shop on the real bus, in a real Celery worker process: the seeded rules route each event
to its subscriber, the workflow steps run in the worker, and the simulator drives whole orders
through it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from coffeeshop.celery import app
from orders.events import DetailType
from orders.models import DailyMetric, JourneyEntry, Order, QrWindow, Shop
from orders.rules import ensure_shop_rules
from orders.services import order_claim, order_complete, order_submit
from orders.workflow import OrderState
from routing.models import Delivery, DeliveryStatus
from tests.orders.conftest import (
    LATTE_CHOICE,
    make_barista,
    make_customer,
    make_shop,
    redeem,
    shop_events,
)
from tests.support.processes import CeleryWorker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("live_push_handler")]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def state_of(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def test_an_order_runs_through_the_workers(celery_worker: CeleryWorker) -> None:
    ensure_shop_rules()
    shop = make_shop()
    customer = make_customer("Ada")
    barista: User = make_barista("alice")

    order = redeem(shop, customer)
    wait_until(lambda: state_of(order) == OrderState.WAITING_FOR_DRINK,
               "the worker to start the workflow")
    order = order_submit(order=order, customer=customer, drink_name="Latte", choices=LATTE_CHOICE)
    wait_until(lambda: len(shop_events(DetailType.MANAGER_WAITING_COMPLETION)) == 1,
               "the order store to announce the order")
    assert Order.objects.get(pk=order.pk).announced_at is not None
    [announced] = shop_events(DetailType.MANAGER_WAITING_COMPLETION)
    assert announced.detail["drinkOrder"]["drink"] == "Latte"
    order_claim(order=order, barista=barista)
    order_complete(order=order, barista=barista)

    expected_journey = [
        "Validator.NewOrder", "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion", "OrderManager.WaitingCompletion",
        "OrderManager.MakeOrder", "OrderManager.OrderCompleted", "OrderProcessor.orderFinished",
    ]
    wait_until(lambda: JourneyEntry.objects.filter(order_id=order.pk).count() == 7,
               "the journey to record all seven events")
    journey = list(JourneyEntry.objects.filter(order_id=order.pk).order_by("time"))
    assert [entry.detail_type for entry in journey] == expected_journey
    wait_until(lambda: DailyMetric.objects.filter(name="orders.completed").exists(),
               "the metrics to count the completion")
    wait_until(lambda: not Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RUNNING]).exists(),
        "every delivery to settle")
    metrics = {m.name: m.count for m in DailyMetric.objects.filter(shop=shop)}
    assert metrics == {
        "orders.started": 1, "orders.submitted": 1, "drink.Latte": 1, "modifier.Oat": 1,
        "modifier.Vanilla": 1, "orders.completed": 1, "wait.Latte": 1,
    }
    # The store's announcement went out exactly once, however often it was delivered.
    assert len(shop_events(DetailType.MANAGER_WAITING_COMPLETION)) == 1
    failed = Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exclude(
        target__address="orders.live.push")
    assert not failed.exists(), [(d.target.address, d.last_error) for d in failed]


def test_a_closed_shop_and_a_time_out_in_the_worker(celery_worker: CeleryWorker) -> None:
    ensure_shop_rules()
    shop = make_shop()
    # Closed after the code was accepted, before the worker could start the order (its event
    # leaves when this commits): the worker turns it away and gives its place back.
    with transaction.atomic():
        order = redeem(shop, make_customer("Ada"))
        Shop.objects.filter(pk=shop.pk).update(is_open=False)
    wait_until(lambda: state_of(order) == OrderState.SHOP_UNAVAILABLE,
               "the worker to turn the order away")
    assert Order.objects.get(pk=order.pk).unavailable_reason == "closed"
    assert QrWindow.objects.get(pk=order.qr_window_id).redeemed == 0

    Shop.objects.filter(pk=shop.pk).update(is_open=True)
    late = redeem(shop, make_customer("Grace"))
    wait_until(lambda: state_of(late) == OrderState.WAITING_FOR_DRINK, "the workflow to start")
    Order.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    app.send_task("orders.time_out_overdue")
    wait_until(lambda: state_of(late) == OrderState.TIMED_OUT, "the sweep to time it out")
    wait_until(lambda: JourneyEntry.objects.filter(order_id=late.pk,
                                                   detail_type="OrderProcessor.OrderTimeOut")
               .exists(), "the journey to record the time-out")


def test_the_simulator_runs_whole_orders(celery_worker: CeleryWorker) -> None:
    ensure_shop_rules()
    make_shop("sim", drinks_per_window=20, max_queue=20)
    out = StringIO()
    call_command("simulate", shop="sim", customers=4, barista_seconds=0.3, cancel_rate=0,
                 arrival_seconds=0.1, step_timeout=30, seed=7, stdout=out)
    text = out.getvalue()
    assert "Summary after" in text
    assert "COMPLETED                4" in text
    assert "average wait from order to pickup" in text
    robots = Order.objects.filter(shop__slug="sim", robot=True)
    assert robots.count() == 4
    assert set(robots.values_list("state", flat=True)) == {OrderState.COMPLETED}
