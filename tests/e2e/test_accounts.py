"""Customers with accounts, in headless Chromium against the real server and worker: a customer
signs in with a code read from the development mailbox and orders; at the daily limit a second
scan is refused before the name or the menu; a closed shop's display holds no code, and
redemptions of the old code are refused without using up a place."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders.models import Order, QrWindow, Shop
from orders.rules import ensure_shop_rules
from tests.e2e.customers import sign_in_with_emailed_code
from tests.e2e.test_shop import LIVE, PHONE, TABLET, log_in, roomy_window_seconds
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop() -> Shop:
    ensure_shop_rules()
    return make_shop("accounts", name="Account Coffee", is_open=True, drinks_per_window=5,
                     window_seconds=roomy_window_seconds(), max_orders_per_customer_per_day=1)


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def new_page(browser: Browser, contexts: list[BrowserContext], viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    contexts.append(context)
    return context.new_page()


def display_qr_url(page: Page, server: AsgiServer, shop: Shop) -> str:
    page.goto(f"{server.url}/shop/{shop.slug}/display/")
    expect(page.locator("[data-qr] svg")).to_be_visible()
    url = page.locator("[data-qr]").get_attribute("data-url")
    assert url
    return url


def redeemed(shop: Shop) -> list[int]:
    return list(QrWindow.objects.filter(shop=shop).order_by("starts_at")
                .values_list("redeemed", flat=True))


@pytest.mark.timeout(240)
def test_a_signed_in_customer_orders_and_a_second_order_is_refused_before_the_name(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    contexts: list[BrowserContext],
) -> None:
    make_user("bea", barista=True)
    barista = new_page(browser, contexts, TABLET)
    log_in(barista, asgi_server, "bea", f"/shop/{shop.slug}/display/")
    qr_url = display_qr_url(barista, asgi_server, shop)

    customer = new_page(browser, contexts, PHONE)
    customer.goto(qr_url)
    # Not signed in: to the code page first, nothing asked or taken yet.
    expect(customer).to_have_url(re.compile(r"/accounts/login/code/\?next="))
    assert redeemed(shop) == [0]
    sign_in_with_emailed_code(customer, asgi_server.url, "ada@example.com")
    expect(customer).to_have_url(qr_url)
    customer.get_by_label("Your first name").fill("Ada")
    customer.get_by_role("button", name="Start my order").click()
    expect(customer.get_by_role("heading", name="Choose a drink")).to_be_visible(timeout=LIVE)
    customer.locator(".drink-card", has_text="Espresso").click()
    customer.get_by_role("button", name="Order", exact=True).click()
    expect(customer.locator('[data-field="title"]')).to_have_text("You're in the queue",
                                                                  timeout=LIVE)
    order = Order.objects.get()
    assert order.customer.user is not None
    assert order.customer.user.email == "ada@example.com"
    assert redeemed(shop) == [1]

    # The same account scans again the same day: refused at once, before any name or menu.
    customer.goto(qr_url)
    alert = customer.get_by_role("alert")
    expect(alert).to_contain_text("Each customer can order one drink a day")
    expect(alert).to_contain_text("You can order again tomorrow")
    expect(customer.get_by_role("heading", name="What's your name?")).to_have_count(0)
    expect(customer.get_by_role("button", name="Start my order")).to_have_count(0)
    expect(customer.get_by_role("heading", name="Choose a drink")).to_have_count(0)
    # A fresh browser does not get around it: the limit is the account's, not the cookie's.
    again = new_page(browser, contexts, PHONE)
    again.goto(qr_url)
    sign_in_with_emailed_code(again, asgi_server.url, "ada@example.com")
    expect(again.get_by_role("alert")).to_contain_text("Each customer can order one drink a day")
    expect(again.get_by_role("heading", name="What's your name?")).to_have_count(0)
    assert Order.objects.count() == 1
    assert redeemed(shop) == [1]


@pytest.mark.timeout(240)
def test_closing_the_shop_hides_the_code_and_refusals_leave_the_window_as_it_was(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    contexts: list[BrowserContext],
) -> None:
    make_user("bea", barista=True)
    barista = new_page(browser, contexts, TABLET)
    log_in(barista, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(barista.locator("[data-live-indicator]")).to_have_text("live")
    display = barista.context.new_page()
    qr_url = display_qr_url(display, asgi_server, shop)
    expect(display.locator("[data-live-indicator]")).to_have_text("live")
    before = redeemed(shop)

    barista.get_by_role("button", name="Close the shop").click()
    barista.get_by_role("button", name="Yes, close the shop").click()
    expect(barista.get_by_role("button", name="Open the shop")).to_be_visible(timeout=LIVE)
    expect(display.get_by_role("heading", name="Sorry, we're closed")).to_be_visible(
        timeout=LIVE)
    # Not merely hidden: the page holds no code any more, nor does a reload.
    expect(display.locator("[data-qr] svg")).to_have_count(0)
    assert "order?code=" not in display.content()
    display.reload()
    expect(display.get_by_role("heading", name="Sorry, we're closed")).to_be_visible()
    assert "order?code=" not in display.content()

    # Someone who kept the code: refused, signed in or not, and no place is used.
    stranger = new_page(browser, contexts, PHONE)
    stranger.goto(qr_url)
    expect(stranger.get_by_role("alert")).to_contain_text("Account Coffee is closed right now")
    signed_in = new_page(browser, contexts, PHONE)
    signed_in.goto(f"{asgi_server.url}/accounts/login/code/")
    sign_in_with_emailed_code(signed_in, asgi_server.url, "bo@example.com")
    for _ in range(3):
        signed_in.goto(qr_url)
        expect(signed_in.get_by_role("alert")).to_contain_text("closed right now")
    assert redeemed(shop) == before
    assert not Order.objects.exists()

    # Opened again: the display asks for the code and shows it, with every place still free.
    barista.get_by_role("button", name="Open the shop").click()
    expect(display.locator("[data-qr] svg")).to_be_visible(timeout=LIVE)
    expect(display.locator("[data-remaining]")).to_have_text(str(shop.drinks_per_window))
