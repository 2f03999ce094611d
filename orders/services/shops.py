"""The shop's settings: creating a shop, opening and closing it, changing its configuration,
and announcing each change (`ConfigService.ConfigChanged`) with the whole new configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import selectors
from orders.event_details import ConfigChangedDetail
from orders.events import DetailType, emit
from orders.models import Shop
from orders.permissions import ActingUser, require_barista, require_staff
from orders.services.wording import person_name
from orders.workflow import OrderError

CONFIG_FIELDS = (
    "name", "is_open", "max_queue", "max_orders_per_customer_per_day", "guest_orders",
    "customer_timeout_seconds", "barista_timeout_seconds", "drinks_per_window",
    "window_seconds", "timezone",
)


def shop_config_publish(*, shop: Shop, message: str) -> Shop:
    """Bumps the shop's config version and emits `ConfigService.ConfigChanged` with the whole
    new configuration and menu. Runs inside the change's transaction. The checked services
    below call it; call it directly only for system changes (the demo seed)."""
    Shop.objects.filter(pk=shop.pk).update(config_version=F("config_version") + 1)
    shop.refresh_from_db(fields=["config_version"])
    emit(DetailType.CONFIG_CHANGED, ConfigChangedDetail(
        shopId=shop.slug, config=selectors.shop_settings(shop=shop),
        menuVersion=shop.config_version, menu=selectors.shop_menu(shop=shop), Message=message,
    ))
    return shop


def _label(field_name: str) -> str:
    return field_name.replace("_", " ")


def _clean(shop: Shop, fields: Mapping[str, Any]) -> list[str]:
    """Sets and validates `fields` on `shop`; returns the names whose value changed."""
    unknown = [name for name in fields if name not in CONFIG_FIELDS]
    if unknown:
        raise OrderError(f"{unknown[0]!r} is not a shop setting (settings: "
                         f"{', '.join(CONFIG_FIELDS)}).", "invalid_config", field=unknown[0])
    before = {name: getattr(shop, name) for name in fields}
    for name, value in fields.items():
        setattr(shop, name, value)
    others = [f.name for f in Shop._meta.fields if f.name not in fields]
    try:
        shop.clean_fields(exclude=others)
    except ValidationError as invalid:
        name, messages = next(iter(invalid.message_dict.items()))
        raise OrderError(f"{_label(name).capitalize()}: {' '.join(messages)}", "invalid_config",
                         field=name) from None
    return [name for name in fields if getattr(shop, name) != before[name]]


def shop_create(*, slug: str, name: str, user: ActingUser, **fields: Any) -> Shop:
    """A new shop (staff only), closed unless `is_open` is given, with an empty menu."""
    user = require_staff(user, "create shops")
    shop = Shop(slug=slug.strip() if isinstance(slug, str) else "")
    _clean(shop, {"name": name, **fields})
    try:
        shop.clean_fields(exclude=[f.name for f in Shop._meta.fields if f.name != "slug"])
        shop.validate_unique()
    except ValidationError as invalid:
        raise OrderError(" ".join(invalid.messages), "invalid_config", field="slug") from None
    with transaction.atomic():
        shop.save()
        shop_config_publish(shop=shop, message=f"The shop {shop.name} was created.")
    return shop


def shop_set_open(*, shop: Shop, is_open: bool, user: ActingUser) -> Shop:
    """Opens or closes the shop (baristas and staff). Orders already going carry on; new
    ones are turned away as "closed" while it is shut."""
    user = require_barista(user, "open or close the shop")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        if shop.is_open == bool(is_open):
            return shop
        shop.is_open = bool(is_open)
        # A "closing soon" notice is over once someone opens or closes by hand, and the hours'
        # changes until now (one applied late, after an outage) never undo the hand.
        shop.closing_at = None
        shop.hours_started_at = timezone.now() if shop.follows_hours else None
        shop.save(update_fields=["is_open", "closing_at", "hours_started_at"])
        verb = "opened" if is_open else "closed"
        shop_config_publish(shop=shop, message=f"{person_name(user)} {verb} {shop.name}.")
    return shop


def shop_update_config(*, shop: Shop, user: ActingUser, **fields: Any) -> Shop:
    """Changes shop settings (staff only); each is validated, and a change is announced."""
    user = require_staff(user, "change the shop's settings")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        before = {name: getattr(shop, name) for name in fields if name in CONFIG_FIELDS}
        changed = _clean(shop, fields)
        if not changed:
            return shop
        saved = list(changed)
        if "is_open" in changed:  # by hand, as shop_set_open: the hours do not undo it
            shop.closing_at = None
            shop.hours_started_at = timezone.now() if shop.follows_hours else None
            saved += ["closing_at", "hours_started_at"]
        shop.save(update_fields=saved)
        summary = "; ".join(
            f"{_label(name)} {before[name]} → {getattr(shop, name)}"
            for name in changed
        )
        shop_config_publish(
            shop=shop,
            message=f"{person_name(user)} changed the settings of {shop.name}: {summary}.",
        )
    return shop


def shop_set_baristas(*, shop: Shop, baristas: Iterable[User], user: ActingUser) -> Shop:
    """Names the baristas who run the shop (staff only); none named means every barista."""
    require_staff(user, "choose the shop's baristas")
    shop.baristas.set(list(baristas))
    return shop
