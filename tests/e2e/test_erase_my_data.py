"""Erase my data in headless Chromium: a customer signs in with an emailed code, erases their
data from "My orders" (with a confirmation), and their name is then on no page a barista or they
can open."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, expect

from orders.models import Customer
from orders.services import customer_create
from tests.e2e.customers import sign_in_with_emailed_code
from tests.e2e.test_shop import log_in
from tests.orders.conftest import queued
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "Zebedee Quux"
EMAIL = "zebedee-erase@example.com"


@pytest.mark.timeout(180)
def test_a_customer_erases_their_data_and_the_name_is_gone(
        browser: Browser, asgi_server: AsgiServer) -> None:
    shop = make_shop("erase", name="Erase Coffee", is_open=True, drinks_per_window=5)
    customer_page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    customer_page.goto(f"{asgi_server.url}/accounts/login/code/?next=/me/orders/")
    sign_in_with_emailed_code(customer_page, asgi_server.url, EMAIL)
    customer = customer_create(name=NAME, user=User.objects.get(email=EMAIL))
    order = queued(shop, customer, drink="Espresso")

    barista_page = browser.new_context(viewport={"width": 1180, "height": 820}).new_page()
    make_user("bea", barista=True)
    log_in(barista_page, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(barista_page.locator(".ticket", has_text="Espresso")).to_contain_text("Zebedee")

    customer_page.goto(f"{asgi_server.url}/me/orders/")
    expect(customer_page.get_by_text("Hi Zebedee Quux")).to_be_visible()
    customer_page.get_by_role("link", name="Erase my data").click()
    expect(customer_page.get_by_role("heading", name="Erase my data")).to_be_visible()
    customer_page.get_by_role("button", name="Yes, erase my data").click()
    expect(customer_page.get_by_role("status")).to_contain_text("Your data was erased")
    assert Customer.objects.get(pk=customer.pk).name == ""

    for path in ("/me/orders/", f"/orders/{order.pk}/", f"/orders/{order.pk}/journey/",
                 "/api/me/orders", f"/api/orders/{order.pk}"):
        customer_page.goto(f"{asgi_server.url}{path}")
        assert "Zebedee" not in customer_page.content(), path
    for path in (f"/shop/{shop.slug}/barista/", f"/api/shops/{shop.slug}/orders"):
        barista_page.goto(f"{asgi_server.url}{path}")
        if path.endswith("/barista/"):
            expect(barista_page.locator(".ticket", has_text="Espresso")).to_be_visible()
        assert "Zebedee" not in barista_page.content(), path
    customer_page.context.close()
    barista_page.context.close()
