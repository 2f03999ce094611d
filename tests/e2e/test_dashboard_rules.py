"""The rule editor in headless Chromium against the real ASGI server: an invalid pattern is
flagged in place while typing, a fixed one saves a new revision that History shows, the sandbox
says match / no match, the impact preview counts seeded events exactly, a target's input is
previewed and an old revision restored.

Set RULES_SCREENSHOTS=<folder> to keep a screenshot of each screen."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from routing.models import Event, Rule
from tests.routing.dashboard.test_rules_support import (
    PASSWORD,
    PROPOSED,
    SOURCE,
    make_bus,
    make_rule,
    make_user,
    seed_numbered_events,
)
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The engine's path for this one is detail.n, on line 5 of the text.
INVALID = '{\n  "source": ["awsserverlessda.serverlesspresso"],\n  "detail": {\n' \
          '    "shopId": ["main"],\n    "n": [{"numeric": 5}]\n  }\n}'


class Shots:
    def __init__(self) -> None:
        folder = os.environ.get("RULES_SCREENSHOTS")
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, name: str) -> None:
        if self.folder:
            page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


@pytest.fixture
def shots() -> Shots:
    return Shots()


@pytest.fixture
def seeded() -> tuple[Rule, dict[int, Event]]:
    make_user("ops")
    bus = make_bus()
    rule = make_rule(bus, description="Numbers below ten")
    make_rule(bus, "OrderJourney", {"source": [SOURCE], "detail": {"orderId": [{"exists": True}]}})
    events = seed_numbered_events(bus)
    return rule, {event.detail["n"]: event for event in events}


def log_in(page: Page, server: AsgiServer, next_path: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def pattern_box(page: Page) -> Any:
    return page.get_by_role("textbox", name="Event pattern")


def test_an_invalid_pattern_is_flagged_while_typing_and_the_fix_saves_a_revision(
    page: Page, asgi_server: AsgiServer, seeded: tuple[Rule, dict[int, Event]], shots: Shots
) -> None:
    rule, _ = seeded
    log_in(page, asgi_server, "/dashboard/rules/")
    expect(page.locator('tr[data-rule="Numbers"]')).to_contain_text("Enabled")
    shots(page, "01-list")
    page.get_by_role("link", name="Numbers", exact=True).click()
    expect(page.locator("[data-pattern-status]")).to_have_text("✓ Valid pattern")

    editor = pattern_box(page)
    editor.fill("")
    editor.press_sequentially(INVALID[:-12], delay=5)  # typing, with checks on the way
    editor.fill(INVALID)
    status = page.locator("[data-pattern-status]")
    expect(status).to_contain_text(
        "Event pattern is not valid. Reason: Value of numeric must be an array.")
    expect(status.locator("[data-error-path]")).to_have_text("detail.n")
    expect(status).to_contain_text("line 5, column 5")
    expect(page.locator(".code-gutter span.is-error")).to_have_text("5")
    expect(page.locator("[data-pattern-editor] .code-mark")).to_be_visible()
    expect(editor).to_have_attribute("aria-invalid", "true")
    status.get_by_role("button", name="Show in the editor").click()
    selected = editor.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected == '"n"'
    shots(page, "02-invalid-while-typing")

    editor.fill(json.dumps(PROPOSED, indent=2))
    expect(status).to_have_text("✓ Valid pattern")
    expect(page.locator(".code-gutter span.is-error")).to_have_count(0)
    page.get_by_role("button", name="Save as revision 2").click()
    expect(page.locator(".messages")).to_contain_text(
        "Saved rule Numbers: revision 2 (changed pattern).")
    expect(page.locator(".rule-head .pill.revision")).to_have_text("revision 2")

    page.get_by_role("link", name="History").click()
    newest = page.locator('tr[data-revision="2"]')
    expect(newest).to_contain_text("changed pattern")
    expect(newest).to_contain_text("ops")
    expect(newest).to_contain_text("current")
    shots(page, "03-history")
    rule.refresh_from_db()
    assert (rule.revision, rule.event_pattern) == (2, PROPOSED)


def test_the_sandbox_shows_match_and_no_match(
    page: Page, asgi_server: AsgiServer, seeded: tuple[Rule, dict[int, Event]], shots: Shots
) -> None:
    rule, events = seeded
    log_in(page, asgi_server, f"/dashboard/rules/{rule.pk}/")
    editor = pattern_box(page)
    editor.fill('{"source": ["awsserverlessda.serverlesspresso"], "detail": {"shopId": ["main"]}}')
    sandbox = page.locator("#sandbox-form")
    sandbox.get_by_role("button", name="Test pattern").click()
    verdict = sandbox.locator(".verdict")
    expect(verdict).to_have_text("✓ Match")
    expect(sandbox).to_contain_text("The pattern matches the sample event")
    shots(page, "04-sandbox-match")

    # Once used, the sandbox follows the editor.
    editor.fill('{"source": ["awsserverlessda.serverlesspresso"], "detail": {"shopId": ["x"]}}')
    expect(verdict).to_have_text("✗ No match")

    editor.fill(json.dumps(PROPOSED, indent=2))
    sandbox.get_by_text("Stored event").click()
    sandbox.get_by_label("Latest events on").select_option(str(events[7].pk))
    expect(sandbox.get_by_label("Event id (any bus)")).to_have_value(str(events[7].pk))
    sandbox.get_by_role("button", name="Test pattern").click()
    expect(verdict).to_have_text("✓ Match")
    expect(sandbox.locator(".sandbox-result a")).to_have_attribute(
        "href", f"/dashboard/events/{events[7].pk}/")
    sandbox.get_by_label("Event id (any bus)").fill(str(events[3].pk))
    sandbox.get_by_role("button", name="Test pattern").click()
    expect(verdict).to_have_text("✗ No match")
    shots(page, "05-sandbox-no-match")


def test_the_impact_preview_counts_the_seeded_events(
    page: Page, asgi_server: AsgiServer, seeded: tuple[Rule, dict[int, Event]], shots: Shots
) -> None:
    rule, events = seeded
    log_in(page, asgi_server, f"/dashboard/rules/{rule.pk}/")
    pattern_box(page).fill(json.dumps(PROPOSED, indent=2))
    page.get_by_label("Check the last").select_option("1000")
    page.get_by_role("button", name="Preview impact").click()
    result = page.locator("[data-impact-result]")
    expect(result).to_contain_text("Checked the 30 most recent events on Serverlesspresso")
    for label, value in (("Saved pattern", "10"), ("Edited pattern", "15"),
                         ("Newly matched", "+10"), ("No longer matched", "\N{MINUS SIGN}5"),
                         ("Matched by both", "5")):
        expect(result.locator(f'[data-stat="{label}"] .stat-value')).to_have_text(value)
    newly = result.locator('[data-examples="added"] li a')
    expect(newly).to_have_count(5)
    expect(newly.first).to_have_attribute("href", f"/dashboard/events/{events[19].pk}/")
    expect(result.locator('[data-examples="removed"] li a').last).to_have_attribute(
        "href", f"/dashboard/events/{events[0].pk}/")
    expect(result).to_contain_text("and 5 more.")
    shots(page, "06-impact")


def test_a_target_is_added_and_previewed_and_an_old_revision_restored(
    page: Page, asgi_server: AsgiServer, seeded: tuple[Rule, dict[int, Event]], shots: Shots
) -> None:
    rule, events = seeded
    log_in(page, asgi_server, f"/dashboard/rules/{rule.pk}/targets/")
    form = page.locator("#add-target form")
    form.get_by_label("Target id").fill("board")
    form.get_by_label("Kind").select_option("channels")
    form.get_by_label("Address").fill("shop.{detail.shopId}")
    expect(form.get_by_label("Webhook timeout seconds")).to_be_hidden()
    form.get_by_label("Built from the event (InputTransformer)").check()
    expect(form.get_by_label("Input path")).to_be_hidden()
    form.get_by_label("Input transformer").fill(json.dumps({
        "InputPathsMap": {"n": "$.detail.n"},
        "InputTemplate": '{"number": <n>, "rule": <aws.events.rule-name>}',
    }))
    aside = page.locator(".preview-event")
    aside.get_by_text("Stored event").click()
    aside.get_by_label("Event id (any bus)").fill(str(events[12].pk))
    form.get_by_role("button", name="Preview what it receives").click()
    preview = form.locator("[data-preview-body]")
    expect(preview).to_have_text('{\n  "number": 12,\n  "rule": "Numbers"\n}')
    expect(form.locator("[data-preview-result]")).to_contain_text(
        "Sent to the Channels group shop.main.")
    shots(page, "07-target-preview")
    form.get_by_role("button", name="Add target").click()
    expect(page.locator(".messages")).to_contain_text("Target board added (rule revision 2).")
    expect(page.locator("#target-board")).to_contain_text("shop.{detail.shopId}")
    shots(page, "08-targets")

    page.get_by_role("link", name="Pattern").click()
    pattern_box(page).fill(json.dumps(PROPOSED, indent=2))
    page.get_by_role("button", name="Save as revision 3").click()
    page.get_by_role("link", name="History").click()
    page.locator('tr[data-revision="1"]').get_by_role("link", name="vs current").click()
    expect(page.get_by_role("heading", name="Revision 1 → revision 3 (current)")).to_be_visible()
    expect(page.locator(".diff-line.removed")).to_have_count(2)
    expect(page.locator('[data-target-change="board"]')).to_contain_text("added")
    shots(page, "09-diff")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.locator(".messages")).to_contain_text(
        "Restored revision 1: the rule is now at revision 4.")
    expect(page.locator('tr[data-revision="4"]')).to_contain_text("restored revision 1")
    shots(page, "10-restored")
    rule.refresh_from_db()
    assert rule.revision == 4
    assert rule.event_pattern["detail"]["n"] == [{"numeric": [">=", 0, "<", 10]}]
