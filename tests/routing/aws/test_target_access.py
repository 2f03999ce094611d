"""Attacks by a credential limited to bus `partner`, with boto3 against the real ASGI server: it
may not put rules or targets on buses it was not given, nor targets that reach past its buses
(the shop's handlers, its Channels groups, a bus outside its scope). Refused, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from routing.aws.credentials import awscredential_create
from routing.handlers import registered_handler_names
from routing.models import ACCOUNT_ID, Rule, Target, region
from routing.services import Actor, bus_create, bus_ensure_default, rule_put
from tests.routing.aws.conftest import ClientFactory, Credential

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system("test")
PATTERN = json.dumps({"source": ["partner.app"]})
JOURNEY = "orders.journey.record"
METRICS = "orders.metrics.record"


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/{name}"


@pytest.fixture
def partner(client_for: ClientFactory) -> Any:
    """A client whose credential may use buses `partner` and `partner-audit` only."""
    bus_ensure_default()
    for name in ("partner", "partner-audit", "shop-internal"):
        bus_create(name=name, actor=SYSTEM)
    row, secret = awscredential_create(name="partner-svc",
                                       bus_names=["partner", "partner-audit"])
    return client_for(Credential(row.access_key_id, secret))


def test_scoped_credential_cannot_target_the_shops_handlers_channels_or_other_buses(
    partner: Any,
) -> None:
    assert {JOURNEY, METRICS} <= set(registered_handler_names())  # real, deliverable handlers
    partner.put_rule(Name="mine", EventBusName="partner", EventPattern=PATTERN)
    attacks = [
        {"Id": "journey", "Arn": f"arn:coffeeshop:handler:::{JOURNEY}"},
        {"Id": "metrics", "Arn": f"arn:coffeeshop:handler:::{METRICS}"},
        {"Id": "screens", "Arn": "arn:coffeeshop:channels:::barista.{detail.shopId}"},
        {"Id": "outside", "Arn": bus_arn("shop-internal")},
        {"Id": "default", "Arn": bus_arn("default")},
    ]
    put = partner.put_targets(Rule="mine", EventBusName="partner", Targets=attacks)

    assert put["FailedEntryCount"] == len(attacks)
    failed = {entry["TargetId"]: entry for entry in put["FailedEntries"]}
    assert set(failed) == {attack["Id"] for attack in attacks}
    assert {entry["ErrorCode"] for entry in failed.values()} == {"AccessDeniedException"}
    for attack, address in zip(attacks, [JOURNEY, METRICS, "barista.{detail.shopId}",
                                         "shop-internal", "default"], strict=True):
        message = failed[attack["Id"]]["ErrorMessage"]
        assert attack["Id"] in message, message
        assert address in message, message
    assert not Target.objects.exists()
    assert Rule.objects.get(name="mine").revision == 1  # no change was recorded


def test_scoped_credential_may_use_webhooks_and_its_own_buses(partner: Any) -> None:
    partner.put_rule(Name="mine", EventBusName="partner", EventPattern=PATTERN)
    put = partner.put_targets(Rule="mine", EventBusName="partner", Targets=[
        {"Id": "hook", "Arn": "https://partner.example.com/events"},
        {"Id": "audit", "Arn": bus_arn("partner-audit")},
        {"Id": "journey", "Arn": f"arn:coffeeshop:handler:::{JOURNEY}"},
    ])
    assert put["FailedEntryCount"] == 1
    assert put["FailedEntries"][0]["TargetId"] == "journey"
    stored = {(t.target_id, t.kind, t.address) for t in Target.objects.all()}
    assert stored == {("hook", "webhook", "https://partner.example.com/events"),
                      ("audit", "bus", "partner-audit")}


def test_scoped_credential_cannot_put_rules_or_targets_on_a_bus_outside_its_scope(
    partner: Any,
) -> None:
    with pytest.raises(ClientError) as refused:
        partner.put_rule(Name="sneaky", EventBusName="shop-internal", EventPattern=PATTERN)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert not Rule.objects.filter(name="sneaky").exists()

    rule_put(bus_name="shop-internal", name="theirs", event_pattern=PATTERN, actor=SYSTEM)
    with pytest.raises(ClientError) as refused:
        partner.put_targets(Rule="theirs", EventBusName=bus_arn("shop-internal"), Targets=[
            {"Id": "hook", "Arn": "https://partner.example.com/events"},
        ])
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "shop-internal" in refused.value.response["Error"]["Message"]
    assert not Target.objects.exists()


def test_tags_updates_and_deletes_stay_inside_the_credentials_buses(partner: Any) -> None:
    from routing.models import EventBus

    rule_put(bus_name="shop-internal", name="inner", event_pattern={"source": ["shop"]},
             actor=SYSTEM)
    foreign = [bus_arn("shop-internal"),
               f"arn:aws:events:{region()}:{ACCOUNT_ID}:rule/shop-internal/inner"]
    for arn in foreign:
        for call in (lambda arn=arn: partner.list_tags_for_resource(ResourceARN=arn),
                     lambda arn=arn: partner.tag_resource(ResourceARN=arn,
                                                          Tags=[{"Key": "k", "Value": "v"}]),
                     lambda arn=arn: partner.untag_resource(ResourceARN=arn, TagKeys=["k"])):
            with pytest.raises(ClientError) as refused:
                call()
            assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    for call in (lambda: partner.update_event_bus(Name="shop-internal", Description="mine"),
                 lambda: partner.delete_event_bus(Name="shop-internal")):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    inside = EventBus.objects.get(name="shop-internal")
    assert (inside.tags, inside.description, inside.deleted_at) == ({}, "", None)
    assert Rule.objects.get(name="inner").tags == {}
    # Its own bus it may tag.
    partner.tag_resource(ResourceARN=bus_arn("partner"), Tags=[{"Key": "k", "Value": "v"}])
    assert EventBus.objects.get(name="partner").tags == {"k": "v"}
