"""static/js/live.js in headless Chromium against a real uvicorn: the badge says "live" only
while its socket is open and "reconnecting…" whenever it is not (a server that goes away and
comes back); a socket the server refuses (4401/4403/4404) is not retried, and the page says
why in a polite live region; closing tabs leaves no ERROR in the server's log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from orders.models import Shop
from tests.e2e.test_shop import log_in
from tests.orders.test_live_support import make_shop, make_user
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BADGE = "[data-live-indicator]"
# Records every socket the page makes, and every badge state next to its socket's readyState.
WATCH_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__badge = [];
  window.WebSocket = function (url, protocols) {
    const socket = new Native(url, protocols);
    window.__sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  document.addEventListener("DOMContentLoaded", () => {
    const badge = document.querySelector("[data-live-indicator]");
    if (!badge) return;
    new MutationObserver(() => {
      const last = window.__sockets[window.__sockets.length - 1];
      window.__badge.push([badge.dataset.state, badge.textContent, last ? last.readyState : -1]);
    }).observe(badge, {attributes: true, childList: true, characterData: true, subtree: true});
  });
})();
"""


@pytest.fixture
def server(django_db_setup: None) -> Iterator[AsgiServer]:
    """A server of this test's own, which it may stop and start again."""
    started = AsgiServer().start_and_wait()
    yield started
    started.stop()


@pytest.fixture
def watched(page: Page) -> Page:
    page.add_init_script(WATCH_SOCKETS)
    return page


@pytest.fixture
def shop() -> Shop:
    return make_shop("live-js", name="Live JS Coffee")


def badge_history(page: Page) -> list[tuple[str, str, int]]:
    return [tuple(entry) for entry in page.evaluate("window.__badge")]


def test_the_badge_says_live_only_while_open_and_reconnecting_whenever_not(
    watched: Page, server: AsgiServer,
) -> None:
    page = watched
    page.goto(server.url + "/")
    badge = page.locator(BADGE)
    expect(badge).to_have_attribute("data-state", "live")
    expect(badge).to_have_text("live")

    server.stop()
    expect(badge).to_have_attribute("data-state", "down")
    expect(badge).to_have_text("reconnecting…")
    # The first retry follows a back-off delay: wait for it rather than look at once.
    page.wait_for_function("window.__sockets.length > 1", timeout=30_000)
    expect(badge).to_have_text("reconnecting…")  # still, between attempts

    again = AsgiServer(port=server.port).start_and_wait()
    try:
        expect(badge).to_have_attribute("data-state", "live", timeout=30_000)
        history = badge_history(page)
        states = [state for state, _, _ in history]
        assert "down" in states, history
        assert states[-1] == "live", history
        lies = [entry for entry in history if (entry[0] == "live") != (entry[2] == 1)]
        assert lies == [], f"the badge said live while not open, or not while open: {history}"
        assert all(text == "reconnecting…" for state, text, _ in history if state == "down")
    finally:
        again.stop()


def open_socket_in_page(page: Page, path: str, label: str) -> None:
    page.evaluate(
        """([path, label]) => {
          const box = document.createElement("span");
          box.dataset.probe = label;
          document.body.append(box);
          window.openLiveSocket(path, {indicator: box});
        }""",
        [path, label],
    )


def attempts(page: Page, path: str) -> int:
    count: int = page.evaluate(
        "(path) => window.__sockets.filter((s) => new URL(s.url).pathname === path).length",
        path,
    )
    return count


def test_a_refused_socket_is_not_retried_and_the_page_says_why(
    watched: Page, server: AsgiServer, shop: Shop,
) -> None:
    page = watched
    make_user("plain")
    log_in(page, server, "plain", "/")
    cases = {
        "/ws/me/": (4401, "not signed in"),  # a user, but no customer session
        f"/ws/shop/{shop.slug}/board/": (4403, "may not see them"),
        "/ws/shop/no-such-shop/public/": (4404, "no longer exists"),
    }
    for path, (code, _) in cases.items():
        open_socket_in_page(page, path, str(code))
    for code, words in cases.values():
        probe = page.locator(f'[data-probe="{code}"]')
        expect(probe).to_have_attribute("data-state", "refused")
        expect(probe).to_have_attribute("data-close-code", str(code))
        expect(probe).to_contain_text(words)
        expect(probe).to_have_attribute("aria-live", "polite")
        expect(probe).to_have_attribute("role", "status")
    # live.js would have tried again after 0.5 s, 1 s and 2 s.
    page.wait_for_timeout(4000)
    for path in cases:
        assert attempts(page, path) == 1, f"{path} was retried after its refusal"
    # The page's own socket, which nothing refuses, is still live.
    expect(page.locator(BADGE)).to_have_attribute("data-state", "live")


def test_closing_tabs_leaves_no_error_in_the_server_log(
    browser: Browser, server: AsgiServer, shop: Shop,
) -> None:
    make_user("closing-staff", staff=True)
    already = len(server.log())
    for _ in range(3):
        context = browser.new_context()
        context.set_default_timeout(15_000)
        barista = context.new_page()
        log_in(barista, server, "closing-staff", f"/shop/{shop.slug}/barista/")
        tail = context.new_page()
        tail.goto(f"{server.url}/dashboard/events/")
        display = context.new_page()
        display.goto(f"{server.url}/shop/{shop.slug}/display/")
        landing = context.new_page()
        landing.goto(f"{server.url}/shop/{shop.slug}/")
        home = context.new_page()
        home.goto(server.url + "/")
        tabs = (barista, tail, display, landing, home)
        for tab in tabs:
            expect(tab.locator(BADGE)).to_have_attribute("data-state", "live")
        for tab in tabs:
            tab.close()
        context.close()
    # The server has dealt with those tabs once it has served a new one.
    page = browser.new_page()
    page.goto(server.url + "/")
    expect(page.locator(BADGE)).to_have_attribute("data-state", "live")
    page.close()
    log = server.log()[already:]
    assert "Exception in ASGI application" not in log, log[-6000:]
    assert "ERROR" not in log, log[-6000:]
    assert "Traceback" not in log, log[-6000:]
