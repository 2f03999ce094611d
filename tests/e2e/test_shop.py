"""The whole shop in headless Chromium, with the real ASGI server and Celery worker: the barista
and display pages open, a customer scans the display's QR code, signs in with an emailed code,
gives a name, orders, and
everyone's screen follows without a reload; a second customer who waits too long is told so.

Set SHOP_SCREENSHOTS=<folder> to keep screenshots of every screen on the way."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders.models import Order, Shop
from orders.rules import ensure_shop_rules
from orders.services import orders_time_out_overdue
from orders.workflow import OrderState
from tests.e2e.customers import sign_in_with_emailed_code
from tests.orders.test_live_support import TEST_PASSWORD, make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1180, "height": 820}
BIG_SCREEN = {"width": 1600, "height": 900}
LIVE = 20_000  # ms: a push goes through the bus, a worker and the channel layer


def roomy_window_seconds(min_left: int = 600) -> int:
    """A window length for which the current wall-clock window has `min_left` seconds to run,
    so the QR code cannot roll over in the middle of the test."""
    now = int(timezone.now().timestamp())
    for length in range(3600, 1800, -1):
        if length - now % length >= min_left:
            return length
    raise AssertionError("no window length leaves enough time")  # pragma: no cover


class Shots:
    def __init__(self) -> None:
        folder = os.environ.get("SHOP_SCREENSHOTS")
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, name: str) -> None:
        if self.folder:
            page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


@pytest.fixture
def shop() -> Shop:
    ensure_shop_rules()
    return make_shop("e2e", name="E2E Coffee", is_open=True, drinks_per_window=2,
                     window_seconds=roomy_window_seconds(), max_orders_per_customer_per_day=3)


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


def log_in(page: Page, server: AsgiServer, username: str, next_path: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def scan_and_give_name(page: Page, qr_url: str, name: str, shots: Any, shot: str) -> str:
    """Scan → sign in with an emailed code → back at the scan: the name, once → the menu."""
    page.goto(qr_url)
    server_url = qr_url.split("/shop/", 1)[0]
    sign_in_with_emailed_code(page, server_url, f"{name.lower()}-{shot}@example.com")
    expect(page).to_have_url(qr_url)
    expect(page.get_by_role("heading", name="What's your name?")).to_be_visible()
    page.get_by_label("Your first name").fill(name)
    shots(page, f"{shot}-name")
    page.get_by_role("button", name="Start my order").click()
    expect(page).to_have_url(re.compile(r"/orders/[\w-]+/$"))
    # The workflow starts in the worker: the menu appears without a reload.
    expect(page.get_by_role("heading", name="Choose a drink")).to_be_visible(timeout=LIVE)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_order_from_scan_to_pickup_and_a_customer_time_out(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    contexts: list[BrowserContext],
) -> None:
    shots = Shots()
    barista_user = make_user("bea", barista=True)
    barista_user.first_name = "Bea"
    barista_user.save(update_fields=["first_name"])

    # The barista's tablet and the big screen, logged in.
    barista = new_page(browser, contexts, TABLET)
    log_in(barista, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(barista.locator("[data-live-indicator]")).to_have_text("live")
    display = barista.context.new_page()
    display.set_viewport_size(BIG_SCREEN)  # type: ignore[arg-type]
    display.goto(f"{asgi_server.url}/shop/{shop.slug}/display/")
    expect(display.locator("[data-live-indicator]")).to_have_text("live")
    expect(display.get_by_role("heading", name="Scan to order")).to_be_visible()
    expect(display.locator("[data-qr] svg")).to_be_visible()
    expect(display.locator("[data-remaining]")).to_have_text("2")
    qr_url = display.locator("[data-qr]").get_attribute("data-url")
    assert qr_url is not None
    assert qr_url.startswith(f"{asgi_server.url}/shop/{shop.slug}/order?code=")
    shots(barista, "barista-empty")
    shots(display, "display-empty")

    # A customer scans, gives a name and chooses a drink.
    customer = new_page(browser, contexts, PHONE)
    order_id = scan_and_give_name(customer, qr_url, "Ada", shots, "customer")
    expect(customer.locator("[data-countdown-text]")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(display.locator("[data-remaining]")).to_have_text("1", timeout=LIVE)
    shots(customer, "customer-menu")
    customer.locator(".drink-card", has_text="Latte").click()
    milk = customer.locator('[data-modifiers-for="Latte"]')
    expect(milk.get_by_text("required")).to_be_visible()
    milk.locator(".chip", has_text="Oat").click()
    milk.locator(".chip", has_text="Vanilla").click()
    shots(customer, "customer-menu-chosen")
    customer.get_by_role("button", name="Order", exact=True).click()
    expect(customer.locator('[data-field="title"]')).to_have_text("You're in the queue",
                                                                  timeout=LIVE)
    number = Order.objects.get(pk=order_id).order_number
    assert number is not None
    expect(customer.locator('[data-field="number-value"]')).to_have_text(str(number))
    shots(customer, "customer-queued")

    # The barista's New column and the display's In queue list fill in, without a reload.
    new_column = barista.locator('[data-column="QUEUED"]')
    ticket = new_column.locator(".ticket", has_text="Latte")
    expect(ticket).to_be_visible(timeout=LIVE)
    expect(ticket).to_contain_text(f"#{number}")
    expect(ticket).to_contain_text("Oat · Vanilla")
    expect(ticket).to_contain_text("for Ada")
    expect(ticket).to_have_attribute("data-age-level", "fresh")
    expect(display.locator('[data-board="queue"] .number')).to_have_text([str(number)],
                                                                        timeout=LIVE)
    expect(display.locator('[data-board="preparing"] .number')).to_have_count(0)
    shots(barista, "barista-new")

    # The barista makes it; the customer sees who.
    ticket.get_by_role("button", name="Make").click()
    making = barista.locator('[data-column="IN_PRODUCTION"] .ticket', has_text="Latte")
    expect(making).to_contain_text("Being made by you", timeout=LIVE)
    expect(new_column.locator(".ticket")).to_have_count(0)
    expect(display.locator('[data-board="preparing"] .number')).to_have_text([str(number)],
                                                                             timeout=LIVE)
    expect(display.locator('[data-board="queue"] .number')).to_have_count(0)
    expect(customer.locator('[data-field="text"]')).to_have_text(
        "Your drink is being made by Bea.", timeout=LIVE)
    shots(barista, "barista-making")
    shots(customer, "customer-making")

    # Ready: the barista's Ready column, the display's Ready board, the customer's big number.
    making.get_by_role("button", name="Ready").click()
    expect(barista.locator('[data-column="COMPLETED"] .ticket', has_text="Latte")).to_be_visible(
        timeout=LIVE)
    expect(display.locator('[data-board="ready"] .number')).to_have_text([str(number)],
                                                                         timeout=LIVE)
    expect(display.locator('[data-board="preparing"] .number')).to_have_count(0)
    expect(customer.locator('[data-field="title"]')).to_have_text("Ready for pickup!",
                                                                  timeout=LIVE)
    expect(customer.locator(".big-number")).to_have_text(f"Order number #{number}")
    shots(customer, "customer-ready")
    shots(barista, "barista-ready")

    # A second customer takes the code's last drink: the display hides the used-up code.
    slow = new_page(browser, contexts, PHONE)
    slow_id = scan_and_give_name(slow, qr_url, "Bo", shots, "second")
    expect(display.get_by_role("heading", name="We are making drinks!")).to_be_visible(
        timeout=LIVE)
    expect(display.locator("[data-qr]")).to_be_hidden()
    shots(display, "display-used-up")
    # ... and waits too long (time moves on: the deadline passes, the sweeper runs).
    Order.objects.filter(pk=slow_id).update(deadline_at=timezone.now() - timedelta(seconds=1))
    assert orders_time_out_overdue() == 1
    expect(slow.get_by_role("heading", name="Having trouble deciding?")).to_be_visible(
        timeout=LIVE)
    expect(slow.locator("form.menu-form")).to_be_hidden()
    assert Order.objects.get(pk=slow_id).state == OrderState.TIMED_OUT
    shots(slow, "second-timed-out")

    # The journey lists the first order's events, with their messages.
    customer.get_by_role("link", name="Your order's journey").click()
    expect(customer.get_by_role("heading", name="Your order's journey")).to_be_visible()
    expect(customer.locator(".timeline-item").first).to_be_visible()
    shots(customer, "customer-journey")
    customer.goto(f"{asgi_server.url}/me/orders/")
    expect(customer.locator(".history-item")).to_have_count(1)
    shots(customer, "customer-history")

    # The barista closes the shop: the landing page and the display follow at once.
    customer.goto(f"{asgi_server.url}/shop/{shop.slug}/")
    expect(customer.locator("[data-open-text]")).to_have_text("Open")
    expect(customer.locator("[data-live-indicator]")).to_have_text("live")
    barista.get_by_role("button", name="Close the shop").click()
    barista.get_by_role("button", name="Yes, close the shop").click()
    expect(barista.get_by_role("button", name="Open the shop")).to_be_visible(timeout=LIVE)
    expect(customer.locator("[data-open-text]")).to_have_text("Closed", timeout=LIVE)
    expect(display.get_by_role("heading", name="Sorry, we're closed")).to_be_visible(
        timeout=LIVE)
    assert Shop.objects.get(pk=shop.pk).is_open is False
    shots(customer, "landing-closed")
    shots(display, "display-closed")


SEQUENCE_PROBE = """() => {
  const sent = [];
  let handlers = null;
  window.openLiveSocket = (path, options) => {
    handlers = options;
    return { send: (data) => sent.push(data), close: () => {} };
  };
  const applied = [];
  window.openSequencedStream("/ws/probe/", {
    onSnapshot: (m) => applied.push("snapshot " + m.seq),
    onDelta: (m) => applied.push("delta " + m.seq),
    onState: (m) => applied.push("state " + m.type),
  });
  const feed = (m) => handlers.onMessage(m);
  feed({ type: "order", seq: 4 });          // before any snapshot: ignored
  feed({ type: "snapshot", seq: 5 });
  feed({ type: "order", seq: 6 });
  feed({ type: "order", seq: 6 });          // a repeat: already reflected
  feed({ type: "order", seq: 8 });          // 7 was lost: ask for a snapshot
  feed({ type: "order", seq: 9 });          // ignored until the snapshot comes
  feed({ type: "shop", shop: {} });         // whole state, no seq: always applied
  feed({ type: "snapshot", seq: 9 });
  feed({ type: "order", seq: 10 });
  handlers.onOpen();                         // a reconnect: wait for the new snapshot
  feed({ type: "order", seq: 11 });
  feed({ type: "snapshot", seq: 12 });
  return { applied, sent };
}"""


def test_pages_apply_deltas_in_sequence_and_resync_on_a_gap(
    page: Page, asgi_server: AsgiServer, shop: Shop
) -> None:
    page.goto(f"{asgi_server.url}/shop/{shop.slug}/")
    result = page.evaluate(SEQUENCE_PROBE)
    assert result["applied"] == [
        "snapshot 5", "delta 6", "state shop", "snapshot 9", "delta 10", "snapshot 12",
    ]
    assert result["sent"] == [{"type": "resync"}]
