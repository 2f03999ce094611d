"""Privacy: shop events carry no customer name, "erase my data" (the customer's page and the
admin) removes the name from every page and answer, and the retention expires old orders."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from orders.models import Customer, JourneyEntry, Order, Shop
from orders.permissions import SESSION_CUSTOMER_KEY
from orders.privacy import customer_erase, personal_data_expire
from orders.rules import ARCHIVE_NAME, ensure_shop_rules
from orders.services import order_cancel, order_complete
from orders.subscribers import record_journey
from orders.workflow import CancelledBy, OrderError, OrderState
from routing.models import Archive
from tests.orders.conftest import (
    claimed,
    deliver,
    make_barista,
    make_customer,
    queued,
    shop_events,
)

pytestmark = pytest.mark.django_db

NAME = "Zebedee Quux"


def journeyed(order: Order) -> None:
    """The journey subscriber records every event of the order, as its rule would."""
    for event in shop_events(order_id=order.pk):
        deliver(record_journey, event)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def zebedee(db: None) -> Customer:
    return make_customer(NAME)


def test_no_shop_event_names_the_customer(shop: Shop, zebedee: Customer, barista: User) -> None:
    completed = order_complete(order=claimed(shop, zebedee, barista), barista=barista)
    cancelled = order_cancel(order=queued(shop, make_customer("Zebedee Two"), drink="Espresso"),
                             by=CancelledBy.BARISTA, barista=barista)
    events = shop_events(order_id=completed.pk) + shop_events(order_id=cancelled.pk)
    assert len(events) >= 8
    for event in events:
        body = json.dumps(event.detail)
        assert "Zebedee" not in body, event.detail_type
        assert event.detail.get("userId") in (str(zebedee.pk), str(cancelled.customer_id))


def pages_and_answers(shop: Shop, customer_client: Client, staff_client: Client,
                      order: Order) -> dict[str, str]:
    """Everything a person can read about the order: customer, barista, display, dashboard."""
    urls = {
        "order": (customer_client, reverse("orders:order", args=[order.pk])),
        "journey": (customer_client, reverse("orders:journey", args=[order.pk])),
        "my orders": (customer_client, reverse("orders:my-orders")),
        "barista": (staff_client, reverse("orders:barista", args=[shop.slug])),
        "display": (staff_client, reverse("orders:display", args=[shop.slug])),
        "admin order": (staff_client, reverse("admin:orders_order_change", args=[order.pk])),
        "dashboard events": (staff_client, reverse("dashboard:events")),
    }
    for event in shop_events(order_id=order.pk):
        urls[f"event {event.detail_type}"] = (
            staff_client, reverse("dashboard:event", args=[event.pk]))
        urls[f"api trace {event.detail_type}"] = (staff_client, f"/api/events/{event.pk}")
    texts = {}
    for label, (client, url) in urls.items():
        response = client.get(url)
        assert response.status_code in (200, 401), (label, response.status_code)
        texts[label] = response.content.decode()
    return texts


def test_after_erase_the_name_is_on_no_page_and_in_no_answer(
        shop: Shop, zebedee: Customer, barista: User) -> None:
    order = claimed(shop, zebedee, barista)
    journeyed(order)
    # A journey entry recorded before events stopped carrying names.
    JourneyEntry.objects.create(order=order, event_id=uuid.uuid4(), time=timezone.now(),
                                detail_type="Validator.NewOrder",
                                message=f"{NAME} scanned the QR code.",
                                detail={"Message": f"{NAME} scanned the QR code."})
    admin = User.objects.create_superuser("root", password="x")
    customer_client, staff_client = signed_in(zebedee.user), signed_in(admin)
    before = pages_and_answers(shop, customer_client, staff_client, order)
    # The attack is real: the name is there before the erasure.
    assert "Zebedee" in before["barista"]
    assert NAME in before["journey"]

    page = customer_client.get(reverse("orders:erase-my-data"))
    assert page.status_code == 200
    assert "Yes, erase my data" in page.text
    refused = customer_client.post(reverse("orders:erase-my-data"))
    assert refused.status_code == 400
    assert Customer.objects.get(pk=zebedee.pk).name == NAME
    done = customer_client.post(reverse("orders:erase-my-data"), {"confirm": "yes"})
    assert done.status_code == 200
    assert "Your data was erased" in done.text

    erased = Customer.objects.get(pk=zebedee.pk)
    assert erased.name == ""
    assert erased.erased_at is not None
    after = pages_and_answers(shop, customer_client, staff_client, order)
    assert set(after) == set(before)
    for label, text in after.items():
        assert "Zebedee" not in text, label
        assert "Quux" not in text, label
    # The order stays, pseudonymous, and can still be made.
    order_complete(order=Order.objects.get(pk=order.pk), barista=barista)


def test_a_customer_picks_a_reason_and_never_types_one_into_an_event(
        shop: Shop, zebedee: Customer) -> None:
    order = queued(shop, zebedee, drink="Espresso")
    with pytest.raises(OrderError) as refused:
        order_cancel(order=order, by=CancelledBy.CUSTOMER, customer=zebedee,
                     reason="Zebedee Quux has to run")
    assert refused.value.code == "invalid_reason"
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED


def test_erase_blanks_the_reasons_a_customer_gave(shop: Shop, zebedee: Customer) -> None:
    order = queued(shop, zebedee, drink="Espresso")
    # An order cancelled before customers' reasons were limited to a list.
    Order.objects.filter(pk=order.pk).update(state=OrderState.CANCELLED,
                                             cancelled_by=CancelledBy.CUSTOMER,
                                             cancel_reason="Zebedee has to run")
    report = customer_erase(customer=zebedee)
    assert report.orders == 1
    assert Order.objects.get(pk=order.pk).cancel_reason == ""
    # Twice is harmless.
    assert customer_erase(customer=zebedee).orders == 0


def test_a_guest_erases_their_data_from_their_browser(shop: Shop) -> None:
    guest = Customer.objects.create(name=NAME)
    client = Client()
    session = client.session
    session[SESSION_CUSTOMER_KEY] = str(guest.pk)
    session.save()
    assert client.post(reverse("orders:erase-my-data"), {"confirm": "yes"}).status_code == 200
    assert Customer.objects.get(pk=guest.pk).name == ""


def test_a_stranger_has_nothing_to_erase(zebedee: Customer) -> None:
    response = Client().post(reverse("orders:erase-my-data"), {"confirm": "yes"})
    assert response.status_code == 200
    assert "nothing to erase" in response.text
    assert Customer.objects.get(pk=zebedee.pk).name == NAME


def test_staff_erase_a_customer_in_the_admin(shop: Shop, zebedee: Customer) -> None:
    bystander = make_customer("Grace Hopper")
    admin = User.objects.create_superuser("root", password="x")
    response = signed_in(admin).post(reverse("admin:orders_customer_changelist"), {
        "action": "erase_personal_data", "_selected_action": [str(zebedee.pk)]}, follow=True)
    assert response.status_code == 200
    assert "Erased the personal data of" in response.text
    assert Customer.objects.get(pk=zebedee.pk).name == ""
    assert Customer.objects.get(pk=bystander.pk).name == "Grace Hopper"


def test_a_barista_cannot_reach_the_admin_erasure(zebedee: Customer) -> None:
    barista = make_barista("alice")
    response = signed_in(barista).post(reverse("admin:orders_customer_changelist"), {
        "action": "erase_personal_data", "_selected_action": [str(zebedee.pk)]})
    assert response.status_code == 302
    assert Customer.objects.get(pk=zebedee.pk).name == NAME


@override_settings(ORDERS_RETENTION_DAYS=30)
def test_the_retention_expires_old_finished_orders_and_guest_names(
        shop: Shop, zebedee: Customer) -> None:
    old = timezone.now() - timedelta(days=31)
    Shop.objects.filter(pk=shop.pk).update(guest_orders=True)
    shop.refresh_from_db()
    guest = Customer.objects.create(name="Old Guest")
    Customer.objects.filter(pk=guest.pk).update(created_at=old)
    old_order = queued(shop, guest, drink="Espresso")
    order_cancel(order=old_order, by=CancelledBy.CUSTOMER, customer=guest)
    journeyed(old_order)
    Order.objects.filter(pk=old_order.pk).update(created_at=old)
    recent = queued(shop, zebedee, drink="Espresso")
    journeyed(recent)

    report = personal_data_expire()
    assert report.orders == 1
    assert report.journey_entries >= 1
    assert report.names == 1
    assert not Order.objects.filter(pk=old_order.pk).exists()
    assert not JourneyEntry.objects.filter(order_id=old_order.pk).exists()
    assert Customer.objects.get(pk=guest.pk).name == ""
    assert Order.objects.get(pk=recent.pk).state == OrderState.QUEUED
    assert JourneyEntry.objects.filter(order_id=recent.pk).exists()


@override_settings(ORDERS_RETENTION_DAYS=0)
def test_a_retention_of_zero_keeps_everything(shop: Shop, zebedee: Customer) -> None:
    order = queued(shop, zebedee, drink="Espresso")
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=999))
    assert personal_data_expire().orders == 0


def test_the_shop_archive_keeps_events_as_long_as_the_shop_keeps_orders(
        live_push_handler: None) -> None:
    with override_settings(ORDERS_RETENTION_DAYS=30):
        ensure_shop_rules()
        assert Archive.objects.get(name=ARCHIVE_NAME).retention_days == 30
    with override_settings(ORDERS_RETENTION_DAYS=7):
        ensure_shop_rules()
        assert Archive.objects.get(name=ARCHIVE_NAME).retention_days == 7
