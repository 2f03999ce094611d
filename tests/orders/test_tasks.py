"""The time-out sweep as Celery runs it, and its place on the beat schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coffeeshop.celery import app
from orders.models import Customer, Order, Shop
from orders.tasks import time_out_overdue
from orders.workflow import OrderState
from tests.orders.conftest import started


def test_the_sweep_is_scheduled_every_five_seconds() -> None:
    entry = app.conf.beat_schedule["orders-time-out-overdue"]
    assert entry["task"] == "orders.time_out_overdue" == time_out_overdue.name
    assert entry["schedule"] == 5.0
    assert entry["options"]["expires"] <= 5.0
    assert "orders.time_out_overdue" in app.tasks


@pytest.mark.django_db
def test_the_task_times_out_overdue_orders(shop: Shop, customer: Customer) -> None:
    order = started(shop, customer)
    assert time_out_overdue() == {"timed_out": 0}
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    assert time_out_overdue() == {"timed_out": 1}
    assert Order.objects.get(pk=order.pk).state == OrderState.TIMED_OUT
    assert time_out_overdue() == {"timed_out": 0}
