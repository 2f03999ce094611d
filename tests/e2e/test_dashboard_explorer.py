"""The explorer in headless Chromium with the real ASGI server and a real Celery worker: an
event published elsewhere appears in the live tail without a reload; a dead letter is redriven
from its event page and the trace shows the new attempt; dead letters are redriven from the
deliveries page with a progress bar that follows them to the end.

Set EXPLORER_SCREENSHOTS=<folder> to keep screenshots of each page on the way."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from routing.models import Delivery, DeliveryStatus, Event
from routing.services import (
    Actor,
    TargetSpec,
    bus_ensure_default,
    event_publish,
    rule_put,
    targets_put,
)
from tests.routing.dashboard.test_explorer_support import PASSWORD, make_user
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE = 20_000  # ms: through the bus, a worker and the database


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("EXPLORER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def log_in(page: Page, server: AsgiServer, next_path: str) -> None:
    make_user("operator")
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def webhook_rule(url: str) -> None:
    bus_ensure_default()
    actor = Actor.system("e2e")
    rule = rule_put(bus_name="default", name="loyalty", event_pattern={"source": ["shop"]},
                    actor=actor)
    failures = targets_put(rule=rule, targets=[
        TargetSpec(target_id="loyalty-api", kind="webhook", address=f"{url}/points",
                   max_retry_attempts=0)], actor=actor)
    assert not failures


def wait_for_status(event: Event, status: str, count: int = 1) -> None:
    import time

    deadline = time.monotonic() + LIVE / 1000
    while time.monotonic() < deadline:
        if Delivery.objects.filter(event=event, status=status).count() >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"no {status} delivery for {event.pk}: "
                         f"{list(Delivery.objects.filter(event=event).values('status'))}")


def test_a_published_event_appears_in_the_live_tail(page: Page, asgi_server: AsgiServer) -> None:
    bus_ensure_default()
    log_in(page, asgi_server, "/dashboard/events/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    page.evaluate("window.__notReloaded = true")

    event = event_publish(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
        detail={"orderId": "o-live"})
    row = page.locator(f'tr[data-event-id="{event.pk}"]')
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text("OrderPlaced")
    expect(row).to_contain_text('"orderId": "o-live"')
    assert page.evaluate("window.__notReloaded") is True

    # Paused, new events wait aside (and are counted); resumed, they are drawn.
    page.get_by_role("button", name="Pause").click()
    held = event_publish(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPaid",
        detail={"orderId": "o-held"})
    expect(page.locator("[data-tail-buffered]")).to_have_text("1 new while paused", timeout=LIVE)
    expect(page.locator(f'tr[data-event-id="{held.pk}"]')).to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(f'tr[data-event-id="{held.pk}"]')).to_be_visible()
    expect(page.locator("tbody[data-tail-rows] tr").first).to_have_attribute(
        "data-event-id", str(held.pk))
    shot(page, "events-live")


def test_a_dead_letter_is_redriven_from_its_event_page(
    page: Page, asgi_server: AsgiServer, celery_worker: CeleryWorker,
    webhook_server: WebhookServer,
) -> None:
    answers = iter([500])
    webhook_server.responder = lambda request: Reply(status=next(answers, 200))
    webhook_rule(webhook_server.url)
    event = event_publish(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderCompleted",
        detail={"orderId": "o-9"})
    wait_for_status(event, DeliveryStatus.DEAD)

    log_in(page, asgi_server, f"/dashboard/events/{event.pk}/")
    trace = page.locator("[data-trace]")
    expect(trace.locator("[data-trace-pill]")).to_have_text("failed")
    delivery = trace.locator("article.delivery")
    expect(delivery.locator("[data-delivery-status]")).to_have_text("dead")
    expect(delivery.locator('tr[data-attempt="1"]')).to_contain_text("failed")
    expect(delivery.locator('tr[data-attempt="1"]')).to_contain_text("500")
    shot(page, "event-dead")

    delivery.get_by_role("button", name="Redrive").click()
    expect(page.get_by_text("Redriven 1 delivery")).to_be_visible()
    second = delivery.locator('tr[data-attempt="2"]')
    expect(second).to_contain_text("succeeded", timeout=LIVE)
    expect(second).to_contain_text("200")
    expect(delivery.locator("[data-delivery-status]")).to_have_text("succeeded")
    expect(trace.locator("[data-trace-pill]")).to_have_text("delivered")
    expect(delivery).to_contain_text("redriven 1 time")
    assert len(webhook_server.received("/points")) == 2
    shot(page, "event-redriven")


def test_dead_letters_are_redriven_from_the_deliveries_page_with_progress(
    page: Page, asgi_server: AsgiServer, celery_worker: CeleryWorker,
    webhook_server: WebhookServer,
) -> None:
    fixed = {"now": False}

    def answer(request: ReceivedRequest) -> Reply:
        body = json.loads(request.body)
        if not fixed["now"] or body["detail"]["orderId"] == "o-still-broken":
            return Reply(status=503)
        return Reply(status=200)

    webhook_server.responder = answer
    webhook_rule(webhook_server.url)
    events = [event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="OrderCompleted",
                            detail={"orderId": order_id})
              for order_id in ("o-1", "o-2", "o-still-broken")]
    for event in events:
        wait_for_status(event, DeliveryStatus.DEAD)
    fixed["now"] = True  # the partner's API is back, for two of the three

    log_in(page, asgi_server, "/dashboard/deliveries/?status=dead")
    rows = page.locator("tr[data-delivery-id]")
    expect(rows).to_have_count(3)
    page.get_by_label("Select every redrivable delivery on this page").check()
    page.get_by_role("button", name="Redrive 3 selected").click()

    progress = page.locator("[data-redrive-progress]")
    expect(progress).to_be_visible()
    expect(progress.locator("[data-progress-text]")).to_have_text(
        "Done: 2 succeeded, 1 failed again.", timeout=LIVE)
    expect(progress.locator('[data-count="redriven"]')).to_have_text("3")
    expect(progress.locator('[data-count="succeeded"]')).to_have_text("2")
    expect(progress.locator('[data-count="failed"]')).to_have_text("1")
    expect(progress.locator('[data-count="in-flight"]')).to_have_text("0")
    expect(page.locator("[data-row-status]", has_text="succeeded")).to_have_count(2)
    shot(page, "deliveries-redriven")
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["dead", "succeeded", "succeeded"]
