"""The shop's admin: pages render, shop and menu edits go through services (and are announced),
orders are read-only and acted on only through service actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.events import DetailType
from orders.models import (
    Customer,
    DailyMetric,
    Drink,
    ModifierGroup,
    ModifierOption,
    Order,
    Shop,
)
from orders.subscribers import record_journey
from orders.workflow import OrderState
from tests.orders.conftest import claimed, deliver, queued, shop_events, started

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: None) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw", first_name="Root")
    client = Client()
    client.force_login(user)
    return client


def shop_form(shop: Shop, **changes: Any) -> dict[str, Any]:
    data = {name: getattr(shop, name) for name in (
        "name", "timezone", "max_queue", "max_orders_per_customer_per_day", "drinks_per_window",
        "window_seconds", "customer_timeout_seconds", "barista_timeout_seconds")}
    if shop.is_open:
        data["is_open"] = "on"
    data.update(changes)
    return data


@pytest.mark.parametrize("model", ["shop", "drink", "modifiergroup", "modifieroption", "order",
                                   "customer", "qrwindow", "journeyentry", "dailymetric"])
def test_every_list_renders(admin_client: Client, shop: Shop, customer: Customer,
                            model: str) -> None:
    queued(shop, customer)
    response = admin_client.get(reverse(f"admin:orders_{model}_changelist"))
    assert response.status_code == 200


def test_guest_orders_are_switched_on_in_the_admin_and_announced(
    admin_client: Client, shop: Shop
) -> None:
    url = reverse("admin:orders_shop_change", args=[shop.pk])
    assert "Their daily limit then counts per browser" in admin_client.get(url).text
    assert admin_client.post(url, shop_form(shop, guest_orders="on")).status_code == 302
    shop.refresh_from_db()
    assert shop.guest_orders is True
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["config"]["guestOrders"] is True


def test_a_shop_change_goes_through_the_service(admin_client: Client, shop: Shop) -> None:
    url = reverse("admin:orders_shop_change", args=[shop.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, shop_form(shop, max_queue=4))
    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.max_queue, shop.config_version) == (4, 2)
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["config"]["maxQueue"] == 4
    assert event.detail["Message"] == "Root changed the settings of Test Bar: max queue 10 → 4."


def test_an_invalid_shop_setting_is_shown_on_the_form(admin_client: Client, shop: Shop) -> None:
    url = reverse("admin:orders_shop_change", args=[shop.pk])
    response = admin_client.post(url, shop_form(shop, timezone="Nowhere/Land", max_queue=0))
    assert response.status_code == 200
    assert "is not a time zone name" in response.content.decode()
    shop.refresh_from_db()
    assert (shop.timezone, shop.max_queue, shop.config_version) == ("UTC", 10, 1)
    assert not shop_events(DetailType.CONFIG_CHANGED)


def test_a_shop_is_added_through_the_service(admin_client: Client, shop: Shop) -> None:
    response = admin_client.post(reverse("admin:orders_shop_add"),
                                 {**shop_form(shop, name="Second"), "slug": "second"})
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Shop.objects.get(slug="second")
    assert created.name == "Second"
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["shopId"] == "second"


def test_a_drink_edit_is_announced_with_the_new_menu(admin_client: Client, shop: Shop) -> None:
    latte = Drink.objects.get(shop=shop, name="Latte")
    url = reverse("admin:orders_drink_change", args=[latte.pk])
    assert admin_client.get(url).status_code == 200
    groups = list(latte.modifier_groups.all())
    data: dict[str, Any] = {
        "name": "Latte", "icon": "latte", "position": 1,  # "available" unticked
        "modifier_groups-TOTAL_FORMS": len(groups), "modifier_groups-INITIAL_FORMS": len(groups),
        "modifier_groups-MIN_NUM_FORMS": 0, "modifier_groups-MAX_NUM_FORMS": 1000,
    }
    for n, group in enumerate(groups):
        data.update({f"modifier_groups-{n}-id": group.pk, f"modifier_groups-{n}-drink": latte.pk,
                     f"modifier_groups-{n}-name": group.name,
                     f"modifier_groups-{n}-position": group.position})
        if group.required:
            data[f"modifier_groups-{n}-required"] = "on"
        if group.multiple:
            data[f"modifier_groups-{n}-multiple"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    latte.refresh_from_db()
    assert latte.available is False
    shop.refresh_from_db()
    assert shop.config_version == 2
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["Message"] == "Root changed the menu of Test Bar: Latte changed."
    assert next(d for d in event.detail["menu"] if d["name"] == "Latte")["available"] is False


def test_options_edited_in_a_group_are_announced(admin_client: Client, shop: Shop) -> None:
    milk = ModifierGroup.objects.get(drink__shop=shop, name="Milk")
    options = list(milk.options.all())
    data: dict[str, Any] = {
        "name": "Milk", "required": "on", "position": 0,
        "options-TOTAL_FORMS": len(options) + 1, "options-INITIAL_FORMS": len(options),
        "options-MIN_NUM_FORMS": 0, "options-MAX_NUM_FORMS": 1000,
    }
    for n, option in enumerate(options):
        data.update({f"options-{n}-id": option.pk, f"options-{n}-group": milk.pk,
                     f"options-{n}-name": option.name, f"options-{n}-position": n})
    data.update({f"options-{len(options)}-name": "Soy", f"options-{len(options)}-position": 9,
                 f"options-{len(options)}-group": milk.pk})
    response = admin_client.post(reverse("admin:orders_modifiergroup_change", args=[milk.pk]),
                                 data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert milk.options.filter(name="Soy").exists()
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    latte = next(d for d in event.detail["menu"] if d["name"] == "Latte")
    assert "Soy" in latte["groups"][0]["options"]


def test_deleting_a_drink_is_announced(admin_client: Client, shop: Shop) -> None:
    espresso = Drink.objects.get(shop=shop, name="Espresso")
    response = admin_client.post(reverse("admin:orders_drink_delete", args=[espresso.pk]),
                                 {"post": "yes"})
    assert response.status_code == 302
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["Message"].endswith("Espresso removed.")
    assert "Espresso" not in [d["name"] for d in event.detail["menu"]]


def test_orders_are_read_only_and_never_show_the_token(
    admin_client: Client, shop: Shop, customer: Customer
) -> None:
    order = started(shop, customer)
    token = Order.objects.get(pk=order.pk).wait_token
    for event in shop_events(order_id=order.pk):
        deliver(record_journey, event)
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert token not in html
    assert "Workflow started" in html  # the journey
    response = admin_client.post(reverse("admin:orders_order_change", args=[order.pk]),
                                 {"state": "COMPLETED"})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_FOR_DRINK


def test_order_actions_call_the_services(
    admin_client: Client, shop: Shop, customer: Customer, other_customer: Customer,
    barista: User
) -> None:
    mine = queued(shop, customer)
    theirs = claimed(shop, other_customer, barista)
    response = admin_client.post(reverse("admin:orders_order_changelist"), {
        "action": "cancel_orders", "_selected_action": [mine.pk, theirs.pk],
    }, follow=True)
    text = response.content.decode()
    assert Order.objects.get(pk=mine.pk).state == OrderState.CANCELLED
    # Staff may cancel another barista's order.
    assert Order.objects.get(pk=theirs.pk).state == OrderState.CANCELLED
    assert "Cancelled:" in text
    response = admin_client.post(reverse("admin:orders_order_changelist"), {
        "action": "complete_orders", "_selected_action": [mine.pk],
    }, follow=True)
    assert "has been cancelled, so you cannot complete it" in response.content.decode()


def test_metrics_and_journeys_are_read_only(admin_client: Client, shop: Shop) -> None:
    metric = DailyMetric.objects.create(shop=shop, business_date="2026-11-29", name="x", count=1)
    response = admin_client.post(reverse("admin:orders_dailymetric_change", args=[metric.pk]),
                                 {"count": 5})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:orders_journeyentry_add")).status_code == 403


# Menu writes go through the menu service, whose refusals are shown, never swallowed --------

def group_form(group: ModifierGroup, *, keep: int | None = None, **changes: Any) -> dict[str, Any]:
    """The group's change form as posted, its first `keep` options kept and the rest deleted."""
    options = list(group.options.all())
    keep = len(options) if keep is None else keep
    data: dict[str, Any] = {
        "name": group.name, "position": group.position,
        "options-TOTAL_FORMS": len(options), "options-INITIAL_FORMS": len(options),
        "options-MIN_NUM_FORMS": 0, "options-MAX_NUM_FORMS": 1000,
    }
    if group.required:
        data["required"] = "on"
    for n, option in enumerate(options):
        data.update({f"options-{n}-id": option.pk, f"options-{n}-group": group.pk,
                     f"options-{n}-name": option.name, f"options-{n}-position": n})
        if n >= keep:
            data[f"options-{n}-DELETE"] = "on"
    data.update(changes)
    return data


def test_a_refused_menu_change_is_shown_on_the_form_and_saves_nothing(
    admin_client: Client, shop: Shop
) -> None:
    """Removing every option of a required choice would make the Latte impossible to order:
    the menu service refuses it, the form says why, and nothing (the group's rename included)
    is saved or announced."""
    milk = ModifierGroup.objects.get(drink__shop=shop, name="Milk")
    response = admin_client.post(reverse("admin:orders_modifiergroup_change", args=[milk.pk]),
                                 group_form(milk, keep=0, name="Dairy"))
    assert response.status_code == 200
    assert "no one could order a Latte" in response.content.decode()
    milk.refresh_from_db()
    assert milk.name == "Milk"
    assert milk.options.count() == 3
    shop.refresh_from_db()
    assert shop.config_version == 1
    assert not shop_events(DetailType.CONFIG_CHANGED)


def test_a_refused_menu_deletion_is_an_admin_message(admin_client: Client, shop: Shop) -> None:
    milk = ModifierGroup.objects.get(drink__shop=shop, name="Milk")
    [*others, last] = list(milk.options.all())
    ModifierOption.objects.filter(pk__in=[option.pk for option in others]).delete()
    url = reverse("admin:orders_modifieroption_delete", args=[last.pk])
    response = admin_client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"]]
    assert "no one could order a Latte" in message
    assert ModifierOption.objects.filter(pk=last.pk).exists()
    assert not shop_events(DetailType.CONFIG_CHANGED)


def test_a_required_choice_may_be_emptied_on_an_unavailable_drink(
    admin_client: Client, shop: Shop
) -> None:
    latte = Drink.objects.get(shop=shop, name="Latte")
    Drink.objects.filter(pk=latte.pk).update(available=False)
    milk = ModifierGroup.objects.get(drink=latte, name="Milk")
    response = admin_client.post(reverse("admin:orders_modifiergroup_change", args=[milk.pk]),
                                 group_form(milk, keep=0))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not milk.options.exists()
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["Message"] == (
        "Root changed the menu of Test Bar: Latte's Milk options changed.")


def test_editable_rows_of_the_drink_list_are_saved_through_the_service(
    admin_client: Client, shop: Shop
) -> None:
    drinks = list(Drink.objects.filter(shop=shop).order_by("pk"))
    data: dict[str, Any] = {"form-TOTAL_FORMS": len(drinks), "form-INITIAL_FORMS": len(drinks),
                            "form-MIN_NUM_FORMS": 0, "form-MAX_NUM_FORMS": 1000, "_save": "Save"}
    for n, drink in enumerate(drinks):
        data[f"form-{n}-id"] = drink.pk
        data[f"form-{n}-position"] = drink.position + (10 if drink.name == "Espresso" else 0)
        if drink.available:
            data[f"form-{n}-available"] = "on"
    response = admin_client.post(reverse("admin:orders_drink_changelist"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Drink.objects.get(shop=shop, name="Espresso").position == 10
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert event.detail["Message"] == "Root changed the menu of Test Bar: Espresso changed."


def test_the_shops_baristas_are_named_through_the_service(admin_client: Client,
                                                          shop: Shop) -> None:
    barista = User.objects.create_user("bea", password="pw")
    url = reverse("admin:orders_shop_change", args=[shop.pk])
    response = admin_client.post(url, shop_form(shop, baristas=[barista.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(shop.baristas.all()) == [barista]
