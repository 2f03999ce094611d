"""Which target kinds each caller may create, at the service every door goes through: outside
callers (API keys, AWS credentials) only webhooks and their own buses; the project and staff
every kind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from routing.errors import AccessDenied
from routing.models import EventBus, Rule, Target
from routing.services import Actor, TargetSpec, bus_create, rule_put, targets_put
from routing.services.apikeys import apikey_create
from tests.support.processes import AsgiServer

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
PATTERN = {"source": ["partner.app"]}
HANDLER = TargetSpec("journey", "handler", "orders.journey.record")
CHANNELS = TargetSpec("screens", "channels", "barista.{detail.shopId}")
OUTSIDE_BUS = TargetSpec("outside", "bus", "default")
WEBHOOK = TargetSpec("hook", "webhook", "https://partner.example.com/events")
OWN_BUS = TargetSpec("audit", "bus", "partner-audit")


@pytest.fixture
def partner_rule(default_bus: EventBus) -> Rule:
    bus_create(name="partner", actor=SYSTEM)
    bus_create(name="partner-audit", actor=SYSTEM)
    return rule_put(bus_name="partner", name="mine", event_pattern=PATTERN, actor=SYSTEM)


def scoped(*bus_names: str) -> Actor:
    return Actor.for_caller("api-key:partner", bus_names=frozenset(bus_names) or None)


def test_a_scoped_caller_creates_only_webhooks_and_targets_to_its_own_buses(
    partner_rule: Rule,
) -> None:
    failures = targets_put(rule=partner_rule, actor=scoped("partner", "partner-audit"),
                           targets=[HANDLER, CHANNELS, OUTSIDE_BUS, WEBHOOK, OWN_BUS])
    assert {(f.target_id, f.code) for f in failures} == {
        ("journey", "AccessDeniedException"), ("screens", "AccessDeniedException"),
        ("outside", "AccessDeniedException"),
    }
    messages = {f.target_id: f.message for f in failures}
    assert "orders.journey.record" in messages["journey"]
    assert "barista.{detail.shopId}" in messages["screens"]
    assert "event bus default" in messages["outside"]
    assert set(Target.objects.values_list("target_id", flat=True)) == {"hook", "audit"}


def test_a_caller_with_every_bus_still_gets_no_handler_or_channels_target(
    partner_rule: Rule,
) -> None:
    failures = targets_put(rule=partner_rule, actor=scoped(),
                           targets=[HANDLER, CHANNELS, OUTSIDE_BUS])
    assert [f.target_id for f in failures] == ["journey", "screens"]
    assert list(Target.objects.values_list("target_id", flat=True)) == ["outside"]


def test_an_unknown_handler_is_refused_as_access_not_as_a_missing_name(
    partner_rule: Rule,
) -> None:
    # An outside caller learns nothing about which handlers the project has.
    [failure] = targets_put(rule=partner_rule, actor=scoped("partner"),
                            targets=[TargetSpec("probe", "handler", "no.such.handler")])
    assert failure.code == "AccessDeniedException"


@pytest.mark.parametrize("actor", [
    SYSTEM,
    pytest.param(None, id="staff"),
])
def test_the_project_and_staff_may_create_every_kind(partner_rule: Rule,
                                                     actor: Actor | None) -> None:
    if actor is None:
        actor = Actor.for_user(User.objects.create_user("barista-lead", is_staff=True))
    assert not targets_put(rule=partner_rule, actor=actor,
                           targets=[HANDLER, CHANNELS, OUTSIDE_BUS, WEBHOOK])
    assert Target.objects.count() == 4


def test_rules_and_targets_on_a_bus_outside_the_scope_are_refused_whole(
    partner_rule: Rule,
) -> None:
    outsider = scoped("partner-audit")
    with pytest.raises(AccessDenied, match="event bus partner"):
        rule_put(bus_name="partner", name="sneaky", event_pattern=PATTERN, actor=outsider)
    with pytest.raises(AccessDenied, match="event bus partner"):
        targets_put(rule=partner_rule, actor=outsider, targets=[WEBHOOK])
    assert not Rule.objects.filter(name="sneaky").exists()
    assert not Target.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_rest_api_has_no_door_to_rules_or_targets(asgi_server: AsgiServer,
                                                      default_bus: EventBus) -> None:
    # The REST API publishes, traces and redrives; rules and targets are written only through
    # the AWS endpoint (checked above), the dashboard and the admin. Should a REST endpoint for
    # them appear, it must pass Actor.for_caller to the services, and this test must change.
    _, key = apikey_create(name="partner-key", bus_names=["default"])
    attempts: list[tuple[str, Any]] = [
        ("/api/rules", {"Name": "mine", "EventBusName": "default", "EventPattern": PATTERN}),
        ("/api/targets", {"Rule": "mine", "Targets": [
            {"Id": "journey", "Arn": "arn:coffeeshop:handler:::orders.journey.record"}]}),
        ("/api/rules/mine/targets", {"Targets": [
            {"Id": "screens", "Arn": "arn:coffeeshop:channels:::barista.all"}]}),
    ]
    with httpx.Client(base_url=asgi_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        for path, body in attempts:
            response = client.post(path, json=body)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["code"] == "ResourceNotFoundException"
    assert not Rule.objects.exists()
    assert not Target.objects.exists()
