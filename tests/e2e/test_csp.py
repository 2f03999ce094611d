"""Every page under the Content-Security-Policy in headless Chromium: the customer's, the
barista's, the display, the dashboard's, the admin's, the API docs and the login and lockout
pages raise no `securitypolicyviolation` and log no console error, while their live parts connect
and their buttons still act.

The policy allows no inline script, no inline style and no `on*=` attribute, so any template or
script that brings one back shows up here by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from orders.models import Order, Shop
from orders.rules import ARCHIVE_NAME, BUS_NAME, ensure_shop_rules
from routing.models import Event, Rule
from routing.services import Actor, TargetSpec, event_publish, replay_start, rule_put, targets_put
from tests.e2e.customers import sign_in_with_emailed_code
from tests.orders.test_live_support import TEST_PASSWORD, make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.publishers import TEST_PUBLISHER

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE = 20_000  # ms: a push goes through the bus, a worker and the channel layer

# Runs in every document before its own scripts: each violation is logged as a console error,
# which the watcher below collects across navigations.
REPORT_VIOLATIONS = """
window.__cspViolations = 0;
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations += 1;
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " at " + e.sourceFile + ":" + e.lineNumber + " sample " + e.sample);
});
"""


@dataclass
class Watcher:
    """Console errors and page errors of every page of one browser context, by page URL."""
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"{page.url}: {message.text}")


@dataclass
class Visitor:
    context: BrowserContext
    page: Page
    watcher: Watcher
    server: AsgiServer
    visited: list[str] = field(default_factory=list)

    def visit(self, path: str) -> Page:
        response = self.page.goto(self.server.url + path)
        assert response is not None, path
        assert response.status < 400, (path, response.status)
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path
        self.page.wait_for_load_state("load")
        self.visited.append(path)
        return self.page


@pytest.fixture
def visitors(browser: Browser, asgi_server: AsgiServer) -> Iterator[list[Visitor]]:
    made: list[Visitor] = []
    yield made
    for visitor in made:
        visitor.context.close()


def new_visitor(browser: Browser, server: AsgiServer, made: list[Visitor]) -> Visitor:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(REPORT_VIOLATIONS)
    watcher = Watcher()
    context.on("page", watcher.attach)
    page = context.new_page()
    visitor = Visitor(context, page, watcher, server)
    made.append(visitor)
    return visitor


def log_in(visitor: Visitor, username: str, next_path: str) -> None:
    page = visitor.visit(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def assert_clean(visitor: Visitor) -> None:
    assert visitor.watcher.problems == [], "\n".join(visitor.watcher.problems)


@pytest.fixture
def shop() -> Shop:
    ensure_shop_rules()
    return make_shop("csp", name="CSP Coffee", is_open=True, drinks_per_window=5,
                     window_seconds=3600, max_orders_per_customer_per_day=3)


def shop_event_and_rule() -> tuple[Event, Rule]:
    actor = Actor.system("e2e")
    rule = rule_put(bus_name=BUS_NAME, name="csp-webhook",
                    event_pattern={"source": ["csp.test"]}, actor=actor)
    assert not targets_put(rule=rule, targets=[
        TargetSpec(target_id="receiver", kind="webhook", address="http://127.0.0.1:9/hook",
                   max_retry_attempts=0)], actor=actor)
    event = event_publish(publisher=TEST_PUBLISHER, bus_name=BUS_NAME, source="csp.test",
                          detail_type="Checked",
                          detail={"orderId": "o-1", "note": "<b>not markup</b>"})
    return event, rule


def test_customer_barista_and_display_pages_pass_the_policy_and_stay_live(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    visitors: list[Visitor],
) -> None:
    make_user("bea", barista=True)
    barista = new_visitor(browser, asgi_server, visitors)
    log_in(barista, "bea", f"/shop/{shop.slug}/barista/")
    expect(barista.page.locator("[data-live-indicator]")).to_have_text("live")
    display = barista.visit(f"/shop/{shop.slug}/display/")
    expect(display.locator("[data-live-indicator]")).to_have_text("live")
    expect(display.locator("[data-qr] svg")).to_be_visible()
    qr_url = display.locator("[data-qr]").get_attribute("data-url")
    assert qr_url is not None

    customer = new_visitor(browser, asgi_server, visitors)
    page = customer.visit(f"/shop/{shop.slug}/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    customer.visit(qr_url.removeprefix(asgi_server.url))
    # The sign-in pages (allauth's, in the site's templates) pass the policy too.
    sign_in_with_emailed_code(page, asgi_server.url, "ada-csp@example.com")
    page.get_by_label("Your first name").fill("Ada")
    page.get_by_role("button", name="Start my order").click()
    expect(page.get_by_role("heading", name="Choose a drink")).to_be_visible(timeout=LIVE)
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    page.locator(".drink-card", has_text="Latte").click()
    page.locator('[data-modifiers-for="Latte"] .chip', has_text="Oat").click()
    page.get_by_role("button", name="Order", exact=True).click()
    expect(page.locator('[data-field="title"]')).to_have_text("You're in the queue", timeout=LIVE)
    order = Order.objects.get(customer__name="Ada")
    customer.visit(f"/orders/{order.pk}/journey/")
    expect(page.locator(".timeline-item").first).to_be_visible()
    customer.visit("/me/orders/")
    expect(page.locator(".history-item")).to_have_count(1)

    # The barista's buttons act (their script is a static file) and the others follow live.
    barista.visit(f"/shop/{shop.slug}/barista/")
    ticket = barista.page.locator('[data-column="QUEUED"] .ticket', has_text="Latte")
    ticket.get_by_role("button", name="Make").click()
    expect(barista.page.locator('[data-column="IN_PRODUCTION"] .ticket')).to_contain_text(
        "Being made by you", timeout=LIVE)
    barista.page.get_by_role("button", name="Close the shop").click()
    barista.page.get_by_role("button", name="Yes, close the shop").click()
    expect(barista.page.get_by_role("button", name="Open the shop")).to_be_visible(timeout=LIVE)
    customer.visit(f"/shop/{shop.slug}/")
    expect(page.locator("[data-open-text]")).to_have_text("Closed")

    # Someone else's order: refused, and the refusal page passes too.
    stranger = new_visitor(browser, asgi_server, visitors)
    refused = stranger.page.goto(f"{asgi_server.url}/orders/{order.pk}/")
    assert refused is not None
    assert refused.status == 404  # an order the session does not own does not exist for it

    assert stranger.watcher.problems == [
        f"{asgi_server.url}/orders/{order.pk}/: Failed to load resource: the server responded "
        "with a status of 404 (Not Found)"
    ]
    for visitor in (barista, customer):
        assert_clean(visitor)


def test_dashboard_admin_api_docs_and_login_pages_pass_the_policy(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    visitors: list[Visitor],
) -> None:
    event, rule = shop_event_and_rule()
    now = timezone.now()
    replay_start(name="csp-replay", archive_name=ARCHIVE_NAME,
                 event_start_time=now - timedelta(hours=1), event_end_time=now,
                 actor=Actor.system("e2e"))
    root = make_user("root", barista=True, staff=True)
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])

    operator = new_visitor(browser, asgi_server, visitors)
    page = operator.visit("/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    expect(page.locator('[data-check="database"]')).to_have_attribute("data-state", "ok")
    operator.visit("/api/docs")
    expect(page.locator(".endpoint").first).to_be_visible()
    log_in(operator, "root", "/dashboard/")

    for path in ("/dashboard/", "/dashboard/deliveries/", "/dashboard/metrics/",
                 "/dashboard/topology/", "/dashboard/archives/", f"/dashboard/events/{event.pk}/",
                 "/dashboard/rules/", "/dashboard/rules/new/", f"/dashboard/rules/{rule.pk}/",
                 f"/dashboard/rules/{rule.pk}/targets/", f"/dashboard/rules/{rule.pk}/history/",
                 f"/dashboard/rules/{rule.pk}/revisions/1/"):
        operator.visit(path)
    operator.visit("/dashboard/metrics/")
    expect(page.locator(".chart-figure svg.chart").first).to_be_visible()
    expect(page.locator(".legend .swatch rect").first).to_have_attribute("fill", re.compile("^#"))

    # The live tail connects and its buttons act; the pattern check answers as it is typed.
    operator.visit("/dashboard/events/")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    operator.visit("/dashboard/archives/")
    bar = page.locator('tr[data-replay="csp-replay"] [data-replay-bar]')
    expect(bar).to_have_attribute("data-percent", re.compile(r"^\d+(\.\d+)?$"))
    percent = float(bar.get_attribute("data-percent") or "nan")
    width = bar.evaluate("(el) => el.style.width")  # set by archives.js, not a style attribute
    assert width.endswith("%")
    assert float(width[:-1]) == percent
    operator.visit(f"/dashboard/rules/{rule.pk}/")
    pattern = page.locator("textarea[name=event_pattern]")
    pattern.fill('{"source": ["csp.test", "elsewhere"]}')
    expect(page.locator("[data-pattern-status]")).to_have_attribute("data-state", "valid",
                                                                   timeout=LIVE)

    # The admin: every model's list, add form and first object's change form.
    operator.visit("/admin/")
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        operator.visit(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(_request_for(root)):
            operator.visit(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.first()
        if first is not None:
            operator.visit(reverse(f"admin:{meta.app_label}_{meta.model_name}_change",
                                   args=[first.pk]))
    assert_clean(operator)
    assert len(operator.visited) > 30


def _request_for(user: object) -> object:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user  # type: ignore[attr-defined]
    return request


def test_the_lockout_page_passes_the_policy_and_says_why(
    browser: Browser, asgi_server: AsgiServer, visitors: list[Visitor],
) -> None:
    from django.conf import settings

    make_user("staffer", staff=True)
    guesser = new_visitor(browser, asgi_server, visitors)
    for form in ("/accounts/login/", "/admin/login/"):
        guesser.visit(form)
    page = guesser.visit("/accounts/login/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("staffer")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        if attempt < settings.AXES_FAILURE_LIMIT - 1:
            expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_role("heading", name="Too many failed log-ins")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    # Styled by the site's own stylesheet: the alert has the error colours, not the default.
    background = page.get_by_role("alert").evaluate("(el) => getComputedStyle(el).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)"
    # The console shows the 429 of the refused POST; nothing else may be there.
    problems = [p for p in guesser.watcher.problems if "status of 429" not in p]
    assert problems == [], "\n".join(problems)


def test_a_violation_is_caught_by_the_watcher(
    browser: Browser, asgi_server: AsgiServer, visitors: list[Visitor],
) -> None:
    """The watcher itself can fail: an inline script and style put into a served page are
    reported."""
    visitor = new_visitor(browser, asgi_server, visitors)
    page = visitor.visit("/accounts/login/")
    page.evaluate("""() => {
      const s = document.createElement("script"); s.textContent = "window.x = 1";
      document.body.append(s);
      const d = document.createElement("div"); d.setAttribute("style", "color: red");
      document.body.append(d);
    }""")
    page.wait_for_function("() => window.__cspViolations >= 2")  # dispatched asynchronously
    assert page.evaluate("() => window.x") is None
    joined = "\n".join(visitor.watcher.problems)
    assert "CSP violation: script-src-elem" in joined
    assert "CSP violation: style-src-attr" in joined


def test_the_account_pages_and_the_error_pages_pass_the_policy(
    browser: Browser, asgi_server: AsgiServer, visitors: list[Visitor],
) -> None:
    """allauth's pages in the site's templates (sign-in by code, password reset, the staff's
    two-factor set-up with its QR code), the development mailbox and the 403/404 pages."""
    make_user("owner", staff=True)
    stranger = new_visitor(browser, asgi_server, visitors)
    for path in ("/accounts/login/", "/accounts/login/code/", "/accounts/password/reset/",
                 "/dev/mail/"):
        stranger.visit(path)
    missing = stranger.page.goto(f"{asgi_server.url}/no/such/page/")
    assert missing is not None
    assert missing.status == 404
    expect(stranger.page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    stranger.watcher.problems = [p for p in stranger.watcher.problems if "status of 404" not in p]
    assert_clean(stranger)

    staff = new_visitor(browser, asgi_server, visitors)
    log_in(staff, "owner", "/accounts/2fa/")
    page = staff.visit("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name=re.compile("Confirm", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator(".totp-qr svg")).to_be_visible()
    assert_clean(staff)
