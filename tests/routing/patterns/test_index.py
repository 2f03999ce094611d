"""RuleIndex: adding, replacing and removing rules, and what match returns."""

from __future__ import annotations

from typing import Any

import pytest

from routing.patterns import InvalidPatternError, RuleIndex, compile_pattern
from routing.patterns.bench import generate_events, generate_rules

SOURCE = "awsserverlessda.serverlesspresso"


def order_event(shop: str, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "source": SOURCE,
        "detail-type": "OrderManager.WaitingCompletion",
        "account": "123456789012",
        "time": "2026-03-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"shopId": shop, **detail},
    }


def test_add_match_remove() -> None:
    index = RuleIndex()
    index.add("shop-1", {"source": [SOURCE], "detail": {"shopId": ["shop-1"]}})
    index.add("big", {"detail": {"price": [{"numeric": [">=", 10]}]}})
    index.add("all", {"source": [{"prefix": ""}]})
    assert index.match(order_event("shop-1", price=3)) == {"shop-1", "all"}
    assert index.match(order_event("shop-2", price=12)) == {"big", "all"}
    index.remove("all")
    assert index.match(order_event("shop-2", price=1)) == set()
    assert len(index) == 2
    assert "big" in index
    assert "all" not in index
    assert sorted(index, key=str) == ["big", "shop-1"]
    with pytest.raises(KeyError):
        index.remove("all")
    index.discard("all")
    index.clear()
    assert index.match(order_event("shop-1")) == set()
    assert index.stats()["states"] == 1


def test_add_replaces_a_rule_with_the_same_id() -> None:
    index = RuleIndex()
    index.add("r", {"detail": {"shopId": ["shop-1"]}})
    index.add("r", {"detail": {"shopId": ["shop-2"]}})
    assert index.match(order_event("shop-1")) == set()
    assert index.match(order_event("shop-2")) == {"r"}
    assert len(index) == 1


def test_an_invalid_pattern_leaves_the_index_unchanged() -> None:
    index = RuleIndex()
    index.add("r", {"detail": {"shopId": ["shop-1"]}})
    with pytest.raises(InvalidPatternError):
        index.add("r", {"detail": {"shopId": "shop-2"}})
    assert index.match(order_event("shop-1")) == {"r"}
    assert index.get("r") == compile_pattern({"detail": {"shopId": ["shop-1"]}})
    assert index.get("missing") is None


def test_rule_ids_can_be_any_hashable() -> None:
    index = RuleIndex()
    index.add(("rule", 1), '{"source": ["a"]}')
    index.add(("archive", 1), {"source": ["a"], "replay-name": [{"exists": False}]})
    assert index.match({"source": "a"}) == {("rule", 1), ("archive", 1)}
    assert index.match({"source": "a", "replay-name": "r"}) == {("rule", 1)}
    assert dict(index.items())[("rule", 1)].matches({"source": "a"})


def test_or_branches_match_once() -> None:
    index = RuleIndex()
    index.add("r", {"$or": [{"a": ["x"]}, {"b": ["y"]}, {"c": [{"prefix": ""}]}]})
    assert index.match({"a": "x", "b": "y", "c": "z"}) == {"r"}


def test_multi_valued_fields_and_arrays() -> None:
    index = RuleIndex()
    index.add("r", {"detail-type": ["A", "B"], "detail": {"size": ["S", "M"]}})
    assert index.match({"detail-type": "B", "detail": {"size": "M"}}) == {"r"}
    assert index.match({"detail-type": ["C", "A", "A"], "detail": {"size": ["L", "S"]}}) == {"r"}
    assert index.match({"detail-type": "B", "detail": {"size": "L"}}) == set()


def test_arrays_of_objects_are_matched_element_by_element() -> None:
    index = RuleIndex()
    index.add("latte-small", {"items": {"drink": ["latte"], "size": ["S"]}})
    both = {"items": [{"drink": "latte", "size": "L"}, {"drink": "mocha", "size": "S"}]}
    assert index.match(both) == set()
    assert index.match({"items": [{"drink": "latte", "size": "S"}]}) == {"latte-small"}


def test_adding_and_removing_is_local() -> None:
    """One rule more or less creates or drops only its own states; the rest stays in place."""
    index = RuleIndex()
    for rule_id, pattern in generate_rules(2_000):
        index.add(rule_id, pattern)
    before = index.stats()
    root = index._root
    shop_table = root.transitions  # the automaton's first level, shared by the rules
    index.add(
        "new",
        {
            "source": [SOURCE],
            "detail-type": ["Validator.NewOrder"],
            "detail": {"shopId": ["shop-brand-new"]},
        },
    )
    after = index.stats()
    assert index._root is root
    assert index._root.transitions is shop_table
    assert after["states"] - before["states"] <= 3
    index.remove("new")
    assert index.stats() == before


def test_rules_land_on_selective_states() -> None:
    """A thousand rules naming the same source each get to their shop in a few dict lookups."""
    index = RuleIndex()
    for number in range(1_000):
        index.add(
            number,
            {
                "source": [SOURCE],
                "detail": {"shopId": [f"shop-{number}"], "price": [{"numeric": [">", 1]}]},
            },
        )
    assert index.stats()["longest_candidate_list"] == 1
    assert index.match(order_event("shop-7", price=2)) == {7}


def test_bucket_keys_for_rules_without_exact_fields() -> None:
    index = RuleIndex()
    for number in range(64):
        index.add(f"prefix-{number}", {"detail": {"drink": [{"prefix": f"drink-{number}-"}]}})
        index.add(f"case-{number}", {"detail": {"drink": [{"equals-ignore-case": f"D{number}"}]}})
        index.add(f"flag-{number}", {"detail": {f"flag{number}": [{"exists": True}]}})
    assert index.stats()["longest_candidate_list"] <= 2
    assert index.match({"detail": {"drink": "drink-5-large"}}) == {"prefix-5"}
    assert index.match({"detail": {"drink": "d7"}}) == {"case-7"}
    assert index.match({"detail": {"flag9": None}}) == {"flag-9"}


def test_numeric_ranges_are_found_by_bisection() -> None:
    index = RuleIndex()
    for number in range(1_000):
        index.add(("above", number), {"source": ["s"], "price": [{"numeric": [">", number]}]})
        index.add(("below", number), {"source": ["s"], "price": [{"numeric": ["<=", number]}]})
        index.add(
            ("band", number),
            {"source": ["s"], "price": [{"numeric": [">=", number, "<", number + 1]}]},
        )
        index.add(("equal", number), {"source": ["s"], "price": [{"numeric": ["=", number]}]})
    assert index.stats()["numeric"] == 3_000  # "=" is an exact value, looked up like one
    matched: set[Any] = index.match({"source": "s", "price": 10})
    assert {rule_id for rule_id in matched if rule_id[0] == "above"} == {
        ("above", number) for number in range(10)
    }
    assert len([rule_id for rule_id in matched if rule_id[0] == "below"]) == 990
    assert {rule_id for rule_id in matched if rule_id[0] in ("band", "equal")} == {
        ("band", 10),
        ("equal", 10),
    }
    for number in range(1_000):
        index.remove(("band", number))
    assert index.match({"source": "s", "price": 10.5}) & {("band", 10)} == set()


def test_match_wants_an_object() -> None:
    with pytest.raises(TypeError):
        RuleIndex().match("not an event")  # type: ignore[arg-type]


def test_generated_coffee_rules_agree_with_the_naive_loop() -> None:
    rules = generate_rules(500)
    index = RuleIndex()
    compiled = {rule_id: index.add(rule_id, pattern) for rule_id, pattern in rules}
    for event in generate_events(200):
        expected = {rule_id for rule_id, pattern in compiled.items() if pattern.matches(event)}
        assert index.match(event) == expected
