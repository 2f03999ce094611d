"""The barista's board in headless Chromium against the real server and worker: closing the
shop turns customers away, so it asks first; keeping it open changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from orders.models import Shop
from orders.rules import ensure_shop_rules
from orders.services import order_claim
from tests.e2e.axe import axe_violations, install_axe
from tests.e2e.test_shop import LIVE, TABLET, log_in
from tests.orders.conftest import make_customer, queued
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=TABLET)  # type: ignore[arg-type]
    made.set_default_timeout(15_000)
    install_axe(made)
    yield made
    made.close()


@pytest.mark.timeout(180)
def test_closing_the_shop_is_confirmed_first_and_keeping_it_open_changes_nothing(
    context: BrowserContext, asgi_server: AsgiServer, celery_worker: CeleryWorker,
) -> None:
    ensure_shop_rules()
    shop = make_shop("confirm", name="Confirm Coffee", is_open=True)
    make_user("bea", barista=True)
    page = context.new_page()
    log_in(page, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")

    close = page.get_by_role("button", name="Close the shop")
    close.click()
    dialog = page.get_by_role("dialog", name="Close the shop?")
    expect(dialog).to_be_visible()
    assert axe_violations(page) == []
    keep = dialog.get_by_role("button", name="Keep it open")
    expect(keep).to_be_focused()  # the safe choice is the default
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(close).to_be_focused()
    assert Shop.objects.get(pk=shop.pk).is_open is True

    close.click()
    page.keyboard.press("Escape")  # Escape keeps it open too
    expect(dialog).to_be_hidden()
    assert Shop.objects.get(pk=shop.pk).is_open is True

    close.click()
    dialog.get_by_role("button", name="Yes, close the shop").click()
    expect(page.get_by_role("button", name="Open the shop")).to_be_visible(timeout=LIVE)
    assert Shop.objects.get(pk=shop.pk).is_open is False
    # Opening again needs no confirmation.
    page.get_by_role("button", name="Open the shop").click()
    expect(page.get_by_role("button", name="Close the shop")).to_be_visible(timeout=LIVE)
    assert Shop.objects.get(pk=shop.pk).is_open is True


@pytest.mark.timeout(180)
def test_each_barista_sees_which_tickets_being_made_are_theirs(
    context: BrowserContext, asgi_server: AsgiServer, celery_worker: CeleryWorker,
) -> None:
    ensure_shop_rules()
    shop = make_shop("mine", name="Mine Coffee", is_open=True, drinks_per_window=9)
    bea = make_user("bea", barista=True)
    cal = make_user("cal", barista=True)
    first, second = (queued(shop, make_customer(name, f"{name.lower()}@example.com"))
                     for name in ("Ada", "Ben"))
    order_claim(order=first, barista=bea)
    order_claim(order=second, barista=cal)
    page = context.new_page()
    log_in(page, asgi_server, "bea", f"/shop/{shop.slug}/barista/")
    making = page.locator('[data-column="IN_PRODUCTION"] .ticket')
    expect(making).to_have_count(2)
    mine = page.locator('[data-column="IN_PRODUCTION"] .ticket[data-mine="true"]')
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("for Ada")
    expect(mine).to_contain_text("Yours")
    expect(making.filter(has_text="for Ben")).not_to_contain_text("Yours")
    assert axe_violations(page) == []
