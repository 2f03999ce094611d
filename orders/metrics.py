"""The shop's daily figures: the names its counters are kept under (`DailyMetric` rows, written by
the metrics subscriber), the reads that add them up per shop and day, and the provider that puts
them on the bus's dashboard and `GET /metrics` (registered when the app is ready, so routing
never reads the shop's tables)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.utils import timezone

from orders.models import DailyMetric, Shop
from routing.metric_providers import (
    DailyColumns,
    DailySeries,
    DashboardSection,
    Panel,
    PrometheusFamily,
    RankedBar,
    RankedBars,
    Sample,
)

# Counter names ------------------------------------------------------------------------------


class Counter(StrEnum):
    """What a counter counts: the first part of its name ("orders.completed", "drink.Latte")."""

    ORDERS = "orders"  # orders.<outcome>, orders.<outcome>.<reason or who>
    DRINK = "drink"  # drink.<drink>: drinks ordered
    MODIFIER = "modifier"  # modifier.<option>: options chosen
    WAIT = "wait"  # wait.<drink>: count collected, total seconds from submit to pickup


# The outcomes the figures show, in this order (the counters also keep "submitted" and the
# breakdowns "cancelled.<who>" and "unavailable.<reason>").
ORDER_OUTCOMES = ("started", "completed", "cancelled", "timed_out", "unavailable")
CHARTED_OUTCOMES = ("started", "completed", "cancelled", "timed_out")
NAME_LENGTH = 100  # DailyMetric.name's


def counter_name(counter: Counter, *parts: str) -> str:
    return ".".join((counter.value, *parts))[:NAME_LENGTH]


def _split(name: str) -> tuple[str, str]:
    counter, _, rest = name.partition(".")
    return counter, rest


# Reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopFigures:
    """One shop's counters for its last business days (the dashboard's charts)."""

    slug: str
    name: str
    dates: list[date]
    orders: dict[str, list[int]]  # outcome → count per day, oldest first
    drinks: list[tuple[str, int]]  # most sold first
    average_wait_seconds: list[tuple[str, float]]  # longest first


@dataclass(frozen=True)
class ShopToday:
    """One shop's counters for its current business day (the Prometheus endpoint's)."""

    slug: str
    orders: dict[str, int]
    drinks: dict[str, int]
    waits: dict[str, tuple[int, float]]  # drink → (count, total seconds)


def shop_figures(*, days: int = 7, now: datetime | None = None) -> list[ShopFigures]:
    """Each shop's figures for its last `days` business days (today included), by name."""
    now = now or timezone.now()
    figures = []
    for shop in Shop.objects.order_by("name"):
        today = shop.business_date(now)
        dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
        position = {day: index for index, day in enumerate(dates)}
        orders = {outcome: [0] * days for outcome in ORDER_OUTCOMES}
        drinks: dict[str, int] = defaultdict(int)
        waits: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        rows = DailyMetric.objects.filter(shop=shop, business_date__in=dates).values_list(
            "business_date", "name", "count", "total")
        for day, name, count, total in rows:
            counter, rest = _split(name)
            if counter == Counter.ORDERS and rest in orders:
                orders[rest][position[day]] += count
            elif counter == Counter.DRINK and rest:
                drinks[rest] += count
            elif counter == Counter.WAIT and rest:
                waits[rest][0] += total
                waits[rest][1] += count
        figures.append(ShopFigures(
            slug=shop.slug,
            name=shop.name,
            dates=dates,
            orders=orders,
            drinks=sorted(drinks.items(), key=lambda item: (-item[1], item[0])),
            average_wait_seconds=sorted(
                ((drink, total / count) for drink, (total, count) in waits.items() if count),
                key=lambda item: (-item[1], item[0]),
            ),
        ))
    return figures


def shop_today(*, now: datetime | None = None) -> list[ShopToday]:
    """Each shop's counters for its current business day, by slug."""
    now = now or timezone.now()
    result = []
    for shop in Shop.objects.order_by("slug"):
        orders = dict.fromkeys(ORDER_OUTCOMES, 0)
        drinks: dict[str, int] = {}
        waits: dict[str, tuple[int, float]] = {}
        rows = DailyMetric.objects.filter(shop=shop, business_date=shop.business_date(now))
        for name, count, total in rows.values_list("name", "count", "total"):
            counter, rest = _split(name)
            if counter == Counter.ORDERS and rest in orders:
                orders[rest] = count
            elif counter == Counter.DRINK and rest:
                drinks[rest] = count
            elif counter == Counter.WAIT and rest:
                waits[rest] = (count, total)
        result.append(ShopToday(shop.slug, orders, drinks, waits))
    return result


# The bus's dashboard and /metrics ----------------------------------------------------------


def shop_panel(figures: ShopFigures, *, days: int) -> Panel:
    name = figures.name
    return Panel(name=name, key=figures.slug, period=f"last {days} business days", charts=[
        DailyColumns(
            title="Orders per day", label=f"{name}: orders per day", days=figures.dates,
            series=[DailySeries(outcome, [float(v) for v in figures.orders[outcome]])
                    for outcome in CHARTED_OUTCOMES]),
        RankedBars(
            title="Drinks sold", label=f"{name}: drinks sold, last {days} days",
            bars=[RankedBar(drink, count) for drink, count in figures.drinks],
            empty_text="No drinks sold in this period"),
        RankedBars(
            title="Average wait per drink",
            label=f"{name}: average wait per drink, last {days} days",
            bars=[RankedBar(drink, seconds) for drink, seconds in figures.average_wait_seconds],
            unit="seconds", colour="#3b6ea5", empty_text="No drink collected in this period",
            note="From submitting the order to its pickup."),
    ])


def shop_families(shops: list[ShopToday]) -> list[PrometheusFamily]:
    orders, drinks, waits = [], [], []
    for shop in shops:
        for outcome, count in shop.orders.items():
            orders.append(Sample(count, {"shop": shop.slug, "outcome": outcome}))
        for drink, count in sorted(shop.drinks.items()):
            drinks.append(Sample(count, {"shop": shop.slug, "drink": drink}))
        for drink, (count, total) in sorted(shop.waits.items()):
            waits.append(Sample(total, {"shop": shop.slug, "drink": drink}, "_sum"))
            waits.append(Sample(count, {"shop": shop.slug, "drink": drink}, "_count"))
    return [
        PrometheusFamily("coffeeshop_shop_orders_total", "counter",
                         "Orders per shop and outcome in the shop's current business day "
                         "(started, completed, cancelled, timed_out, unavailable).", orders),
        PrometheusFamily("coffeeshop_shop_drinks_total", "counter",
                         "Drinks ordered per shop in its current business day.", drinks),
        PrometheusFamily("coffeeshop_shop_wait_seconds", "summary",
                         "Wait from submitting an order to its pickup, per drink, in the shop's "
                         "current business day.", waits),
    ]


class ShopMetrics:
    """The shop's provider of figures for routing's dashboard and Prometheus endpoint."""

    key = "orders"

    def dashboard(self, *, days: int, now: datetime) -> DashboardSection:
        panels = [shop_panel(figures, days=days) for figures in shop_figures(days=days, now=now)]
        return DashboardSection(title="The shop", panels=panels, empty_text="No shop yet.")

    def prometheus(self, *, now: datetime) -> list[PrometheusFamily]:
        return shop_families(shop_today(now=now))


SHOP_METRICS = ShopMetrics()
