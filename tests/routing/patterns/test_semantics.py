"""The matching rules, one by one, on small hand-written patterns and events."""

from __future__ import annotations

from typing import Any

import pytest

from routing.patterns import (
    FlatEvent,
    InvalidEventError,
    Pattern,
    compile_pattern,
    flatten_event,
    matches,
    parse_test_event,
)

from .corpus import load_cases


def check(pattern: Any, event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected


@pytest.mark.parametrize(
    ("values", "event_value", "expected"),
    [
        (["5"], 5, False),  # a string is not a number
        ([5], "5", False),
        ([5], 5.0, True),  # numbers compare by value
        ([300], 3.0e2, True),
        ([0.1], 0.1, True),
        ([-0.0], 0, True),
        ([True], 1, False),  # true is not the number 1
        ([1], True, False),
        ([False], 0, False),
        ([None], None, True),
        ([None], "null", False),
        ([""], "", True),
        ([""], None, False),
        (["Caf\u00e9"], "Caf\u00e9", True),
        (["cafe"], "Cafe", False),  # exact matching does not fold case
        ([2**63], 9223372036854775808, True),
    ],
)
def test_exact_values_respect_json_types(
    values: list[Any], event_value: Any, expected: bool
) -> None:
    check({"a": values}, {"a": event_value}, expected)


def test_null_does_not_match_a_missing_field() -> None:
    check({"a": [None]}, {}, False)
    check({"a": [None]}, {"a": []}, False)


def test_array_fields_match_any_element() -> None:
    check({"resources": ["r2"]}, {"resources": ["r1", "r2"]}, True)
    check({"resources": ["r3"]}, {"resources": ["r1", "r2"]}, False)
    check({"a": [1]}, {"a": [[0, [1]]]}, True)  # nested arrays flatten to the same path


def test_nested_objects_and_dotted_keys_are_one_path() -> None:
    check({"detail": {"state": {"status": ["on"]}}}, {"detail": {"state.status": "on"}}, True)
    check({"detail.state": ["on"]}, {"detail": {"state": "on"}}, True)
    check({"detail": {"state": ["on"]}}, {"detail": {"state": {"status": "on"}}}, False)


def test_objects_in_arrays_must_match_within_one_element() -> None:
    event = {"orders": [{"drink": "latte", "size": "S"}, {"drink": "mocha", "size": "L"}]}
    check({"orders": {"drink": ["latte"], "size": ["S"]}}, event, True)
    check({"orders": {"drink": ["latte"], "size": ["L"]}}, event, False)
    check({"orders": {"drink": ["latte"], "extra": [{"exists": False}]}}, event, True)
    both = {"orders": [{"drink": "latte", "extra": "shot"}, {"drink": "mocha"}]}
    check({"orders": {"drink": ["latte"], "extra": [{"exists": False}]}}, both, False)
    check({"orders": {"drink": ["mocha"], "extra": [{"exists": False}]}}, both, True)


def test_prefix_suffix_and_ignore_case() -> None:
    check({"a": [{"prefix": "Cap"}]}, {"a": "Cappuccino"}, True)
    check({"a": [{"prefix": "cap"}]}, {"a": "Cappuccino"}, False)
    check({"a": [{"prefix": {"equals-ignore-case": "cAP"}}]}, {"a": "Cappuccino"}, True)
    check({"a": [{"suffix": ".png"}]}, {"a": "x.PNG"}, False)
    check({"a": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"a": "x.PNG"}, True)
    check({"a": [{"equals-ignore-case": "LATTE"}]}, {"a": "latte"}, True)
    check({"a": [{"prefix": ""}]}, {"a": "anything"}, True)
    check({"a": [{"prefix": ""}]}, {"a": 5}, False)  # string operators never match numbers
    check({"a": [{"equals-ignore-case": "5"}]}, {"a": 5}, False)


def test_anything_but() -> None:
    check({"a": [{"anything-but": "x"}]}, {"a": "y"}, True)
    check({"a": [{"anything-but": "x"}]}, {"a": "x"}, False)
    check({"a": [{"anything-but": "x"}]}, {"a": None}, True)
    check({"a": [{"anything-but": "x"}]}, {}, False)  # needs the field
    check({"a": [{"anything-but": [1, 2]}]}, {"a": 2.0}, False)
    check({"a": [{"anything-but": [1, 2]}]}, {"a": "2"}, True)
    check({"a": [{"anything-but": "x"}]}, {"a": ["x", "y"]}, True)  # some element differs
    check({"a": [{"anything-but": {"prefix": "init"}}]}, {"a": "initial"}, False)
    check({"a": [{"anything-but": {"prefix": "init"}}]}, {"a": 12}, True)
    check({"a": [{"anything-but": {"suffix": [".txt", ".md"]}}]}, {"a": "b.md"}, False)
    check({"a": [{"anything-but": {"equals-ignore-case": ["x"]}}]}, {"a": "X"}, False)
    check({"a": [{"anything-but": {"wildcard": "*/tmp/*"}}]}, {"a": "/var/tmp/x"}, False)
    check({"a": [{"anything-but": {"wildcard": "*/tmp/*"}}]}, {"a": "/var/x"}, True)


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        (["=", 5], 5.0, True),
        (["=", 5], "5", False),
        ([">", 0, "<=", 5], 5, True),
        ([">", 0, "<=", 5], 0, False),
        ([">=", 0, "<", 5], 0, True),
        (["<", -1.5], -2, True),
        ([">", 1e9], 1e10, True),
        ([">", 100], True, False),
        ([">", 100], None, False),
    ],
)
def test_numeric(expression: list[Any], value: Any, expected: bool) -> None:
    check({"a": [{"numeric": expression}]}, {"a": value}, expected)


def test_exists() -> None:
    check({"a": [{"exists": True}]}, {"a": None}, True)
    check({"a": [{"exists": True}]}, {"a": ""}, True)
    check({"a": [{"exists": True}]}, {"a": []}, False)
    check({"a": [{"exists": True}]}, {"a": {"b": 1}}, False)  # only leaves exist
    check({"a": [{"exists": False}]}, {"a": {"b": 1}}, True)
    check({"a": [{"exists": False}]}, {}, True)
    check({"a": [{"exists": False}]}, {"a": 0}, False)
    check({"a": [{"exists": False}, "x"]}, {"a": "x"}, True)


@pytest.mark.parametrize(
    ("block", "address", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.255", True),
        ("10.0.0.0/24", "10.0.1.0", False),
        ("10.0.0.0/24", "10.0.0.256", False),
        ("220.160.153.171/31", "220.160.153.170", True),  # host bits ignored
        ("2001:db8::/32", "2001:0db8:ffff::1", True),
        ("2001:db8::/32", "10.0.0.1", False),
        ("0.0.0.0/0", "8.8.8.8", True),
    ],
)
def test_cidr(block: str, address: str, expected: bool) -> None:
    check({"ip": [{"cidr": block}]}, {"ip": address}, expected)


@pytest.mark.parametrize(
    ("wildcard", "value", "expected"),
    [
        ("*.png", "a.png", True),
        ("*.png", "a.png.bak", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "acb", False),
        ("a\\*b", "a*b", True),
        ("a\\*b", "aXb", False),
        ("a\\\\b", "a\\b", True),
        ("", "", True),
        ("", "x", False),
        ("*", "line\nbreak", True),
    ],
)
def test_wildcard(wildcard: str, value: str, expected: bool) -> None:
    check({"a": [{"wildcard": wildcard}]}, {"a": value}, expected)


def test_or_forks_the_pattern_and_later_keys_override() -> None:
    pattern = {"name": ["a", "b"], "$or": [{"name": [{"anything-but": "a"}]}, {"cond": ["x"]}]}
    check(pattern, {"name": "c"}, True)  # the first alternative replaced `name`
    check(pattern, {"name": "a", "cond": "x"}, True)
    check(pattern, {"name": "a"}, False)
    nested = {"detail": {"$or": [{"a": [1]}, {"$or": [{"b": [2]}, {"c": [3]}]}]}}
    assert len(compile_pattern(nested).branches) == 3
    check(nested, {"detail": {"c": 3}}, True)
    check(nested, {"detail": {"d": 3}}, False)


def test_or_with_plain_values_is_a_field_name() -> None:
    check({"$or": ["x"]}, {"$or": "x"}, True)


def test_duplicate_keys_in_text_keep_the_last() -> None:
    text = (
        '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
    )
    check(text, {"detail": {"location": "eu-central-1"}}, True)


def test_pattern_accepts_text_bytes_dict_and_pattern() -> None:
    as_dict = compile_pattern({"a": ["x"]})
    assert compile_pattern('{"a": ["x"]}') == as_dict
    assert compile_pattern(b'{"a": ["x"]}') == as_dict
    assert compile_pattern(as_dict) is as_dict
    assert isinstance(as_dict, Pattern)
    assert as_dict.paths == frozenset({"a"})
    assert matches('{"a": ["x"]}', {"a": "x"})
    assert "Pattern(" in repr(as_dict)


def test_matches_wants_an_object() -> None:
    with pytest.raises(TypeError):
        compile_pattern({"a": ["x"]}).matches(["x"])  # type: ignore[arg-type]


def test_flattened_events_are_reusable() -> None:
    event = {"a": "x", "b": [{"c": 1}, {"c": 2}]}
    flat = flatten_event(event)
    assert isinstance(flat, FlatEvent)
    assert flat.values["b.c"] == [1.0, 2.0]
    assert flat.trails is not None
    assert compile_pattern({"b": {"c": [2]}}).matches_flat(flat)


def test_deeply_nested_events_are_matched() -> None:
    event: dict[str, Any] = {"leaf": "x"}
    for _ in range(3000):
        event = {"n": event}
    assert compile_pattern({"n": {"n": [{"exists": False}]}}).matches(event)
    dotted_path = "n." * 3000 + "leaf"
    assert compile_pattern({dotted_path: ["x"]}, max_length=10**5).matches(event)


def test_parse_test_event_accepts_a_full_envelope() -> None:
    envelope = {
        "id": "1",
        "account": "1",
        "source": "s",
        "time": "t",
        "region": "r",
        "detail-type": "d",
        "detail": {},
    }
    assert parse_test_event(envelope) == envelope


API_VALIDATION_CASES = load_cases("cases_api_validation.jsonl")


@pytest.mark.parametrize(
    "case", API_VALIDATION_CASES, ids=[case["id"] for case in API_VALIDATION_CASES]
)
def test_parse_test_event_rejects_what_aws_rejects(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_test_event(case["event"])
    assert str(caught.value) == case["aws_error"]
