"""Demo data for `make run` (`manage.py seed_demo`): the reference's shop, menu and rules.

Safe to run again: what exists is left exactly as it is (an operator's edits survive)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from orders.models import Drink, ModifierGroup, ModifierOption, Shop
from orders.rules import ensure_shop_rules
from orders.services import shop_config_publish

SHOP_SLUG = "main"
SHOP_NAME = "Serverlesspresso"


@dataclass(frozen=True)
class DemoGroup:
    name: str
    options: tuple[str, ...]
    multiple: bool
    required: bool


MILK = DemoGroup("Milk", ("Regular", "Oat", "Almond"), multiple=False, required=True)
EXTRAS = DemoGroup("Extras", ("Vanilla", "Caramel", "Extra shot"), multiple=True, required=False)
SIZE = DemoGroup("Size", ("Small", "Medium", "Large"), multiple=False, required=True)


@dataclass(frozen=True)
class DemoDrink:
    name: str
    icon: str
    groups: tuple[DemoGroup, ...]
    available: bool = True


# The reference's menu (spec §6.1); Cappuccino is off, as in its seed data.
MENU = (
    DemoDrink("Espresso", "espresso", (EXTRAS,)),
    DemoDrink("Americano", "americano", (SIZE, EXTRAS)),
    DemoDrink("Latte", "latte", (MILK, SIZE, EXTRAS)),
    DemoDrink("Cappuccino", "cappuccino", (MILK, SIZE, EXTRAS), available=False),
    DemoDrink("Flat White", "flat-white", (MILK, EXTRAS)),
    DemoDrink("Coffee of the day", "coffee-of-the-day", (SIZE, MILK)),
)


def seed() -> list[str]:
    created: list[str] = []
    with transaction.atomic():
        shop, shop_created = Shop.objects.get_or_create(
            slug=SHOP_SLUG, defaults={"name": SHOP_NAME, "is_open": True}
        )
        if shop_created:
            created.append(f"shop {SHOP_SLUG}")
        menu_items = _seed_menu(shop)
        created += menu_items
        created += ensure_shop_rules()
        if shop_created or menu_items:
            shop_config_publish(shop=shop,
                                message=f"The demo menu of {shop.name} was loaded.")
    return created


def _seed_menu(shop: Shop) -> list[str]:
    created: list[str] = []
    for position, spec in enumerate(MENU):
        drink, drink_created = Drink.objects.get_or_create(
            shop=shop, name=spec.name,
            defaults={"icon": spec.icon, "available": spec.available, "position": position},
        )
        if drink_created:
            created.append(f"drink {spec.name}")
        for group_position, group_spec in enumerate(spec.groups):
            group, group_created = ModifierGroup.objects.get_or_create(
                drink=drink, name=group_spec.name,
                defaults={"multiple": group_spec.multiple, "required": group_spec.required,
                          "position": group_position},
            )
            if not group_created:
                continue  # an existing group is the operator's: leave its options alone
            for option_position, option in enumerate(group_spec.options):
                ModifierOption.objects.get_or_create(group=group, name=option,
                                                     defaults={"position": option_position})
    return created
