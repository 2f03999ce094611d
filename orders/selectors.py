"""Reads of the coffee shop that span relations: a shop's settings and menu, an order's journey,
a customer's history and daily allowance, today's board (the shop's metrics are in
orders/metrics.py).

Each is general (pages, sockets, admin and the simulator share them) and returns model
instances, a frozen dataclass (`Board`, `DailyAllowance`) or typed JSON-ready data (the menu and
settings that events carry, the journey that the order API answers with) in a small, fixed
number of queries. None of them ever
exposes a QR code or a wait token (the display gets its code from `qr_window_current`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict

from django.db.models import Prefetch, Q
from django.utils import timezone

from orders.event_details import MenuEntry, ShopSettings
from orders.models import (
    Customer,
    Drink,
    JourneyEntry,
    ModifierGroup,
    Order,
    Shop,
)
from orders.workflow import (
    BARISTA_QUEUE_STATES,
    FINAL_STATES,
    OPEN_STATES,
    MenuDrink,
    MenuGroup,
    OrderError,
    OrderState,
)
from routing.timestamps import utc_timestamp

# Orders that use up a customer's daily allowance: the ones that are going ahead or got their
# drink. Cancelled, timed-out and turned-away orders gave the customer nothing, so they are
# not counted (and an order in progress is, so one customer cannot hold several at once).
DAILY_LIMIT_STATES = frozenset(
    {OrderState.NEW, OrderState.WAITING_FOR_DRINK, OrderState.QUEUED,
     OrderState.IN_PRODUCTION, OrderState.COMPLETED}
)
# Orders that hold a place against `Shop.max_queue`.
CAPACITY_STATES = frozenset(
    {OrderState.WAITING_FOR_DRINK, OrderState.QUEUED, OrderState.IN_PRODUCTION}
)


@dataclass(frozen=True)
class Board:
    """Today's board: the queue (oldest number first), what is being made, and what has been
    ready for at most the board's `ready_minutes` (newest first)."""

    queued: list[Order]
    in_production: list[Order]
    ready: list[Order]

    def orders(self) -> list[Order]:
        return [*self.queued, *self.in_production, *self.ready]


@dataclass(frozen=True)
class DailyAllowance:
    """How many orders a customer may still place at a shop today, and when the count starts
    again (the shop's next local midnight)."""

    limit: int
    used: int
    remaining: int
    active_order_id: str | None  # their order in progress, which counts too
    resets_at: datetime


class JourneyStep(TypedDict):
    """One event of an order's journey, JSON-ready (the order API answers with it)."""

    eventId: str
    detailType: str
    step: str
    message: str
    time: str
    detail: dict[str, Any]


# Lookups -------------------------------------------------------------------------------------

def shop_get(*, slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise OrderError(f"There is no shop called {slug!r}.", "not_found", field="shop")
    return shop


# Settings and menu ---------------------------------------------------------------------------

def shop_settings(*, shop: Shop) -> ShopSettings:
    """The shop's settings as the ConfigChanged event and the pages name them."""
    return {
        "name": shop.name,
        "open": shop.is_open,
        "maxQueue": shop.max_queue,
        "maxOrdersPerCustomerPerDay": shop.max_orders_per_customer_per_day,
        "guestOrders": shop.guest_orders,
        "customerTimeoutSeconds": shop.customer_timeout_seconds,
        "baristaTimeoutSeconds": shop.barista_timeout_seconds,
        "drinksPerWindow": shop.drinks_per_window,
        "windowSeconds": shop.window_seconds,
        "timezone": shop.timezone,
    }


def _drinks(shop: Shop) -> list[Drink]:
    groups = ModifierGroup.objects.prefetch_related("options")
    return list(
        Drink.objects.filter(shop=shop).prefetch_related(Prefetch("modifier_groups", groups))
    )


def shop_menu(*, shop: Shop, available_only: bool = False) -> list[MenuEntry]:
    """The menu in display order: [{name, icon, available, groups: [{name, multiple,
    required, options: [name, ...]}]}]."""
    return [
        {
            "name": drink.name,
            "icon": drink.icon,
            "available": drink.available,
            "groups": [
                {
                    "name": group.name,
                    "multiple": group.multiple,
                    "required": group.required,
                    "options": [option.name for option in group.options.all()],
                }
                for group in drink.modifier_groups.all()
            ],
        }
        for drink in _drinks(shop)
        if drink.available or not available_only
    ]


def menu_drink(*, shop: Shop, name: str) -> tuple[MenuDrink, Drink] | None:
    """A drink of the shop's current menu, as the pure validator takes it (with its row)."""
    drinks = _drinks_named(shop, name)
    if not drinks:
        return None
    drink = drinks[0]
    groups = tuple(
        MenuGroup(
            name=group.name,
            options=tuple(option.name for option in group.options.all()),
            multiple=group.multiple,
            required=group.required,
        )
        for group in drink.modifier_groups.all()
    )
    return MenuDrink(name=drink.name, available=drink.available, groups=groups), drink


def _drinks_named(shop: Shop, name: str) -> list[Drink]:
    groups = ModifierGroup.objects.prefetch_related("options")
    return list(
        Drink.objects.filter(shop=shop, name=name)
        .prefetch_related(Prefetch("modifier_groups", groups))
    )


# Orders --------------------------------------------------------------------------------------

def shop_open_order_count(*, shop: Shop, including_new: bool = False) -> int:
    """Orders holding a place against the shop's `max_queue`; `including_new` adds the ones
    accepted but not started yet (what a redemption must count, as their starts will)."""
    states = CAPACITY_STATES | {OrderState.NEW} if including_new else CAPACITY_STATES
    return Order.objects.filter(shop=shop, state__in=states).count()


def shop_board(*, shop: Shop, now: datetime | None = None, ready_minutes: int = 10) -> Board:
    """Today's board, with what has been ready for at most `ready_minutes`."""
    now = now or timezone.now()
    orders = list(
        Order.objects.filter(shop=shop)
        .filter(Q(state__in=BARISTA_QUEUE_STATES)
                | Q(state=OrderState.COMPLETED,
                    finished_at__gte=now - timedelta(minutes=ready_minutes)))
        .select_related("customer", "barista")
        .order_by("order_number", "submitted_at")
    )
    return Board(
        queued=[o for o in orders if o.state == OrderState.QUEUED],
        in_production=[o for o in orders if o.state == OrderState.IN_PRODUCTION],
        ready=sorted((o for o in orders if o.state == OrderState.COMPLETED),
                     key=lambda o: o.finished_at or now, reverse=True),
    )


def customer_history(
    *, customer: Customer, shop: Shop | None = None, limit: int = 50
) -> list[Order]:
    """A customer's orders, newest first."""
    orders = Order.objects.filter(customer=customer).select_related("shop", "barista")
    if shop is not None:
        orders = orders.filter(shop=shop)
    return list(orders.order_by("-created_at")[:limit])


def customer_active_order(*, customer: Customer, shop: Shop | None = None) -> Order | None:
    """The customer's newest order that is still going (to resume it after a reload)."""
    orders = Order.objects.filter(customer=customer, state__in=OPEN_STATES)
    if shop is not None:
        orders = orders.filter(shop=shop)
    return orders.select_related("shop", "barista").order_by("-created_at").first()


def customer_daily_allowance(
    *, shop: Shop, customer: Customer, now: datetime | None = None
) -> DailyAllowance:
    now = now or timezone.now()
    today = shop.business_date(now)
    counted = list(
        Order.objects.filter(shop=shop, customer=customer, business_date=today,
                             state__in=DAILY_LIMIT_STATES)
        .order_by("-created_at").values_list("pk", "state")
    )
    active = next((pk for pk, state in counted if state not in FINAL_STATES), None)
    limit = shop.max_orders_per_customer_per_day
    return DailyAllowance(limit=limit, used=len(counted),
                          remaining=max(limit - len(counted), 0), active_order_id=active,
                          resets_at=next_local_midnight(shop, today))


def next_local_midnight(shop: Shop, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=shop.tz)


# Journey -------------------------------------------------------------------------------------

def journey_step_name(detail_type: str) -> str:
    """"OrderManager.MakeOrder" → "Make order"; "OrderProcessor.orderFinished" → "Order
    finished" (what the journey page calls each step)."""
    action = detail_type.rsplit(".", 1)[-1]
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", action) or [action]
    text = " ".join(word.lower() for word in words)
    return text[:1].upper() + text[1:]


def order_journey(*, order: Order) -> list[JourneyStep]:
    """Every event of the order so far, oldest first."""
    return [
        {
            "eventId": str(entry.event_id),
            "detailType": entry.detail_type,
            "step": journey_step_name(entry.detail_type),
            "message": entry.message,
            "time": utc_timestamp(entry.time),
            "detail": entry.detail,
        }
        for entry in JourneyEntry.objects.filter(order=order).order_by("time", "id")
    ]
