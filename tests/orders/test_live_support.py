"""Factories shared by the live, consumer and page tests (no tests here)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders.models import Customer, Drink, ModifierGroup, ModifierOption, Order, Shop
from orders.permissions import BARISTAS_GROUP
from orders.workflow import OrderState, WaitKind

# Must never leave the server: tests look for it in every page and push.
SECRET_TOKEN = "wait-token-that-must-never-leave-the-server"
TEST_PASSWORD = "pw-for-tests"


def make_shop(slug: str = "test-shop", **fields: Any) -> Shop:
    defaults: dict[str, Any] = {"name": "Test Coffee", "is_open": True}
    shop = Shop.objects.create(slug=slug, **{**defaults, **fields})
    latte = Drink.objects.create(shop=shop, name="Latte", icon="latte", position=0)
    milk = ModifierGroup.objects.create(drink=latte, name="Milk", required=True, position=0)
    for position, option in enumerate(("Regular", "Oat")):
        ModifierOption.objects.create(group=milk, name=option, position=position)
    extras = ModifierGroup.objects.create(drink=latte, name="Extras", multiple=True, position=1)
    for position, option in enumerate(("Vanilla", "Caramel")):
        ModifierOption.objects.create(group=extras, name=option, position=position)
    Drink.objects.create(shop=shop, name="Espresso", icon="espresso", position=1)
    return shop


def make_customer(name: str = "Ada Lovelace", *, guest: bool = False) -> Customer:
    """A signed-in customer with their own account (no password, as a sign-in code makes it),
    or with `guest` a guest's name kept in one browser session."""
    if guest:
        return Customer.objects.create(name=name)
    user = get_user_model().objects.create_user(f"customer-{uuid.uuid4().hex[:12]}",
                                                email=f"{uuid.uuid4().hex[:12]}@example.com")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return Customer.objects.create(name=name, user=user)


def make_order(shop: Shop, customer: Customer, *, state: OrderState = OrderState.QUEUED,
               number: int | None = 1, **fields: Any) -> Order:
    now = timezone.now()
    values: dict[str, Any] = {
        "shop": shop, "customer": customer, "state": state, "order_number": number,
        "business_date": shop.business_date(now), "drink": "Latte", "icon": "latte",
        "modifiers": [{"group": "Milk", "option": "Oat"}], "created_at": now,
        "submitted_at": now if state != OrderState.WAITING_FOR_DRINK else None,
        "wait_kind": WaitKind.BARISTA, "wait_token": SECRET_TOKEN,
        "deadline_at": now + timedelta(minutes=10),
    }
    values.update(fields)
    return Order.objects.create(**values)


def make_user(username: str, *, barista: bool = False, staff: bool = False,
              password: str = TEST_PASSWORD) -> Any:
    user = get_user_model().objects.create_user(username, password=password, is_staff=staff)
    if barista:
        group, _ = Group.objects.get_or_create(name=BARISTAS_GROUP)
        user.groups.add(group)
    return user
