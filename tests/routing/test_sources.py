"""Sources are owned: a credential publishes only the sources it was given; aws.* and the
sources an app reserved for its own service are refused to everybody else, each entry alone."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from orders.events import PUBLISHER as SHOP
from orders.events import SOURCE as SHOP_SOURCE
from routing.errors import ValidationError
from routing.models import ApiKey, Event, EventBus
from routing.publishers import Publisher, PublisherKind
from routing.services import event_publish, put_events
from routing.services.apikeys import apikey_create
from routing.sources import source_matches, source_owner

KEY = Publisher.api_key(key_id=7, name="partner")


def entry(source: str) -> dict[str, str]:
    return {"Source": source, "DetailType": "OrderManager.OrderCompleted",
            "Detail": json.dumps({"orderId": "o-1", "shopId": "test"})}


def test_patterns_are_a_source_or_a_dotted_prefix() -> None:
    assert source_matches("my.app", "my.app")
    assert not source_matches("my.app", "my.app.orders")
    assert source_matches("my.app.*", "my.app")
    assert source_matches("my.app.*", "my.app.orders.eu")
    assert not source_matches("my.app.*", "my.application")
    assert source_owner("aws.s3") == "aws"
    assert source_owner(SHOP_SOURCE) == "orders"  # reserved by OrdersConfig.ready()
    assert source_owner("my.app") is None


def test_a_scoped_key_publishing_the_shops_source_is_refused_alone(
    default_bus: EventBus,
) -> None:
    result = put_events(
        [entry("my.app.orders"), entry(SHOP_SOURCE), entry("other.app"), entry("aws.events")],
        publisher=KEY, allowed_sources=["my.app.*"],
    )
    stored, shop, other, aws = result.entries
    assert result.failed_entry_count == 3
    assert "EventId" in stored
    assert shop["ErrorCode"] == other["ErrorCode"] == aws["ErrorCode"] == \
        "NotAuthorizedForSourceException"
    assert f"source '{SHOP_SOURCE}'" in shop["ErrorMessage"]
    assert "reserved for the internal service 'orders'" in shop["ErrorMessage"]
    assert "api-key:partner may publish only my.app.*" in other["ErrorMessage"]
    assert "reserved for AWS" in aws["ErrorMessage"]
    [event] = Event.objects.all()
    assert (event.source, event.publisher_kind, event.publisher_ref, event.published_by) == (
        "my.app.orders", PublisherKind.API_KEY, "7", "api-key:partner")


def test_an_unscoped_key_publishes_anything_but_reserved_sources(default_bus: EventBus) -> None:
    result = put_events([entry("anything.at.all"), entry(SHOP_SOURCE)], publisher=KEY)
    assert "EventId" in result.entries[0]
    assert result.entries[1]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert Event.objects.get().source == "anything.at.all"


def test_only_the_shops_own_service_publishes_its_source(default_bus: EventBus) -> None:
    event = event_publish(publisher=SHOP, source=SHOP_SOURCE, detail_type="x", detail={})
    assert (event.publisher_kind, event.publisher_ref) == (PublisherKind.SERVICE, "orders")
    for impostor in (Publisher.service("billing"), KEY):
        with pytest.raises(ValidationError, match="reserved for the internal service 'orders'"):
            event_publish(publisher=impostor, source=SHOP_SOURCE, detail_type="x", detail={})
    assert Event.objects.count() == 1


@pytest.mark.parametrize("pattern", ["aws.*", "aws.s3", "awsserverlessda.*",
                                     "awsserverlessda.serverlesspresso", "bad pattern", "x..*"])
def test_a_key_cannot_be_given_a_reserved_or_malformed_pattern(db: None, pattern: str) -> None:
    with pytest.raises(ValidationError) as caught:
        apikey_create(name="greedy", sources=[pattern])
    assert caught.value.field == "Source"
    assert not ApiKey.objects.exists()


def test_manage_py_apikey_create_with_sources(db: None) -> None:
    out = io.StringIO()
    call_command("apikey", "create", "partner", "--source", "my.app.*", "--source", "my.app",
                 stdout=out)
    assert "may publish: my.app, my.app.*" in out.getvalue()
    assert '"Source": "my.app"' in out.getvalue()
    assert ApiKey.objects.get(name="partner").sources == ["my.app", "my.app.*"]
    call_command("apikey", "create", "anyone", stdout=io.StringIO())
    assert ApiKey.objects.get(name="anyone").sources == []
    with pytest.raises(CommandError, match="reserved"):
        call_command("apikey", "create", "thief", "--source", SHOP_SOURCE,
                     stdout=io.StringIO())
    listing = io.StringIO()
    call_command("apikey", "list", stdout=listing)
    assert "my.app,my.app.*" in listing.getvalue()
    assert "(unreserved)" in listing.getvalue()
