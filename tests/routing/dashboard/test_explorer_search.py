"""The explorer's search: filters, JSON field conditions (on SQLite and PostgreSQL alike) and
keyset pagination that never skips or repeats an event, even among ties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.errors import ValidationError
from routing.models import EventBus
from routing.selectors.events import (
    EventFilters,
    decode_cursor,
    event_keys_since,
    event_search,
    parse_field_condition,
)
from routing.services import Actor, bus_create
from tests.routing.dashboard.test_explorer_support import make_event, make_events

pytestmark = pytest.mark.django_db


def ids(page_rows: list) -> list[str]:
    return [row.id for row in page_rows]


def walk(filters: EventFilters, *, limit: int) -> list[str]:
    """Every id, following the `older` cursors from the newest page."""
    seen: list[str] = []
    page = event_search(filters, limit=limit)
    while True:
        seen += ids(page.rows)
        if page.older is None:
            return seen
        page = event_search(filters, after=page.older, limit=limit)


def test_keyset_pages_cover_every_event_once_newest_first(default_bus: EventBus) -> None:
    start = timezone.now() - timedelta(hours=1)
    events = make_events(default_bus, 23, start=start)
    # Ties: several events ingested at the same instant (one PutEvents batch shares `now`).
    tied = [make_event(default_bus, ingested_at=start + timedelta(seconds=10)) for _ in range(6)]
    everything = sorted(events + tied, key=lambda e: (e.ingested_at, str(e.pk)), reverse=True)

    assert walk(EventFilters(), limit=5) == [str(e.pk) for e in everything]
    assert walk(EventFilters(), limit=50) == [str(e.pk) for e in everything]


def test_newer_cursor_walks_back_to_the_first_page(default_bus: EventBus) -> None:
    make_events(default_bus, 12)
    first = event_search(EventFilters(), limit=5)
    second = event_search(EventFilters(), after=first.older, limit=5)
    third = event_search(EventFilters(), after=second.older, limit=5)
    assert len(third.rows) == 2
    assert third.older is None
    assert not third.is_first

    back = event_search(EventFilters(), before=third.newer, limit=5)
    assert ids(back.rows) == ids(second.rows)
    assert back.older == second.older
    front = event_search(EventFilters(), before=back.newer, limit=5)
    assert ids(front.rows) == ids(first.rows)
    assert front.is_first
    assert front.newer is None


def test_filters_by_bus_source_type_and_time(default_bus: EventBus) -> None:
    other = bus_create(name="payments", actor=Actor.system("test"))
    now = timezone.now()
    wanted = make_event(default_bus, source="shop", detail_type="OrderPlaced",
                        ingested_at=now - timedelta(minutes=5))
    make_event(default_bus, source="shop", detail_type="OrderPlaced",
               ingested_at=now - timedelta(hours=2))
    make_event(default_bus, source="till", detail_type="OrderPlaced",
               ingested_at=now - timedelta(minutes=5))
    make_event(default_bus, source="shop", detail_type="OrderCancelled",
               ingested_at=now - timedelta(minutes=5))
    make_event(other, source="shop", detail_type="OrderPlaced",
               ingested_at=now - timedelta(minutes=5))

    page = event_search(EventFilters(bus="default", source="shop", detail_type="OrderPlaced",
                                     since=now - timedelta(hours=1), until=now))
    assert ids(page.rows) == [str(wanted.pk)]
    assert [row.bus for row in event_search(EventFilters(bus="payments")).rows] == ["payments"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("detail.orderId = abc", {"text"}),
        ('detail.orderId = "abc"', {"text"}),
        ("detail.orderId = 42", {"number", "numeric-text"}),
        ('detail.orderId = "42"', {"numeric-text"}),
        ("detail.paid = true", {"bool"}),
        ("detail.drinkOrder.drink = Latte", {"nested"}),
        ("detail.items[1] = oat", {"list"}),
        ("detail.items.1 = oat", {"list"}),
        ("detail.orderId = null", {"null"}),
        ("resources[0] = arn:shop:main", {"text"}),
        ("source = till", {"till"}),
        ("detail-type = Cancelled", {"till"}),
        ("detail.orderId = nobody", set()),
    ],
)
def test_field_conditions_match_json_values(
    default_bus: EventBus, condition: str, expected: set[str]
) -> None:
    made = {
        "text": make_event(default_bus, detail={"orderId": "abc"}, resources=["arn:shop:main"]),
        "number": make_event(default_bus, detail={"orderId": 42}),
        "numeric-text": make_event(default_bus, detail={"orderId": "42"}),
        "bool": make_event(default_bus, detail={"orderId": "b", "paid": True}),
        "nested": make_event(default_bus, detail={"drinkOrder": {"drink": "Latte"}}),
        "list": make_event(default_bus, detail={"items": ["milk", "oat"]}),
        "null": make_event(default_bus, detail={"orderId": None}),
        "till": make_event(default_bus, source="till", detail_type="Cancelled",
                           detail={"paid": False}),
    }
    names = {str(event.pk): name for name, event in made.items()}
    page = event_search(EventFilters(condition=parse_field_condition(condition)), limit=100)
    assert {names[row.id] for row in page.rows} == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("detail.orderId", "path = value"),
        ("= abc", "path = value"),
        ("payload.x = 1", "start with detail"),
        ("detail = 1", "Name a member of detail"),
        ("resources.x = 1", "resources is a list"),
        ("detail..x = 1", "not valid"),
        ('detail.x = "abc', "not a complete JSON string"),
        ('detail.x = {"a": 1}', "not with an object"),
        ("source.x = 1", "has no x"),
    ],
)
def test_bad_field_conditions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_field_condition(text)
    assert message in raised.value.message
    assert raised.value.field == "field"


def test_a_mangled_cursor_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="page link is not valid"):
        decode_cursor("not-a-cursor")


def test_tail_poll_returns_keys_since_newest_first(default_bus: EventBus) -> None:
    now = timezone.now()
    old = make_event(default_bus, ingested_at=now - timedelta(minutes=5))
    first = make_event(default_bus, ingested_at=now - timedelta(seconds=2))
    second = make_event(default_bus, ingested_at=now - timedelta(seconds=1))
    keys = event_keys_since(EventFilters(), since=now - timedelta(seconds=3), limit=10)
    assert [key for key, _ in keys] == [str(second.pk), str(first.pk)]
    assert str(old.pk) not in {key for key, _ in keys}


def test_statuses_of_listed_events(default_bus: EventBus) -> None:
    from routing.models import AttemptOutcome, DeliveryStatus
    from tests.routing.dashboard.test_explorer_support import make_delivery, make_rule_with_target

    _, target = make_rule_with_target(default_bus)
    delivered = make_event(default_bus)
    make_delivery(delivered, target, status=DeliveryStatus.SUCCEEDED,
                  attempts=[(AttemptOutcome.SUCCEEDED, 3.0)])
    failed = make_event(default_bus)
    make_delivery(failed, target, status=DeliveryStatus.DEAD)
    unmatched = make_event(default_bus)
    statuses = {row.id: row.status for row in event_search(EventFilters()).rows}
    assert statuses == {str(delivered.pk): "delivered", str(failed.pk): "failed",
                        str(unmatched.pk): "unmatched"}
