"""The dashboard's Schedules page through the test client, under a controlled clock: staff only,
every scheduled rule in words with its next five firings and its last firings (linked to their
events and deliveries), enable/disable through the rule services, and the preview endpoint."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from routing.models import Delivery, EventBus, Rule, RuleState, ScheduleTick
from routing.schedules.firing import schedules_fire
from routing.selectors.schedules import schedule_rows
from routing.services import Actor, TargetSpec, rule_put, targets_put
from tests.routing.dashboard.test_rules_support import client_for, make_user

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 3, 7, 58, 0, tzinfo=UTC)  # a Thursday
PAGE = "/dashboard/schedules/"
PREVIEW = "/dashboard/schedules/preview"


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client() -> Client:
    return client_for(make_user("ops"))


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def weekday_rule(actor: Actor) -> Rule:
    rule = rule_put(bus_name="default", name="morning", event_pattern=None,
                    schedule_expression="cron(0 8 ? * MON-FRI *)", actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("r", "handler", "tests.recorder")], actor=actor)
    rule.refresh_from_db()
    return rule


def test_the_page_is_for_staff(default_bus: EventBus) -> None:
    assert Client().get(PAGE).status_code == 302
    assert client_for(make_user("guest", staff=False)).get(PAGE).status_code == 403
    assert Client().get(PREVIEW, {"expression": "rate(1 day)"}).status_code == 401
    assert client_for(make_user("guest2", staff=False)).get(
        PREVIEW, {"expression": "rate(1 day)"}).status_code == 403


def test_a_scheduled_rule_in_words_with_its_next_five_firings(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    weekday_rule(actor)
    rule_put(bus_name="default", name="patterned", event_pattern={"source": ["x"]}, actor=actor)
    page = text_of(client.get(PAGE))
    assert "every weekday at 08:00 UTC" in page
    assert "cron(0 8 ? * MON-FRI *)" in page
    assert "patterned" not in page  # a pattern rule has no schedule
    [row] = schedule_rows()
    # Thursday, Friday, then Monday to Wednesday: the weekend is skipped.
    assert [moment.date().isoformat() for moment in row.next_firings] == [
        "2026-12-03", "2026-12-04", "2026-12-07", "2026-12-08", "2026-12-09"]
    assert "Thu 03 Dec 2026, 08:00:00" in page
    assert "Wed 09 Dec 2026, 08:00:00" in page


def test_the_last_firings_link_to_their_events_and_deliveries(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    rule = weekday_rule(actor)
    clock.shift(timedelta(minutes=2))
    assert schedules_fire().fired == 1
    tick = ScheduleTick.objects.get(rule=rule)
    delivery = Delivery.objects.get(event_id=tick.event_id)
    body = client.get(PAGE).content.decode()
    assert f'href="/dashboard/events/{tick.event_id}/"' in body
    assert f'href="/dashboard/events/{tick.event_id}/#delivery-{delivery.id}"' in body
    assert "r: pending" in text_of(client.get(PAGE))


def test_disable_and_enable_from_the_page(default_bus: EventBus, actor: Actor, recorder: Any,
                                          clock: Any, client: Client) -> None:
    rule = weekday_rule(actor)
    response = client.post(f"/dashboard/schedules/rules/{rule.pk}/state", {"state": "DISABLED"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.state == RuleState.DISABLED
    page = text_of(client.get(PAGE))
    assert "does not fire while disabled" in page
    assert "is disabled" in page
    client.post(f"/dashboard/schedules/rules/{rule.pk}/state", {"state": "ENABLED"})
    rule.refresh_from_db()
    assert rule.state == RuleState.ENABLED
    assert rule.revision == 4  # put, target, disabled, enabled: each a revision of the rule


def test_a_state_change_is_staff_only_and_checked(default_bus: EventBus, actor: Actor,
                                                  recorder: Any, client: Client) -> None:
    rule = weekday_rule(actor)
    guest = client_for(make_user("guest", staff=False))
    assert guest.post(f"/dashboard/schedules/rules/{rule.pk}/state",
                      {"state": "DISABLED"}).status_code == 403
    client.post(f"/dashboard/schedules/rules/{rule.pk}/state", {"state": "ASLEEP"})
    rule.refresh_from_db()
    assert rule.state == RuleState.ENABLED
    assert "State must be one of" in text_of(client.get(PAGE))
    assert client.post("/dashboard/schedules/rules/9999/state",
                       {"state": "DISABLED"}).status_code == 404


def test_the_preview_reads_an_expression_and_its_next_firings(
        default_bus: EventBus, clock: Any, client: Client) -> None:
    body = client.get(PREVIEW, {"expression": "cron(0 8 ? * MON-FRI *)",
                                "timezone": "Europe/Berlin"}).json()
    assert body["valid"] is True
    assert body["description"] == "every weekday at 08:00 Europe/Berlin"
    assert body["next"][:2] == ["2026-12-04T07:00:00Z", "2026-12-07T07:00:00Z"]
    assert len(body["next"]) == 5
    rate = client.get(PREVIEW, {"expression": "rate(5 minutes)"}).json()
    assert rate["description"] == "every 5 minutes"
    assert rate["next"][0] == "2026-12-03T08:03:00Z"


@pytest.mark.parametrize(("expression", "reason"), [
    ("cron(0 8 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("rate(1 minutes)", "use the singular"),
    ("cron(0 25 * * ? *)", "hours: 25 is outside 0-23"),
    ("", "1 to 256 characters"),
])
def test_the_preview_gives_aws_refusal_and_the_reason(default_bus: EventBus, client: Client,
                                                      expression: str, reason: str) -> None:
    response = client.get(PREVIEW, {"expression": expression})
    assert response.status_code == 400
    body = response.json()
    assert body["valid"] is False
    assert body["message"] == "Parameter ScheduleExpression is not valid."
    assert reason in body["reason"]


def test_the_preview_refuses_a_zone_that_is_not_one(default_bus: EventBus,
                                                    client: Client) -> None:
    response = client.get(PREVIEW, {"expression": "rate(1 day)", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "'Mars/Olympus' is not an IANA time zone" in response.json()["message"]


def test_the_rule_editor_shows_a_scheduled_rule_s_expression_not_an_empty_pattern(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    rule = weekday_rule(actor)
    response = client.get(f"/dashboard/rules/{rule.pk}/")
    body = response.content.decode()
    assert 'name="schedule_expression"' in body
    assert 'value="cron(0 8 ? * MON-FRI *)"' in body
    assert 'name="event_pattern"' not in body
    assert "every weekday at 08:00 UTC" in text_of(response)
    listing = text_of(client.get("/dashboard/rules/?bus=default"))
    assert ('class="pill kind">schedule</a> <span class="mono">cron(0 8 ? * MON-FRI *)</span>'
            in listing)


def test_the_rule_editor_saves_a_new_expression_and_refuses_a_bad_one(
        default_bus: EventBus, actor: Actor, recorder: Any, clock: Any, client: Client) -> None:
    rule = weekday_rule(actor)
    form = {"state": "ENABLED", "description": "", "revision": rule.revision}
    url = f"/dashboard/rules/{rule.pk}/"
    bad = client.post(url, {**form, "schedule_expression": "rate(1 minutes)"})
    assert bad.status_code == 400
    assert "Parameter ScheduleExpression is not valid." in text_of(bad)
    rule.refresh_from_db()
    assert rule.schedule_expression == "cron(0 8 ? * MON-FRI *)"
    good = client.post(url, {**form, "schedule_expression": "rate(2 hours)"})
    assert good.status_code == 302
    rule.refresh_from_db()
    assert rule.schedule_expression == "rate(2 hours)"
    assert rule.event_pattern == {}


def test_a_scheduled_rule_is_created_from_the_editor(default_bus: EventBus, clock: Any,
                                                     client: Client) -> None:
    page = client.get("/dashboard/rules/new/?bus=default&schedule=1")
    assert 'value="rate(5 minutes)"' in page.content.decode()
    response = client.post("/dashboard/rules/new/?bus=default&schedule=1", {
        "name": "hourly", "state": "ENABLED", "description": "",
        "schedule_expression": "cron(0 * * * ? *)", "revision": ""})
    assert response.status_code == 302
    rule = Rule.objects.get(name="hourly")
    assert rule.schedule_expression == "cron(0 * * * ? *)"
