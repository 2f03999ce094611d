"""The shop's display on a 1080p screen in headless Chromium against the real server: any load
fits ("+N more" past what fits, the QR code and its URL never cut off), the unclaimed orders
are "In queue" apart from those being prepared, and an empty list says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders.models import Shop
from orders.rules import ensure_shop_rules
from orders.services import order_claim, order_complete
from tests.e2e.axe import axe_violations, install_axe
from tests.e2e.test_shop import log_in, roomy_window_seconds
from tests.orders.conftest import make_customer, queued
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FULL_HD = {"width": 1920, "height": 1080}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=FULL_HD)  # type: ignore[arg-type]
    made.set_default_timeout(15_000)
    install_axe(made)
    yield made
    made.close()


@pytest.fixture
def shop() -> Shop:
    ensure_shop_rules()
    return make_shop("busy", name="Busy Coffee", is_open=True, drinks_per_window=200,
                     window_seconds=roomy_window_seconds(), max_orders_per_customer_per_day=9,
                     max_queue=200)


def inside_viewport(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, """(el) => {
      const box = el.getBoundingClientRect();
      return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth;
    }"""))


@pytest.mark.timeout(180)
def test_empty_lists_say_so(context: BrowserContext, asgi_server: AsgiServer, shop: Shop) -> None:
    make_user("bea", barista=True)
    page = context.new_page()
    log_in(page, asgi_server, "bea", f"/shop/{shop.slug}/display/")
    for name, text in (("preparing", "No drinks being made"), ("queue", "Nobody waiting"),
                       ("ready", "No drinks waiting for pickup")):
        expect(page.locator(f'[data-empty-for="{name}"]')).to_contain_text(text)
        expect(page.locator(f'[data-board="{name}"] .number-card')).to_have_count(0)


@pytest.mark.timeout(240)
def test_a_busy_display_fits_1080p_with_more_cards_and_keeps_the_code_whole(
    context: BrowserContext, asgi_server: AsgiServer, shop: Shop,
) -> None:
    barista = make_user("bea", barista=True)
    orders = [queued(shop, make_customer(f"Guest{n}", f"g{n}@example.com")) for n in range(40)]
    for order in orders[:24]:
        order_claim(order=order, barista=barista)
    for order in orders[:12]:
        order_complete(order=order, barista=barista)
    # Now: 12 ready, 12 being made, 16 in the queue.
    page = context.new_page()
    log_in(page, asgi_server, "bea", f"/shop/{shop.slug}/display/")
    expect(page.locator('[data-board="ready"] [data-more]')).to_have_attribute("data-more", "5")
    expect(page.locator('[data-board="preparing"] [data-more]')).to_have_attribute(
        "data-more", "9")
    expect(page.locator('[data-board="queue"] [data-more]')).to_have_attribute("data-more", "9")
    expect(page.locator('[data-board="queue"] .number-card')).to_have_count(8)
    for name in ("preparing", "queue", "ready"):
        expect(page.locator(f'[data-empty-for="{name}"]')).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollHeight") <= FULL_HD["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= FULL_HD["width"]
    assert inside_viewport(page, "[data-qr] svg")
    assert inside_viewport(page, "[data-qr-url]")
    assert inside_viewport(page, '[data-board="queue"] [data-more]')
    assert axe_violations(page) == []
