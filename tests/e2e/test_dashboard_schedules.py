"""The dashboard's Schedules page in headless Chromium against the real ASGI server: a scheduled
rule in words with its next five firings, and the live preview while an expression is typed
(AWS's refusal and its reason inline, then the words and times of a good one); a Scheduler
schedule in its own time zone, disabled and enabled again from the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from routing.publishers import Publisher
from routing.schedules.scheduler import Creator, ScheduleSpec, ScheduleTarget, schedule_create
from routing.services import Actor, TargetSpec, bus_ensure_default, rule_put, targets_put
from tests.routing.dashboard.test_rules_support import PASSWORD, make_user
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, server: AsgiServer, next_path: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


@pytest.mark.timeout(120)
def test_the_schedules_page_shows_next_firings_and_previews_as_you_type(
        page: Page, asgi_server: AsgiServer) -> None:
    make_user("ops")
    actor = Actor.system("test")
    bus_ensure_default()
    rule = rule_put(bus_name="default", name="weekday-report", event_pattern=None,
                    schedule_expression="cron(0 8 ? * MON-FRI *)", actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("hook", "handler", "orders.live.push")],
                actor=actor)

    log_in(page, asgi_server, "/dashboard/schedules/")
    expect(page.get_by_role("link", name="Schedules")).to_have_attribute("aria-current", "page")
    row = page.locator('tr[data-schedule="weekday-report"]')
    expect(row.locator("[data-schedule-description]")).to_have_text("every weekday at 08:00 UTC")
    expect(row.locator("[data-next-firings] li")).to_have_count(5)
    expect(row.locator("[data-next-firings] li").first).to_contain_text("08:00:00")
    expect(row.get_by_text("not fired yet")).to_be_visible()

    # The preview follows the field as it is typed.
    field = page.get_by_label("Schedule expression")
    result = page.locator("[data-preview-result]")
    expect(result.locator("[data-preview-description]")).to_have_text(
        "every weekday at 08:00 UTC")
    field.fill("cron(0 8 * * * *)")
    expect(result.locator("[data-preview-error]")).to_contain_text(
        "Parameter ScheduleExpression is not valid.")
    expect(result.locator("[data-preview-error]")).to_contain_text(
        "exactly one of day-of-month and day-of-week must be ?")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("")
    field.press_sequentially("rate(15 minutes)", delay=20)
    expect(result.locator("[data-preview-description]")).to_have_text("every 15 minutes")
    expect(result.locator("[data-preview-next] li")).to_have_count(5)
    expect(field).not_to_have_attribute("aria-invalid", "true")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    field.fill("cron(30 9 ? * 6L *)")
    expect(result.locator("[data-preview-description]")).to_have_text(
        "on the last Friday of the month at 09:30 Europe/Berlin")
    expect(result.locator("[data-preview-next] li").first).to_contain_text("Fri")

    # Disabling from the page stops the firings.
    row.get_by_role("button", name="Disable weekday-report").click()
    expect(row.get_by_text("does not fire while disabled")).to_be_visible()
    expect(row.get_by_role("button", name="Enable weekday-report")).to_be_visible()


@pytest.mark.timeout(120)
def test_a_scheduler_schedule_is_listed_in_its_zone_and_disabled_from_the_page(
        page: Page, asgi_server: AsgiServer) -> None:
    make_user("ops")
    bus_ensure_default()
    creator = Creator(actor=Actor.system("test"), publisher=Publisher.service("test"))
    target = ScheduleTarget(arn="arn:coffeeshop:handler:::orders.live.push", role_arn="",
                            kind="handler", address="orders.live.push")
    schedule = schedule_create(spec=ScheduleSpec(
        name="opening", group_name="default", expression="cron(0 8 ? * MON-FRI *)",
        timezone="Europe/Berlin", target=target), creator=creator)

    log_in(page, asgi_server, "/dashboard/schedules/")
    row = page.locator('tr[data-schedule="default/opening"]')
    expect(row).to_have_attribute("data-kind", "schedule")
    expect(row.locator("[data-schedule-description]")).to_have_text(
        "every weekday at 08:00 Europe/Berlin")
    expect(row.locator("[data-schedule-target]")).to_contain_text(
        "Scheduler schedule in group default")
    firings = row.locator("[data-next-firings] li")
    expect(firings).to_have_count(5)
    # Local time in the schedule's own zone, whichever side of DST the next firing falls on.
    expect(firings.first).to_contain_text(re.compile(r"08:00:00 (CET|CEST)"))
    expect(row.get_by_text("not fired yet")).to_be_visible()

    # The preview takes a one-time at() once it is for a Scheduler schedule.
    page.get_by_label("Used by").select_option("schedule")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Schedule expression").fill("at(2030-06-01T09:30:00)")
    result = page.locator("[data-preview-result]")
    expect(result.locator("[data-preview-description]")).to_have_text(
        "once, on 2030-06-01 at 09:30:00 Europe/Berlin")
    expect(result.locator("[data-preview-next] li")).to_have_count(1)

    row.get_by_role("button", name="Disable default/opening").click()
    expect(page.get_by_text("Schedule default/opening is disabled: it does not fire.")) \
        .to_be_visible()
    expect(row.get_by_text("does not fire while disabled")).to_be_visible()
    schedule.refresh_from_db()
    assert schedule.state == "DISABLED"
    row.get_by_role("button", name="Enable default/opening").click()
    expect(row.locator("[data-next-firings] li")).to_have_count(5)
    schedule.refresh_from_db()
    assert schedule.state == "ENABLED"
