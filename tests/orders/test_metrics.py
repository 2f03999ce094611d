"""The shop's figures: the counters its metrics subscriber keeps, read back per shop and day, and
the provider that hands them to the bus's dashboard and /metrics."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders.metrics import (
    NAME_LENGTH,
    SHOP_METRICS,
    Counter,
    counter_name,
    shop_figures,
    shop_today,
)
from orders.models import Customer, DailyMetric, Shop
from orders.services import order_announce, order_complete
from orders.subscribers import record_metrics
from routing.metric_providers import DailyColumns, RankedBars, metrics_providers
from routing.models import Event
from tests.orders.conftest import claimed, deliver, make_shop

pytestmark = pytest.mark.django_db


def test_figures_read_the_daily_counters() -> None:
    shop = make_shop("corner", name="Corner Coffee")
    today = shop.business_date(timezone.now())
    yesterday = today - timedelta(days=1)
    rows = [
        (today, "orders.started", 5, 0), (today, "orders.completed", 3, 0),
        (yesterday, "orders.completed", 2, 0), (today, "orders.cancelled", 1, 0),
        (today, "orders.timed_out", 1, 0), (today, "orders.cancelled.customer", 1, 0),
        (today, "drink.Latte", 4, 0), (yesterday, "drink.Espresso", 2, 0),
        (today, "wait.Latte", 2, 300.0), (yesterday, "wait.Latte", 1, 60.0),
        (today - timedelta(days=30), "drink.Mocha", 9, 0),  # outside the window
    ]
    for day, name, count, total in rows:
        DailyMetric.objects.create(shop=shop, business_date=day, name=name, count=count,
                                   total=total)
    (figures,) = shop_figures(days=7)
    assert figures.slug == "corner"
    assert len(figures.dates) == 7
    assert figures.dates[-1] == today
    assert isinstance(figures.dates[0], date)
    assert figures.orders["started"][-1] == 5
    assert figures.orders["completed"][-2:] == [2, 3]
    assert figures.orders["cancelled"][-1] == 1  # the ".customer" breakdown is not added again
    assert figures.drinks == [("Latte", 4), ("Espresso", 2)]
    assert figures.average_wait_seconds == [("Latte", 120.0)]

    (counters,) = shop_today()
    assert counters.orders["completed"] == 3
    assert counters.orders["unavailable"] == 0
    assert counters.drinks == {"Latte": 4}
    assert counters.waits == {"Latte": (2, 300.0)}


def test_what_the_subscriber_counts_is_what_the_figures_read(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = claimed(shop, customer, barista)
    order_announce(order_id=order.pk)
    order_complete(order=order, barista=barista)
    for event in Event.objects.all():
        deliver(record_metrics, event)
    (figures,) = shop_figures(days=1)
    assert figures.orders["started"] == [1]
    assert figures.orders["completed"] == [1]
    assert [drink for drink, _ in figures.drinks] == ["Latte"]
    assert [drink for drink, _ in figures.average_wait_seconds] == ["Latte"]


def test_counter_names_fit_their_column() -> None:
    assert counter_name(Counter.ORDERS, "cancelled", "customer") == "orders.cancelled.customer"
    assert len(counter_name(Counter.DRINK, "x" * 500)) == NAME_LENGTH


def test_the_shop_provides_its_figures_to_the_dashboard(shop: Shop) -> None:
    assert SHOP_METRICS in metrics_providers()
    today = shop.business_date(timezone.now())
    DailyMetric.objects.create(shop=shop, business_date=today, name="wait.Latte", count=2,
                               total=190.0)
    section = SHOP_METRICS.dashboard(days=7, now=timezone.now())
    assert section.title == "The shop"
    (panel,) = section.panels
    assert (panel.name, panel.key, panel.period) == ("Test Bar", "test", "last 7 business days")
    columns, drinks, waits = panel.charts
    assert isinstance(columns, DailyColumns)
    assert [series.name for series in columns.series] == [
        "started", "completed", "cancelled", "timed_out"]
    assert isinstance(drinks, RankedBars)
    assert drinks.bars == []
    assert isinstance(waits, RankedBars)
    assert waits.unit == "seconds"
    assert [(bar.label, bar.value) for bar in waits.bars] == [("Latte", 95.0)]

    families = {family.name: family for family in SHOP_METRICS.prometheus(now=timezone.now())}
    assert families["coffeeshop_shop_wait_seconds"].kind == "summary"
    assert [(sample.suffix, sample.value) for sample in
            families["coffeeshop_shop_wait_seconds"].samples] == [("_sum", 190.0), ("_count", 2)]
