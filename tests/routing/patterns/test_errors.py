"""Invalid patterns: EventBridge's messages, the location of the bad field, and the limits."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from routing.patterns import (
    MAX_OR_COMBINATIONS,
    MAX_PATTERN_LENGTH,
    InvalidPatternError,
    compile_pattern,
    validate_pattern,
)

from .corpus import load_cases

CASES = load_cases()
AWS_MESSAGE_CASES = [case for case in CASES if case.get("aws_error")]
RULER_MESSAGE_CASES = [
    case for case in CASES if case.get("ruler_error") and not case.get("aws_error")
]

# event-ruler validates while it streams through the text, so in these malformed texts it reports
# the operator's type error it meets before the JSON syntax error further on. This engine parses
# the whole text first and reports Jackson's syntax error (still an invalid pattern either way).
STREAMING_ORDER = (
    "event-ruler reports the semantic error met before the JSON syntax error; we report the "
    "syntax error"
)
RULER_MESSAGE_DIFFERENCES = {
    "event-ruler/JsonRuleCompilerTest.testCompile/4": STREAMING_ORDER,
    "event-ruler/JsonRuleCompilerTest.testCompile/7": STREAMING_ORDER,
    "event-ruler/JsonRuleCompilerTest.testCompile/13": STREAMING_ORDER,
    "event-ruler/JsonRuleCompilerTest.testCompile/54": STREAMING_ORDER,
    "event-ruler/JsonRuleCompilerTest.testCompile/60": STREAMING_ORDER,
    "event-ruler/RuleCompilerTest.testCompile/0": STREAMING_ORDER,
}


def reason_of(pattern: Any) -> InvalidPatternError:
    with pytest.raises(InvalidPatternError) as caught:
        compile_pattern(pattern)
    return caught.value


@pytest.mark.parametrize("case", AWS_MESSAGE_CASES, ids=[c["id"] for c in AWS_MESSAGE_CASES])
def test_message_is_the_one_aws_gave(case: dict[str, Any]) -> None:
    assert str(reason_of(case["pattern"])) == case["aws_error"]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case["id"],
            marks=[pytest.mark.xfail(reason=RULER_MESSAGE_DIFFERENCES[case["id"]], strict=True)]
            if case["id"] in RULER_MESSAGE_DIFFERENCES
            else [],
        )
        for case in RULER_MESSAGE_CASES
    ],
)
def test_reason_is_event_rulers(case: dict[str, Any]) -> None:
    assert reason_of(case["pattern"]).reason == case["ruler_error"]


def test_error_is_a_value_error_with_the_aws_prefix() -> None:
    error = reason_of({"detail": {"price": [{"numeric": 10}]}})
    assert isinstance(error, ValueError)
    assert str(error) == "Event pattern is not valid. Reason: Value of numeric must be an array."
    assert error.message == str(error)
    assert error.reason == "Value of numeric must be an array."
    assert error.path == "detail.price"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (str(copy), copy.reason, copy.path) == (str(error), error.reason, error.path)


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({"detail": {"price": [{"numeric": [">", "five"]}]}}, "detail.price"),
        ({"source": "coffee"}, "source"),
        ({"detail": {"shop": {}}}, "detail.shop"),
        ({"detail": {"state": []}}, "detail.state"),
        ({"$or": [{"a": ["x"]}, {"b": [{"prefix": 1}]}]}, "$or[1].b"),
        ({"detail": {"$or": [{"a": ["x"]}, "b"]}}, "detail.$or[1]"),
        ({"a": [{"wildcard": "a**"}]}, "a"),
        ({"detail.state": [{"cidr": "10.0.0.0"}]}, "detail.state"),
        ('{"a": [1,]}', None),
        ([1, 2], None),
    ],
)
def test_error_points_at_the_offending_field(pattern: Any, path: str | None) -> None:
    assert reason_of(pattern).path == path


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "No content to map due to end-of-input"),
        (
            "{'a': ['b']}",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
        ),
        (
            '{"a": [tru]}',
            "Unrecognized token 'tru': was expecting (JSON String, Number, Array, "
            "Object or token 'null', 'true' or 'false')",
        ),
        (
            '{"a" ["b"]}',
            "Unexpected character ('[' (code 91)): was expecting a colon to separate "
            "field name and value",
        ),
        (
            '{"a": ["b" "c"]}',
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Array entries",
        ),
        (
            '{"a": ["b"] "c": ["d"]}',
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        ),
        (
            '{"a": ["b"}',
            "Unexpected close marker '}': expected ']' (for Array starting at "
            '[Source: (String)"{"a": ["b"}"; line: 1, column: 7])',
        ),
        (
            '{"a": ["b"]',
            "Unexpected end-of-input: expected close marker for Object (start marker "
            'at [Source: (String)"{"a": ["b"]"; line: 1, column: 1])',
        ),
        ('{"a": ["b]}', "Unexpected end-of-input: was expecting closing quote for a string value"),
        (
            '{"a": [NaN]}',
            "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
        ),
        ('{"a": [01]}', "Invalid numeric value: Leading zeroes not allowed"),
        ('"just a string"', "Filter is not an object"),
        ("null", "Filter is not an object"),
    ],
)
def test_malformed_json_gets_jacksons_words(text: str, reason: str) -> None:
    error = reason_of(text)
    assert error.reason == reason
    assert error.path is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ({}, "Empty objects are not allowed"),
        ({"a": [[1]]}, "Match value must be String, number, true, false, or null"),
        ({"a": [{}]}, "Empty objects are not allowed"),
        ({"a": [{"numeric": []}]}, "Empty arrays are not allowed"),
        ({"a": [{"numeric": ["=", 5, "<", 6]}]}, "Too many elements in numeric expression"),
        ({"a": [{"numeric": [">=", 5, "<=", 5]}]}, "Bottom must be less than top"),
        ({"a": [{"numeric": [">", float("inf")]}]}, "Cannot compare number : inf"),
        ({"a": [{"anything-but": []}]}, "Empty arrays are not allowed"),
        (
            {"a": [{"anything-but": True}]},
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            {"a": [{"anything-but": {"numeric": [">", 1]}}]},
            "Unsupported anything-but pattern: numeric",
        ),
        ({"a": [{"anything-but": {"prefix": ["x", ""]}}]}, "Null prefix/suffix not allowed"),
        ({"a": [{"cidr": "10.0.0.0/33"}]}, "Malformed CIDR, mask bits must be between 0 and 32"),
        ({"a": [{"cidr": "10.0.0.0/x"}]}, "Malformed CIDR, mask bits must be an integer"),
        ({"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 1"),
        ({"a": [{"exists": "true"}]}, "exists match pattern must be either true or false."),
        ({"a": [{"exists": 1}]}, "exists match pattern must be either true or false."),
        ({"$or": [{"a": ["x"]}]}, "There must have at least 2 Objects in $or relationship."),
        ({"a": [{"exactly": 1}]}, "exact match pattern must be a string"),
    ],
)
def test_other_reasons(pattern: Any, reason: str) -> None:
    assert reason_of(pattern).reason == reason


def test_or_combination_limit() -> None:
    def alternatives(key: str, count: int) -> list[dict[str, Any]]:
        return [{key: [str(value)]} for value in range(count)]

    at_limit = {
        "$or": alternatives("a", 10),
        "b": {"$or": alternatives("b", 10)},
        "c": {"$or": alternatives("c", 10)},
    }
    assert len(compile_pattern(at_limit).branches) == MAX_OR_COMBINATIONS

    over = {**at_limit, "d": {"$or": alternatives("d", 2)}}
    error = reason_of(over)
    assert "$or" in error.reason
    assert str(MAX_OR_COMBINATIONS) in error.reason

    nested = {
        "$or": [{"$or": alternatives("a", 40), "x": {"$or": alternatives("x", 30)}}, {"b": ["1"]}]
    }
    assert "$or" in reason_of(nested).reason


def test_size_limit() -> None:
    fits = json.dumps({"a": ["x" * (MAX_PATTERN_LENGTH - 20)]})
    assert len(fits) <= MAX_PATTERN_LENGTH
    validate_pattern(fits)
    too_long = json.dumps({"a": ["x" * MAX_PATTERN_LENGTH]})
    error = reason_of(too_long)
    assert str(MAX_PATTERN_LENGTH) in error.reason
    assert str(MAX_PATTERN_LENGTH) in reason_of({"a": ["x" * MAX_PATTERN_LENGTH]}).reason
    with pytest.raises(InvalidPatternError):
        validate_pattern(json.dumps({"a": ["x" * 2100]}), max_length=2048)


@pytest.mark.parametrize(
    ("wildcard", "too_complex"),
    [
        ("*:*:*:*:*:event-bus/*", True),  # rejected by AWS (recorded)
        ("arn:aws:events:us-east-1:*:event-bus/*", False),  # accepted by AWS (recorded)
        ("/Users/*/dir/dir/dir/dir/dir/doc.txt", False),  # accepted by AWS (recorded)
        ("*a*b*c*d*e*f*g*h*i*j*", True),
        ("*" + "ab" * 12 + "*", True),
        ("shop-*-order-*", False),
        ("x" * 2000 + "*", False),
    ],
)
def test_wildcard_complexity_limit(wildcard: str, too_complex: bool) -> None:
    pattern = {"a": [{"wildcard": wildcard}]}
    if too_complex:
        assert reason_of(pattern).reason.startswith("Rule is too complex")
    else:
        validate_pattern(pattern)


def test_validate_pattern_accepts_valid_patterns_quietly() -> None:
    validate_pattern('{"source": ["coffee"]}')
    validate_pattern({"source": ["coffee"]})
