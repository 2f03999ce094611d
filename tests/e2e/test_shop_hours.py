"""The shop on its hours in headless Chromium, with the real ASGI server and a Celery worker
running beat: the shop opens by its hours, the "closing soon" notice appears, and it closes —
each visible live on the display and the barista pages (the notice also on a customer's page
mid-order), no reload. The hours are set to the coming seconds, beat polls them every second
and the notice is shortened (test settings)."""

from __future__ import annotations

import re
import time as clock
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, expect

from orders.hours import Span
from orders.models import HoursChange, Shop
from orders.opening import shop_set_hours
from orders.rules import ensure_shop_rules
from tests.e2e.test_shop import (
    BIG_SCREEN,
    PHONE,
    TABLET,
    log_in,
    new_page,
    roomy_window_seconds,
    scan_and_give_name,
)
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE = 20_000  # ms: beat's poll, the bus, a worker and the channel layer
NOTICE_SECONDS = 25


@pytest.fixture(scope="module")
def beat_worker(django_db_setup: None) -> Iterator[CeleryWorker]:
    from coffeeshop.celery import app

    app.control.purge()
    worker = CeleryWorker(with_beat=True, env={
        "ORDERS_HOURS_POLL_SECONDS": "1",
        "ORDERS_CLOSING_NOTICE_SECONDS": str(NOTICE_SECONDS),
    }).start_and_wait()
    yield worker
    worker.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def local_now(shop: Shop) -> datetime:
    now = timezone.now().astimezone(shop.tz)
    if (now + timedelta(minutes=2)).date() != now.date():  # a span ends on its own day
        clock.sleep(130)
        now = timezone.now().astimezone(shop.tz)
    return now.replace(microsecond=0)


@pytest.mark.timeout(180)
def test_the_shop_opens_warns_and_closes_by_its_hours_live(
        browser: Browser, asgi_server: AsgiServer, beat_worker: CeleryWorker,
        contexts: list[BrowserContext]) -> None:
    ensure_shop_rules()
    shop = make_shop("hours-e2e", name="Hours Coffee", is_open=False, timezone="Europe/Berlin",
                     window_seconds=roomy_window_seconds())
    barista_user = make_user("bea", barista=True)

    barista = new_page(browser, contexts, TABLET)
    log_in(barista, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(barista.locator("[data-live-indicator]")).to_have_text("live")
    display = barista.context.new_page()
    display.set_viewport_size(BIG_SCREEN)  # type: ignore[arg-type]
    display.goto(f"{asgi_server.url}/shop/{shop.slug}/display/")
    expect(display.locator("[data-live-indicator]")).to_have_text("live")
    state = barista.locator("[data-shop-state]")
    expect(state).to_have_text("Shop closed")
    expect(display.get_by_role("heading", name="Sorry, we're closed")).to_be_visible()

    now = local_now(shop)
    opens = now + timedelta(seconds=8)
    # Time enough, before the notice, for a customer to scan and reach the menu.
    closes = opens + timedelta(seconds=NOTICE_SECONDS + 20)
    shop_set_hours(shop=shop, user=barista_user, follows_hours=True, exceptions=[],
                   weekly={now.weekday(): (Span(opens.time(), closes.time()),)})

    expect(state).to_have_text("Shop open", timeout=LIVE)
    expect(display.get_by_role("heading", name="Scan to order")).to_be_visible(timeout=LIVE)
    qr_url = display.locator("[data-qr]").get_attribute("data-url")
    assert qr_url is not None
    customer = new_page(browser, contexts, PHONE)
    scan_and_give_name(customer, qr_url, "Ada", lambda *_: None, "customer")
    expect(customer.locator("[data-closing-soon]")).to_be_hidden()
    notice = re.compile(r"Closing soon: last orders, we close in (under a minute|\d+ minutes)")
    expect(display.locator("[data-closing-soon]")).to_have_text(notice, timeout=LIVE)
    expect(barista.locator("[data-closing-soon]")).to_have_text(notice, timeout=LIVE)
    # The customer choosing a drink hears it too.
    expect(customer.locator("[data-closing-soon]")).to_have_text(notice, timeout=LIVE)

    # The close comes NOTICE_SECONDS after the notice.
    expect(state).to_have_text("Shop closed", timeout=NOTICE_SECONDS * 1000 + LIVE)
    expect(display.get_by_role("heading", name="Sorry, we're closed")).to_be_visible(
        timeout=LIVE)
    expect(display.locator("[data-closing-soon]")).to_be_hidden()
    expect(barista.locator("[data-closing-soon]")).to_be_hidden()
    assert list(HoursChange.objects.filter(shop=shop).exclude(kind="midnight")
                .order_by("at").values_list("kind", "outcome")) == [
        ("open", "opened"), ("closing_soon", "noticed"), ("close", "closed")]
