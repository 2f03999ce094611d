"""Live push as people see it: a barista's tap and a customer's order, measured in headless
Chromium on a real stack, beside what the parts underneath cost in the same run.

    python -m benchmarks.push [--orders 50] [--quick]

On a fresh stack (benchmarks.stack: uvicorn, one Celery worker, Redis; SQLite unless
BENCH_DATABASE_URL is set) one browser holds two pages: a barista's board and a guest customer's
order page. For each order the customer picks a drink and taps "Order", then the barista taps
"Make" and "Ready". Each page stamps its own DOM changes with `performance.timeOrigin +
performance.now()` (a MutationObserver), and the taps and the submit are stamped in the page
too, so every figure compares two clocks of one browser, never the bench's against the
server's:

- barista tap → the customer's page changed (its order's state), p50/p95 over every tap;
- barista tap → the barista's own ticket moved (the action's answer; the push only confirms);
- customer submit → the ticket on the barista's screen.

Baselines, measured first on the same stack: Channels' own group_send → a websocket client's
message (the floor of any push), and a Celery task's send → its start on the worker (the floor
of any bus hop). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from benchmarks.stack import Stack, default_web_workers

DRINK = "Espresso"
WAIT_MS = 20_000

# Stamps the barista board's tickets the first time each is drawn in each state.
BARISTA_PROBE = """
window.__bench = { seen: {} };
document.addEventListener("DOMContentLoaded", function () {
  const root = document.querySelector("[data-barista]");
  if (!root) return;
  const note = function () {
    const at = performance.timeOrigin + performance.now();
    root.querySelectorAll(".ticket").forEach(function (node) {
      const key = node.dataset.orderId + ":" + node.dataset.state;
      if (!(key in window.__bench.seen)) window.__bench.seen[key] = at;
    });
  };
  new MutationObserver(note).observe(root, { childList: true, subtree: true });
  note();
});
"""

# Stamps the order page's state changes, and the submit (kept across the form's navigation).
CUSTOMER_PROBE = """
window.__bench = { stateAt: {} };
document.addEventListener("submit", function () {
  sessionStorage.setItem("benchSubmitAt", String(performance.timeOrigin + performance.now()));
}, true);
document.addEventListener("DOMContentLoaded", function () {
  const page = document.querySelector("[data-order-page]");
  if (!page) return;
  const note = function () {
    const state = page.dataset.state;
    if (state && !(state in window.__bench.stateAt)) {
      window.__bench.stateAt[state] = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(note).observe(page, { attributes: true, attributeFilter: ["data-state"] });
  note();
});
"""

TAP = """([orderId, action]) => {
  const button = document.querySelector(
    '.ticket[data-order-id="' + orderId + '"] [data-action="' + action + '"]');
  if (!button || button.disabled) return null;
  const at = performance.timeOrigin + performance.now();
  button.click();
  return at;
}"""

LIVE = "() => document.documentElement.dataset.liveSeq"


@dataclass
class Latencies:
    label: str
    samples_ms: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if len(self.samples_ms) < 2:
            return self.samples_ms[0] if self.samples_ms else float("nan")
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[int(q * 100) - 1]

    def row(self) -> str:
        return (f"  {self.label:<46} {len(self.samples_ms):>5} {self.percentile(0.50):>8.1f} "
                f"{self.percentile(0.95):>8.1f}")


@dataclass
class Bench:
    """The shop, its barista and its customer, with the session cookies of each."""

    shop: Any
    floor_shop: Any
    customer: Any
    barista_cookie: str
    customer_cookie: str


def _setup() -> Bench:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from orders.models import Drink, Shop
    from orders.permissions import remember_customer
    from orders.rules import ensure_shop_rules
    from orders.services import customer_create

    ensure_shop_rules()
    limits = {"is_open": True, "guest_orders": True, "max_queue": 1000,
              "max_orders_per_customer_per_day": 10_000, "drinks_per_window": 10_000}
    # Slugs of their own: a PostgreSQL bench database keeps the shops of earlier runs.
    run = f"{int(time.time()):x}"
    shop = Shop.objects.create(slug=f"bench-{run}", name="Bench Coffee", **limits)
    Drink.objects.create(shop=shop, name=DRINK, icon="espresso", position=0)
    floor_shop = Shop.objects.create(slug=f"bench-floor-{run}", name="Bench Floor", is_open=True)
    barista = get_user_model().objects.create_user(f"bench-{time.time_ns()}", is_staff=True)
    client = Client()
    client.force_login(barista)
    customer = customer_create(name="Bench Customer")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    remember_customer(session, customer)
    session.save()
    return Bench(shop, floor_shop, customer,
                 client.cookies[settings.SESSION_COOKIE_NAME].value, session.session_key or "")


# --- baselines --------------------------------------------------------------------------------

async def _channels_floor(stack: Stack, bench: Bench, count: int) -> Latencies:
    """group_send from this process → the message on a websocket client of this process."""
    import websockets
    from channels.layers import get_channel_layer
    from django.conf import settings

    from orders.live import MESSAGE_TYPE, board_group

    figures = Latencies("Channels group_send → socket message")
    layer: Any = get_channel_layer()
    uri = f"ws://127.0.0.1:{stack.port}/ws/shop/{bench.floor_shop.slug}/board/"
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={bench.barista_cookie}",
               "Origin": stack.url}
    async with websockets.connect(uri, additional_headers=headers) as socket:
        await socket.recv()  # the snapshot
        for n in range(count + 5):  # the first few warm the connections up
            started = time.perf_counter()
            await layer.group_send(board_group(bench.floor_shop.slug),
                                   {"type": MESSAGE_TYPE, "payload": {"type": "bench", "n": n}})
            while json.loads(await asyncio.wait_for(socket.recv(), 10)).get("n") != n:
                pass
            if n >= 5:
                figures.samples_ms.append(1000 * (time.perf_counter() - started))
            await asyncio.sleep(0.02)
    return figures


def _celery_floor(stack: Stack, count: int) -> Latencies:
    """A bare task's send → its start on the worker (both clocks are this machine's)."""
    import redis

    from benchmarks.handlers import RECEIVED_KEY, noop_task

    figures = Latencies("Celery send → task start")
    client = redis.Redis.from_url(stack.redis_url)
    client.delete(RECEIVED_KEY)
    for n in range(count + 5):
        noop_task.delay(time.time())
        popped = client.blpop([RECEIVED_KEY], timeout=30)
        if popped is None:
            raise RuntimeError("the bench's Celery task did not run within 30 s")
        raw = popped[1]
        sent, ran = (float(part) for part in
                     (raw.decode() if isinstance(raw, bytes) else raw).split(","))
        if n >= 5:
            figures.samples_ms.append(1000 * (ran - sent))
        time.sleep(0.02)
    client.close()
    return figures


# --- in the browser ---------------------------------------------------------------------------

def _chromium() -> str:
    from tests.e2e.conftest import CHROMIUM_CANDIDATES

    found = os.environ.get("CHROMIUM_PATH") or next(
        (path for name in CHROMIUM_CANDIDATES if (path := shutil.which(name))), None)
    if not found:
        raise SystemExit("No Chromium found: install Debian's `chromium` or set CHROMIUM_PATH.")
    return found


def _new_order(bench: Bench) -> str:
    from orders.services import order_redeem, qr_window_current

    window = qr_window_current(shop=bench.shop)
    return str(order_redeem(shop=bench.shop, code=window.code, customer=bench.customer).pk)


def _wait_stamp(page: Any, expression: str, key: str) -> float:
    handle = page.wait_for_function(f"(key) => {expression}[key]", arg=key, timeout=WAIT_MS)
    return float(handle.json_value())


def _one_order(barista: Any, customer: Any, stack: Stack, bench: Bench,
               figures: dict[str, Latencies]) -> None:
    order_id = _new_order(bench)
    customer.goto(f"{stack.url}/orders/{order_id}/")
    customer.wait_for_function(LIVE, timeout=WAIT_MS)
    customer.wait_for_function(
        "() => document.querySelector('[data-order-page]').dataset.state === 'WAITING_FOR_DRINK'",
        timeout=WAIT_MS)
    customer.locator(f'input[name=drink][value="{DRINK}"]').check()
    with customer.expect_navigation():
        customer.locator("form.menu-form button[type=submit]").click()
    submitted = float(customer.evaluate("() => sessionStorage.getItem('benchSubmitAt')"))
    on_board = _wait_stamp(barista, "window.__bench.seen", f"{order_id}:QUEUED")
    figures["submit"].samples_ms.append(on_board - submitted)
    customer.wait_for_function(LIVE, timeout=WAIT_MS)  # the new page's socket is up
    for action, state in (("claim", "IN_PRODUCTION"), ("complete", "COMPLETED")):
        barista.wait_for_function(
            "([id, a]) => { const b = document.querySelector('.ticket[data-order-id=\"' + id + "
            "'\"] [data-action=\"' + a + '\"]'); return b && !b.disabled; }",
            arg=[order_id, action], timeout=WAIT_MS)
        tapped = barista.evaluate(TAP, [order_id, action])
        if tapped is None:
            raise RuntimeError(f"no {action!r} button on order {order_id}'s ticket")
        changed = _wait_stamp(customer, "window.__bench.stateAt", state)
        moved = _wait_stamp(barista, "window.__bench.seen", f"{order_id}:{state}")
        figures["tap"].samples_ms.append(changed - float(tapped))
        figures["own"].samples_ms.append(moved - float(tapped))


def measure_pages(stack: Stack, bench: Bench, orders: int) -> dict[str, Latencies]:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    figures = {
        "tap": Latencies("barista tap → customer page changed"),
        "own": Latencies("barista tap → barista's own ticket moved"),
        "submit": Latencies("customer submit → barista ticket"),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        pages = []
        for session, probe in ((bench.barista_cookie, BARISTA_PROBE),
                               (bench.customer_cookie, CUSTOMER_PROBE)):
            context = browser.new_context(viewport={"width": 1180, "height": 820})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                                  "domain": "127.0.0.1", "path": "/"}])
            context.add_init_script(probe)
            pages.append(context.new_page())
        barista, customer = pages
        barista.goto(f"{stack.url}/shop/{bench.shop.slug}/barista/")
        barista.wait_for_function(LIVE, timeout=WAIT_MS)
        warm_up = 2
        for n in range(orders + warm_up):
            if n == warm_up:
                for latencies in figures.values():
                    latencies.samples_ms.clear()
            _one_order(barista, customer, stack, bench, figures)
        browser.close()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=default_web_workers(),
                        help="uvicorn processes (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (5 orders)")
    args = parser.parse_args(argv)
    baseline_count = 50
    if args.quick:
        args.orders, baseline_count = 5, 10
    # Playwright's sync API keeps an event loop in this thread; the bench's own ORM calls are
    # strictly sequential beside it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with tempfile.TemporaryDirectory(prefix="coffeeshop-bench-") as workdir, \
            Stack(Path(workdir), web_workers=args.web_workers) as stack:
        import coffeeshop.celery  # noqa: F401  (the app the bench's task is sent through)

        bench = _setup()
        floor = asyncio.run(_channels_floor(stack, bench, baseline_count))
        celery = _celery_floor(stack, baseline_count)
        pages = measure_pages(stack, bench, args.orders)

    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print()
    print(f"Live push in headless Chromium ({database}, {args.orders} orders, "
          f"{args.web_workers} uvicorn process(es), one prefork Celery worker, "
          f"{os.cpu_count()} cores)")
    print(f"  {'':<46} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for figures in (pages["tap"], pages["own"], pages["submit"]):
        print(figures.row())
    print("baselines, same run:")
    print(floor.row())
    print(celery.row())
    print(f"\npush p95 (barista tap → customer page): {pages['tap'].percentile(0.95):.1f} ms  "
          "(goal ≤ 25 ms)")
    print(f"customer submit → barista ticket p95: {pages['submit'].percentile(0.95):.1f} ms  "
          "(goal ≤ 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
