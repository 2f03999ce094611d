"""The shop's rules as data (created once, the operator's to edit afterwards) and the demo seed."""

from __future__ import annotations

import pytest

from orders import demo
from orders.events import BUS_NAME, SOURCE, DetailType
from orders.models import Drink, Shop
from orders.rules import ARCHIVE_NAME, SHOP_RULES, ShopRule, ensure_shop_rules
from routing.models import Archive, Rule, RuleState, Target
from routing.patterns import compile_pattern
from routing.services import Actor, rule_put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_push_handler")]


def envelope(detail_type: str, **detail: object) -> dict[str, object]:
    return {"source": SOURCE, "detail-type": detail_type, "detail": {"shopId": "main", **detail}}


def test_the_rules_are_created_once_with_their_handler_targets() -> None:
    created = ensure_shop_rules()
    assert created[0] == f"bus {BUS_NAME}"
    assert [c for c in created if c.startswith("rule ")] == [
        "rule NewOrder", "rule WaitingCompletion", "rule Publisher", "rule OrderMetrics",
        "rule OrderJourney",
    ]
    assert created[-1] == f"archive {ARCHIVE_NAME}"
    targets = {t.rule.name: t for t in Target.objects.filter(deleted_at__isnull=True)}
    assert {name: (t.kind, t.address) for name, t in targets.items()} == {
        "NewOrder": ("handler", "orders.workflow.start"),
        "WaitingCompletion": ("handler", "orders.store.waiting_completion"),
        "Publisher": ("handler", "orders.live.push"),
        "OrderMetrics": ("handler", "orders.metrics.record"),
        "OrderJourney": ("handler", "orders.journey.record"),
    }
    assert targets["Publisher"].max_retry_attempts == 2
    assert targets["NewOrder"].max_retry_attempts == 185
    assert Rule.objects.get(name="NewOrder").event_pattern == {
        "source": [SOURCE], "detail-type": ["Validator.NewOrder"]
    }
    archive = Archive.objects.get(name=ARCHIVE_NAME)
    assert archive.bus.name == BUS_NAME
    assert archive.event_pattern == {"source": [SOURCE]}
    assert ensure_shop_rules() == []
    assert Rule.objects.filter(bus__name=BUS_NAME).count() == len(SHOP_RULES)


def test_an_operators_edit_survives_a_second_run() -> None:
    ensure_shop_rules()
    rule_put(bus_name=BUS_NAME, name="OrderMetrics", event_pattern={"source": [SOURCE]},
             actor=Actor.system("operator"), state=RuleState.DISABLED)
    assert ensure_shop_rules() == []
    rule = Rule.objects.get(name="OrderMetrics", deleted_at__isnull=True)
    assert (rule.event_pattern, rule.state) == ({"source": [SOURCE]}, RuleState.DISABLED)


@pytest.mark.parametrize("spec", SHOP_RULES, ids=lambda spec: spec.name)
def test_each_rule_matches_what_it_is_for(spec: ShopRule) -> None:
    pattern = compile_pattern(spec.event_pattern)
    matched = {t.value for t in DetailType
               if pattern.matches(envelope(t.value, orderId="o-1"))}
    expected = {
        "NewOrder": {"Validator.NewOrder"},
        "WaitingCompletion": {"OrderProcessor.WaitingCompletion"},
        "Publisher": {t.value for t in DetailType},
        "OrderMetrics": {"Validator.NewOrder", "OrderProcessor.ShopUnavailable",
                         "OrderProcessor.WaitingCompletion", "OrderManager.WaitingCompletion",
                         "OrderManager.OrderCompleted", "OrderManager.OrderCancelled",
                         "OrderProcessor.OrderTimeOut"},
        "OrderJourney": {t.value for t in DetailType},
    }[spec.name]
    assert matched == expected
    assert not pattern.matches({**envelope("Validator.NewOrder", orderId="o"),
                                "source": "someone.else"})


def test_the_journey_rule_needs_an_order() -> None:
    journey = next(spec for spec in SHOP_RULES if spec.name == "OrderJourney")
    pattern = compile_pattern(journey.event_pattern)
    assert not pattern.matches(envelope("ConfigService.ConfigChanged"))
    assert pattern.matches(envelope("OrderProcessor.OrderTimeOut", orderId="o-1"))


def test_the_demo_seed_is_the_reference_shop_and_idempotent() -> None:
    created = demo.seed()
    assert "shop main" in created
    assert "drink Latte" in created
    assert "rule NewOrder" in created
    shop = Shop.objects.get(slug="main")
    assert (shop.name, shop.is_open) == ("Serverlesspresso", True)
    drinks = {d.name: d for d in Drink.objects.filter(shop=shop)}
    assert list(drinks) == ["Espresso", "Americano", "Latte", "Cappuccino", "Flat White",
                            "Coffee of the day"]
    assert drinks["Cappuccino"].available is False
    assert all(d.available for name, d in drinks.items() if name != "Cappuccino")
    assert drinks["Flat White"].icon == "flat-white"
    milk = drinks["Latte"].modifier_groups.get(name="Milk")
    assert (milk.multiple, milk.required) == (False, True)
    assert [o.name for o in milk.options.all()] == ["Regular", "Oat", "Almond"]
    extras = drinks["Latte"].modifier_groups.get(name="Extras")
    assert (extras.multiple, extras.required) == (True, False)
    size = drinks["Americano"].modifier_groups.get(name="Size")
    assert (size.multiple, size.required) == (False, True)
    version = shop.config_version
    assert version == 2  # the menu load was announced

    drinks["Latte"].modifier_groups.get(name="Milk").options.filter(name="Almond").delete()
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    assert demo.seed() == []
    shop.refresh_from_db()
    assert (shop.is_open, shop.config_version) == (False, version)
    assert not milk.options.filter(name="Almond").exists()
