import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_shows_live_system_status(
    page: Page, asgi_server: AsgiServer, celery_worker: CeleryWorker
) -> None:
    page.goto(asgi_server.url + "/")
    expect(page).to_have_title(re.compile("coffeeshop"))
    expect(page.get_by_role("heading", name="Every order is an event.")).to_be_visible()
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    for check in ("database", "redis", "worker"):
        expect(page.locator(f'[data-check="{check}"]')).to_have_attribute("data-state", "ok")
