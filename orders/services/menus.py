"""The shop's menu: every change to its drinks, modifier groups and options is announced with
the new menu (`ConfigService.ConfigChanged`) in the transaction that made it."""

from __future__ import annotations

from django.db import transaction

from orders.models import Shop
from orders.permissions import ActingUser, require_staff
from orders.services.shops import shop_config_publish
from orders.services.wording import person_name


def shop_menu_changed(*, shop: Shop, user: ActingUser, change: str) -> Shop:
    """Announces a menu change made through the admin (staff only): bumps the version and
    emits the new menu. Call it in the transaction that changed the menu."""
    user = require_staff(user, "change the menu")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        return shop_config_publish(
            shop=shop, message=f"{person_name(user)} changed the menu of {shop.name}: {change}."
        )
