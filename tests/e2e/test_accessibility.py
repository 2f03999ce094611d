"""axe-core on every page, in headless Chromium against the real server and worker: the home
page, the customer's scan, menu, order and history pages, the barista's and the display, the
dashboard's pages, the login pages, the admin index and the error pages have no serious or
critical violation — with orders on the screens, so the tickets and badges are checked too.
A customer also orders with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders.models import Order, Shop
from orders.rules import ensure_shop_rules
from routing.models import Event
from tests.e2e.axe import AXE_VERSION, Violation, axe_violations, install_axe
from tests.e2e.customers import sign_in_with_emailed_code
from tests.e2e.test_shop import LIVE, PHONE, TABLET, roomy_window_seconds
from tests.orders.test_live_support import TEST_PASSWORD, make_shop, make_user
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@dataclass
class Auditor:
    """One browser context with axe in every document; `check` audits the page as it is."""
    context: BrowserContext
    page: Page
    server: AsgiServer
    found: list[Violation] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def visit(self, path: str, *, status: int = 200) -> Page:
        response = self.page.goto(self.server.url + path)
        assert response is not None, path
        assert response.status == status, (path, response.status)
        self.page.wait_for_load_state("load")
        return self.page

    def check(self) -> None:
        self.checked.append(self.page.url)
        self.found.extend(axe_violations(self.page))

    def visit_and_check(self, path: str, *, status: int = 200) -> None:
        self.visit(path, status=status)
        self.check()


@pytest.fixture
def auditors(browser: Browser) -> Iterator[list[Auditor]]:
    made: list[Auditor] = []
    yield made
    for auditor in made:
        auditor.context.close()


def new_auditor(browser: Browser, server: AsgiServer, made: list[Auditor],
                viewport: dict[str, int]) -> Auditor:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    install_axe(context)
    auditor = Auditor(context, context.new_page(), server)
    made.append(auditor)
    return auditor


def log_in(auditor: Auditor, username: str, next_path: str) -> None:
    page = auditor.visit(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def assert_accessible(*auditors: Auditor, pages: int) -> None:
    found = [violation for auditor in auditors for violation in auditor.found]
    assert found == [], "\n".join(str(violation) for violation in found)
    assert sum(len(auditor.checked) for auditor in auditors) == pages


@pytest.fixture
def shop() -> Shop:
    ensure_shop_rules()
    return make_shop("a11y", name="Axe Coffee", is_open=True, drinks_per_window=9,
                     window_seconds=roomy_window_seconds(), max_orders_per_customer_per_day=5)


def order_as(customer: Auditor, qr_url: str, email: str, name: str, *, check: bool) -> None:
    page = customer.visit(qr_url.removeprefix(customer.server.url))
    if check:
        customer.check()  # the sign-in by code page
    sign_in_with_emailed_code(page, customer.server.url, email)
    expect(page.get_by_label("Your first name")).to_be_visible()
    if check:
        customer.check()  # the name step
    page.get_by_label("Your first name").fill(name)
    page.get_by_role("button", name="Start my order").click()
    expect(page.get_by_role("heading", name="Choose a drink")).to_be_visible(timeout=LIVE)
    page.locator(".drink-card", has_text="Latte").click()
    if check:
        customer.check()  # the menu, a drink chosen and its options open
    page.locator('[data-modifiers-for="Latte"] .chip', has_text="Oat").click()
    page.get_by_role("button", name="Order", exact=True).click()
    expect(page.locator('[data-field="title"]')).to_have_text("You're in the queue", timeout=LIVE)
    if check:
        customer.check()  # the order's status


@pytest.mark.timeout(300)
def test_the_shop_pages_have_no_serious_violations_with_orders_in_every_column(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    auditors: list[Auditor],
) -> None:
    make_user("bea", barista=True)
    barista = new_auditor(browser, asgi_server, auditors, TABLET)
    log_in(barista, "bea", f"/shop/{shop.slug}/display/")
    display = barista.page
    expect(display.locator("[data-qr] svg")).to_be_visible()
    qr_url = display.locator("[data-qr]").get_attribute("data-url")
    assert qr_url
    barista.check()  # the display, empty

    customers = []
    for number, name in enumerate(("Ada", "Ben", "Cy")):
        customer = new_auditor(browser, asgi_server, auditors, PHONE)
        order_as(customer, qr_url, f"{name.lower()}@example.com", name, check=number == 0)
        customers.append(customer)

    page = barista.visit(f"/shop/{shop.slug}/barista/")
    expect(page.locator('[data-column="QUEUED"] .ticket')).to_have_count(3, timeout=LIVE)
    for _ in range(2):
        page.locator('[data-column="QUEUED"] .ticket').first.get_by_role(
            "button", name="Make").click()
    expect(page.locator('[data-column="IN_PRODUCTION"] .ticket')).to_have_count(2, timeout=LIVE)
    page.locator('[data-column="IN_PRODUCTION"] .ticket').first.get_by_role(
        "button", name=re.compile("Ready")).click()
    expect(page.locator('[data-column="COMPLETED"] .ticket')).to_have_count(1, timeout=LIVE)
    barista.check()  # the barista's board, a ticket in every column
    barista.visit_and_check(f"/shop/{shop.slug}/display/")
    barista.visit_and_check(f"/shop/{shop.slug}/barista/hours/")

    ada = customers[0]
    order = Order.objects.get(customer__name="Ada")
    ada.visit_and_check(f"/orders/{order.pk}/")
    ada.visit_and_check(f"/orders/{order.pk}/journey/")
    ada.visit_and_check("/me/orders/")
    ada.visit_and_check(f"/shop/{shop.slug}/")
    assert_accessible(barista, *customers, pages=12)


@pytest.mark.timeout(300)
def test_the_home_dashboard_admin_login_and_error_pages_have_no_serious_violations(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    auditors: list[Auditor],
) -> None:
    root = make_user("root", barista=True, staff=True)
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    make_user("bea", barista=True)

    stranger = new_auditor(browser, asgi_server, auditors, {"width": 1280, "height": 900})
    for path in ("/", "/accounts/login/", "/accounts/login/code/", "/accounts/password/reset/",
                 "/admin/login/", "/api/docs"):
        stranger.visit_and_check(path)
    stranger.visit_and_check("/no/such/page/", status=404)

    barista = new_auditor(browser, asgi_server, auditors, {"width": 1280, "height": 900})
    log_in(barista, "bea", f"/shop/{shop.slug}/barista/")
    barista.visit_and_check("/dashboard/", status=403)

    operator = new_auditor(browser, asgi_server, auditors, {"width": 1280, "height": 900})
    log_in(operator, "root", "/dashboard/")
    # Some traffic first, so the tables, badges and charts have rows to check.
    customer = new_auditor(browser, asgi_server, auditors, PHONE)
    operator.visit(f"/shop/{shop.slug}/display/")
    expect(operator.page.locator("[data-qr] svg")).to_be_visible()
    qr_url = operator.page.locator("[data-qr]").get_attribute("data-url")
    assert qr_url
    order_as(customer, qr_url, "dee@example.com", "Dee", check=False)
    event = Event.objects.order_by("-pk").first()
    assert event is not None
    for path in ("/dashboard/", "/dashboard/events/", f"/dashboard/events/{event.pk}/",
                 "/dashboard/deliveries/", "/dashboard/metrics/", "/dashboard/topology/",
                 "/dashboard/archives/", "/dashboard/schedules/", "/dashboard/rules/",
                 "/dashboard/rules/new/", "/admin/"):
        operator.visit_and_check(path)
    assert_accessible(stranger, barista, operator, pages=19)


# The element with the focus, if nothing (the sticky Order button, say) covers its middle.
FOCUSED_UNCOVERED = """(selector) => {
  const el = document.activeElement;
  if (!el || !el.matches(selector)) return null;
  const box = (el.closest("label") || el).getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const mine = el.closest("label") || el;
  return {covered: !(hit && (mine.contains(hit) || hit.contains(mine))),
          by: hit ? hit.outerHTML.slice(0, 80) : "nothing (off screen)"};
}"""


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Presses Tab until the focus is on `selector`; on the way, no focused control is hidden."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        landed = page.evaluate(FOCUSED_UNCOVERED, "*")
        assert landed is not None
        assert not landed["covered"], (page.evaluate("document.activeElement.outerHTML"),
                                       landed["by"])
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.timeout(240)
def test_a_customer_orders_with_the_keyboard_alone_and_the_focus_is_never_hidden(
    browser: Browser, asgi_server: AsgiServer, celery_worker: CeleryWorker, shop: Shop,
    auditors: list[Auditor],
) -> None:
    make_user("bea", barista=True)
    barista = new_auditor(browser, asgi_server, auditors, TABLET)
    log_in(barista, "bea", f"/shop/{shop.slug}/display/")
    expect(barista.page.locator("[data-qr] svg")).to_be_visible()
    qr_url = barista.page.locator("[data-qr]").get_attribute("data-url")
    assert qr_url

    # A short phone, so the menu scrolls under the sticky Order button.
    customer = new_auditor(browser, asgi_server, auditors, {"width": 360, "height": 560})
    page = customer.visit(qr_url.removeprefix(asgi_server.url))
    sign_in_with_emailed_code(page, asgi_server.url, "kim@example.com")
    tab_to(page, "input[name=name]")
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose a drink")).to_be_visible(timeout=LIVE)
    tab_to(page, "input[name=drink][value=Latte]")
    page.keyboard.press("Space")
    tab_to(page, '[data-modifiers-for="Latte"] input[type=radio]')
    while page.evaluate("document.activeElement.value") != "Oat":
        page.keyboard.press("ArrowRight")  # within a radio group the arrows choose
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator('[data-field="title"]')).to_have_text("You're in the queue", timeout=LIVE)
    # The focus moves to the status that replaced the menu; a reload does not take it there.
    expect(page.locator('[data-field="title"]')).to_be_focused()
    page.reload()
    expect(page.locator('[data-field="title"]')).to_be_visible()
    expect(page.locator('[data-field="title"]')).not_to_be_focused()
    order = Order.objects.get(customer__name="Kim")
    assert order.drink == "Latte"
    assert "Oat" in str(order.modifiers)


@pytest.mark.timeout(120)
def test_axe_comes_by_init_script_because_the_policy_refuses_a_script_tag(
    browser: Browser, asgi_server: AsgiServer, auditors: list[Auditor],
) -> None:
    """Why tests/e2e/axe.py uses an init script: under `script-src 'self'` a `<script>` added
    to the page (Playwright's add_script_tag) is refused, so axe could not run that way."""
    plain = browser.new_context()
    try:
        page = plain.new_page()
        page.goto(asgi_server.url + "/accounts/login/")
        with pytest.raises(Exception, match=r"(?i)content.security.policy|refused"):
            page.add_script_tag(content="window.injected = true")
        assert page.evaluate("() => window.injected") is None
    finally:
        plain.close()
    auditor = new_auditor(browser, asgi_server, auditors, {"width": 1280, "height": 900})
    auditor.visit_and_check("/accounts/login/")
    assert auditor.found == []
    assert auditor.page.evaluate("() => window.axe.version") == AXE_VERSION
