"""A barista's own tap moves the ticket from the server's answer, before any push: here no
Celery worker runs at first, so no push can arrive. A late push older than the answer must not
move it back; the real push, once a worker runs, only confirms it (one ticket, no flicker).

Its own module: the module-scoped `celery_worker` fixture would already be running."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db.models import F
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders import live
from orders.models import Order, Shop
from orders.rules import ensure_shop_rules
from orders.workflow import OrderState
from tests.e2e.test_shop import LIVE, TABLET, log_in
from tests.orders.conftest import make_customer, queued
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Records, in the page, each column the ticket was drawn in: a flicker back shows up here.
WATCH_TICKET = """(orderId) => {
  window.__columns = [];
  const root = document.querySelector("[data-barista]");
  new MutationObserver(function () {
    const ticket = root.querySelector('.ticket[data-order-id="' + orderId + '"]');
    const column = ticket ? ticket.closest("[data-column]").dataset.column : "none";
    const seen = window.__columns;
    if (seen[seen.length - 1] !== column) seen.push(column);
  }).observe(root, { childList: true, subtree: true });
}"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=TABLET)  # type: ignore[arg-type]
    made.set_default_timeout(15_000)
    yield made
    made.close()


def live_seq(page: Page) -> str:
    return str(page.evaluate("document.documentElement.dataset.liveSeq"))


def push_to_board(shop: Shop, message: dict[str, Any]) -> None:
    """Sends from another thread: Playwright's event loop runs in this one."""
    layer: Any = get_channel_layer()
    send = layer.group_send(live.board_group(shop.slug),
                            {"type": live.MESSAGE_TYPE, "payload": message})
    with ThreadPoolExecutor(1) as executor:
        executor.submit(asyncio.run, send).result(timeout=10)


@pytest.mark.timeout(180)
def test_the_ticket_moves_from_the_answer_and_an_older_push_does_not_move_it_back(
    context: BrowserContext, asgi_server: AsgiServer,
) -> None:
    from coffeeshop.celery import app

    app.control.purge()  # nothing queued earlier may be routed when the worker starts
    ensure_shop_rules()
    shop = make_shop("answer", name="Answer Coffee", is_open=True)
    make_user("bea", barista=True)
    order = queued(shop, make_customer("Ada", "ada@example.com"))
    page = context.new_page()
    log_in(page, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    before = Shop.objects.get(pk=shop.pk).board_seq
    assert live_seq(page) == str(before)
    # A push that has taken its number and read the ticket as queued, still on its way.
    Shop.objects.filter(pk=shop.pk).update(board_seq=F("board_seq") + 1)
    stale = {"type": "order", "seq": before + 1,
             "order": live.order_for_board(Order.objects.get(pk=order.pk))}
    page.evaluate(WATCH_TICKET, order.pk)

    ticket = page.locator(f'.ticket[data-order-id="{order.pk}"]')
    ticket.get_by_role("button", name="Make").click()
    expect(page.locator(f'[data-column="IN_PRODUCTION"] .ticket[data-order-id="{order.pk}"]')
           ).to_have_count(1)
    assert Order.objects.get(pk=order.pk).state == OrderState.IN_PRODUCTION
    assert live_seq(page) == str(before), "a push arrived: this test needs the worker held"

    push_to_board(shop, stale)
    expect(page.locator("html")).to_have_attribute("data-live-seq", str(before + 1))
    expect(page.locator(f'[data-column="IN_PRODUCTION"] .ticket[data-order-id="{order.pk}"]')
           ).to_have_count(1)

    worker = CeleryWorker().start_and_wait()
    try:
        # The real push: a newer number, the same state.
        expect(page.locator("html")).not_to_have_attribute(
            "data-live-seq", str(before + 1), timeout=LIVE)
        expect(ticket).to_have_count(1)
        expect(ticket).to_have_attribute("data-state", "IN_PRODUCTION")
        # Pending (still queued), then made; never back.
        assert page.evaluate("window.__columns") == ["QUEUED", "IN_PRODUCTION"]
    finally:
        worker.stop()
