"""The shop's menu: its drinks, their choices (modifier groups) and options. Every write of a
menu row goes through `menu_change`, which checks it and announces the new menu
(`ConfigService.ConfigChanged`, menu version bumped) once, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from orders.models import Drink, ModifierGroup, ModifierOption, Shop
from orders.permissions import ActingUser, require_staff
from orders.services.shops import shop_config_publish
from orders.services.wording import person_name
from orders.workflow import OrderError

MenuItem = Drink | ModifierGroup | ModifierOption


def menu_item_shop(item: MenuItem) -> Shop:
    if isinstance(item, Drink):
        return item.shop
    if isinstance(item, ModifierGroup):
        return item.drink.shop
    return item.group.drink.shop


def menu_item_describe(item: MenuItem) -> str:
    """How a change message names a row: "Latte", "Latte's Milk options", "Latte's Milk
    option Oat"."""
    if isinstance(item, Drink):
        return item.name
    if isinstance(item, ModifierGroup):
        return f"{item.drink.name}'s {item.name} options"
    return f"{item.group.drink.name}'s {item.group.name} option {item.name}"


def _link_to_saved_parent(item: MenuItem) -> None:
    # A row added with its parent (an inline) points at the parent object, saved a moment ago
    # in this call: its id is what validation and the unique checks read.
    if isinstance(item, ModifierGroup) and item.drink_id is None and item.drink.pk:
        item.drink_id = item.drink.pk
    if isinstance(item, ModifierOption) and item.group_id is None and item.group.pk:
        item.group_id = item.group.pk


def _validated(item: MenuItem) -> MenuItem:
    _link_to_saved_parent(item)
    try:
        item.full_clean()
    except ValidationError as invalid:
        name, messages = next(iter(invalid.message_dict.items()))
        raise OrderError(f"{menu_item_describe(item)}: {' '.join(messages)}", "invalid_menu",
                         field=None if name == "__all__" else name) from None
    return item


def _check_orderable(shop: Shop) -> None:
    """A required choice of an available drink keeps at least one option: without one, no
    customer could order the drink (the drink validator would refuse every order)."""
    empty = (ModifierGroup.objects.filter(drink__shop=shop, drink__available=True,
                                          required=True, options__isnull=True)
             .select_related("drink").order_by("drink__position", "position").first())
    if empty is not None:
        raise OrderError(
            f"{empty.drink.name}'s {empty.name} choice is required but would have no options, "
            f"so no one could order a {empty.drink.name}: keep an option, untick "
            f"\u201crequired\u201d, or make the drink unavailable first.",
            "invalid_menu", field="required",
        )


def menu_change(
    *,
    shop: Shop,
    user: ActingUser,
    change: str,
    saved: Sequence[MenuItem] = (),
    removed: Sequence[MenuItem] = (),
) -> Shop:
    """Saves `saved` (parents before the rows added with them) and deletes `removed`, all rows
    of `shop`'s menu (staff only), then announces the new menu with `change` as what happened.
    A refusal (a row of another shop, an invalid field, a required choice left without
    options) changes nothing."""
    user = require_staff(user, "change the menu")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        for item in (*saved, *removed):
            if menu_item_shop(item).pk != shop.pk:
                raise OrderError(f"{menu_item_describe(item)} is not on the menu of {shop.name}.",
                                 "invalid_menu")
        for item in saved:
            _validated(item).save()
        for item in removed:
            if item.pk is not None:
                item.delete()
        _check_orderable(shop)
        return shop_config_publish(
            shop=shop, message=f"{person_name(user)} changed the menu of {shop.name}: {change}."
        )

