"""Fixtures of the shop's domain tests: a small open shop with a menu, customers, baristas, and
helpers that take an order to a given step through the real services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from orders.events import BUS_NAME
from orders.models import Customer, Drink, ModifierGroup, ModifierOption, Order, Shop
from orders.permissions import BARISTAS_GROUP
from orders.services import (
    customer_create,
    order_claim,
    order_redeem,
    order_start,
    order_submit,
    qr_window_current,
)
from routing import handlers
from routing.models import Event
from routing.selectors.publishers import event_publisher
from routing.targets.base import DeliveryContext

LATTE_CHOICE = {"Milk": ["Oat"], "Extras": ["Vanilla"]}


def make_shop(slug: str = "test", **fields: Any) -> Shop:
    values: dict[str, Any] = {"name": "Test Bar", "is_open": True, "max_queue": 10,
                              "max_orders_per_customer_per_day": 1, "drinks_per_window": 10}
    values.update(fields)
    shop = Shop.objects.create(slug=slug, **values)
    latte = Drink.objects.create(shop=shop, name="Latte", icon="latte", position=1)
    milk = ModifierGroup.objects.create(drink=latte, name="Milk", required=True, position=0)
    for position, name in enumerate(["Regular", "Oat", "Almond"]):
        ModifierOption.objects.create(group=milk, name=name, position=position)
    extras = ModifierGroup.objects.create(drink=latte, name="Extras", multiple=True, position=1)
    for position, name in enumerate(["Vanilla", "Caramel", "Extra shot"]):
        ModifierOption.objects.create(group=extras, name=name, position=position)
    Drink.objects.create(shop=shop, name="Espresso", icon="espresso", position=0)
    Drink.objects.create(shop=shop, name="Cappuccino", icon="cappuccino", available=False,
                         position=2)
    return shop


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop()


def make_account(email: str) -> User:
    """A customer's account as a sign-in code makes it: an email, no password."""
    user = User.objects.create_user(username=email.split("@")[0], email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def make_customer(name: str, email: str | None = None) -> Customer:
    """A signed-in customer (their own account) who has told us their name."""
    address = email or f"customer-{uuid.uuid4().hex[:12]}@example.com"
    return customer_create(name=name, user=make_account(address))


@pytest.fixture
def customer(db: None) -> Customer:
    return make_customer("Ada")


@pytest.fixture
def other_customer(db: None) -> Customer:
    return make_customer("Grace")


def make_barista(username: str, *, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="x", first_name=username.title(),
                                    is_staff=staff)
    if not staff:
        group, _ = Group.objects.get_or_create(name=BARISTAS_GROUP)
        user.groups.add(group)
    return user


@pytest.fixture
def barista(db: None) -> User:
    return make_barista("alice")


@pytest.fixture
def other_barista(db: None) -> User:
    return make_barista("bob")


@pytest.fixture
def staff(db: None) -> User:
    return make_barista("manager", staff=True)


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user(username="mallory", password="x")


def redeem(shop: Shop, customer: Customer) -> Order:
    return order_redeem(shop=shop, code=qr_window_current(shop=shop).code, customer=customer)


def started(shop: Shop, customer: Customer) -> Order:
    return order_start(order_id=redeem(shop, customer).pk)


def queued(shop: Shop, customer: Customer, drink: str = "Latte",
           choices: dict[str, list[str]] | None = None) -> Order:
    order = started(shop, customer)
    return order_submit(order=order, customer=customer, drink_name=drink,
                        choices=LATTE_CHOICE if choices is None and drink == "Latte"
                        else choices or {})


def claimed(shop: Shop, customer: Customer, barista: User) -> Order:
    return order_claim(order=queued(shop, customer), barista=barista)


def shop_events(detail_type: str | None = None, order_id: str | None = None) -> list[Event]:
    """The shop's events, oldest first (optionally of one type and/or one order)."""
    events = Event.objects.filter(bus__name=BUS_NAME).order_by("ingested_at", "time")
    if detail_type:
        events = events.filter(detail_type=detail_type)
    found = list(events)
    if order_id:
        found = [event for event in found if event.detail.get("orderId") == order_id]
    return found


def deliver(handler: Any, event: Event, attempt: int = 1) -> None:
    """Calls a subscriber as the delivery task does: the envelope and a context."""
    context = DeliveryContext(
        event=event.envelope(), event_id=str(event.pk), bus_name=event.bus.name,
        rule_name="test", rule_arn="arn:test", target_id="test", delivery_id="d-1",
        attempt=attempt, publisher=event_publisher(event),
    )
    handler(event.envelope(), context)


def detail_types(order_id: str) -> list[str]:
    return [event.detail_type for event in shop_events(order_id=order_id)]


@pytest.fixture
def live_push_handler() -> Iterator[None]:
    """orders.live.push belongs to the live pages; if it is not registered (yet), a test double
    stands in so the publisher rule can be created."""
    registered = "orders.live.push" in handlers.registered_handler_names()
    if not registered:
        handlers.register_handler("orders.live.push")(lambda payload, context: None)
    yield
    if not registered:
        handlers._handlers.pop("orders.live.push", None)
