"""Reads the pages share: config and menu, the board, a customer's history and allowance, an
order's journey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders import selectors
from orders.models import Customer, JourneyEntry, Shop
from orders.services import OrderError, order_cancel, order_complete, qr_window_current
from orders.workflow import MenuGroup
from tests.orders.conftest import claimed, make_customer, queued, redeem, started

pytestmark = pytest.mark.django_db


def test_shop_settings_and_menu(shop: Shop) -> None:
    assert selectors.shop_settings(shop=shop) == {
        "name": "Test Bar", "open": True, "maxQueue": 10, "maxOrdersPerCustomerPerDay": 1,
        "guestOrders": False,
        "customerTimeoutSeconds": 300, "baristaTimeoutSeconds": 900, "drinksPerWindow": 10,
        "windowSeconds": 300, "timezone": "UTC",
    }
    menu = selectors.shop_menu(shop=shop)
    assert [d["name"] for d in menu] == ["Espresso", "Latte", "Cappuccino"]
    latte = menu[1]
    assert latte == {
        "name": "Latte", "icon": "latte", "available": True,
        "groups": [
            {"name": "Milk", "multiple": False, "required": True,
             "options": ["Regular", "Oat", "Almond"]},
            {"name": "Extras", "multiple": True, "required": False,
             "options": ["Vanilla", "Caramel", "Extra shot"]},
        ],
    }
    available = selectors.shop_menu(shop=shop, available_only=True)
    assert [d["name"] for d in available] == ["Espresso", "Latte"]
    assert qr_window_current(shop=shop).code not in str(menu)


def test_menu_drink_feeds_the_validator(shop: Shop) -> None:
    found = selectors.menu_drink(shop=shop, name="Latte")
    assert found is not None
    menu_drink, row = found
    assert row.icon == "latte"
    assert menu_drink.groups[0] == MenuGroup("Milk", ("Regular", "Oat", "Almond"), False, True)
    assert selectors.menu_drink(shop=shop, name="Mocha") is None


def test_lookups_raise_order_errors(db: None) -> None:
    with pytest.raises(OrderError) as error:
        selectors.shop_get(slug="nowhere")
    assert (error.value.code, error.value.http_status) == ("not_found", 404)


def test_the_board_lists_queue_production_and_recently_ready(
    shop: Shop, barista: User
) -> None:
    customers = [make_customer(f"C{n}") for n in range(4)]
    first = queued(shop, customers[0])
    making = claimed(shop, customers[1], barista)
    ready = order_complete(order=queued(shop, customers[2]), barista=barista)
    started(shop, customers[3])
    board = selectors.shop_board(shop=shop)
    assert [o.pk for o in board.queued] == [first.pk]
    assert [o.pk for o in board.in_production] == [making.pk]
    assert [o.pk for o in board.ready] == [ready.pk]
    later = selectors.shop_board(shop=shop, now=timezone.now() + timedelta(minutes=11))
    assert later.ready == []
    assert selectors.shop_open_order_count(shop=shop) == 3


def test_a_customers_history_and_active_order(shop: Shop, customer: Customer) -> None:
    shop.max_orders_per_customer_per_day = 5
    shop.save()
    old = started(shop, customer)
    order_cancel(order=old, by="customer", customer=customer)
    current = queued(shop, customer)
    assert [o.pk for o in selectors.customer_history(customer=customer)] == [current.pk, old.pk]
    assert selectors.customer_history(customer=customer, limit=1)[0].pk == current.pk
    assert selectors.customer_active_order(customer=customer).pk == current.pk
    assert selectors.customer_active_order(customer=customer, shop=shop).pk == current.pk
    allowance = selectors.customer_daily_allowance(shop=shop, customer=customer)
    assert (allowance.limit, allowance.used, allowance.remaining) == (5, 1, 4)
    assert allowance.active_order_id == current.pk
    assert allowance.resets_at > timezone.now()


def test_the_journey_lists_steps_in_order(shop: Shop, customer: Customer) -> None:
    order = redeem(shop, customer)
    now = timezone.now()
    for offset, detail_type in enumerate(["Validator.NewOrder", "OrderProcessor.orderFinished"]):
        JourneyEntry.objects.create(
            order=order, event_id=f"00000000-0000-0000-0000-00000000000{offset}",
            detail_type=detail_type, message=f"step {offset}", time=now + timedelta(seconds=offset),
        )
    journey = selectors.order_journey(order=order)
    assert [(s["step"], s["message"]) for s in journey] == [
        ("New order", "step 0"), ("Order finished", "step 1")
    ]
    assert journey[0]["time"].endswith("Z")


@pytest.mark.parametrize(("detail_type", "step"), [
    ("Validator.NewOrder", "New order"),
    ("OrderProcessor.WorkflowStarted", "Workflow started"),
    ("OrderProcessor.orderFinished", "Order finished"),
    ("OrderProcessor.OrderTimeOut", "Order time out"),
    ("OrderManager.MakeOrder", "Make order"),
    ("ConfigService.ConfigChanged", "Config changed"),
])
def test_journey_step_names(detail_type: str, step: str) -> None:
    assert selectors.journey_step_name(detail_type) == step
