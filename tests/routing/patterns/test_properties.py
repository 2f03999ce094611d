"""Property-based tests: the index returns exactly what the naive loop returns, and the compiled
matcher agrees with a small, independent, direct reading of the pattern language."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.patterns import RuleIndex, compile_pattern

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small vocabularies, so that patterns and events collide often.
KEYS = st.sampled_from(["a", "b", "c", "a.b"])
PLAIN_KEYS = st.sampled_from(["a", "b", "c"])
STRINGS = st.sampled_from(["", "x", "X", "xy", "yx", "x*y", "5", "Abc", "10.0.0.7", "2001:db8::1"])
NONEMPTY_STRINGS = st.sampled_from(["x", "X", "xy", "yx", "5", "Ab", "10."])
NUMBERS = st.sampled_from([0, 1, 1.0, -2, 2.5, 5, 1000.0])
SCALARS = st.one_of(STRINGS, NUMBERS, st.booleans(), st.none())
WILDCARDS = st.sampled_from(["x*", "*y", "*", "x*y", "*x*", "a\\*b", ""])
CIDRS = st.sampled_from(["10.0.0.0/24", "2001:db8::/32", "0.0.0.0/0"])
OPERATORS = st.sampled_from(["<", "<=", ">", ">=", "="])


def numeric_ranges() -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.tuples(NUMBERS, NUMBERS, st.booleans(), st.booleans())
        .filter(lambda bounds: bounds[0] < bounds[1])
        .map(
            lambda bounds: {
                "numeric": [
                    ">=" if bounds[2] else ">",
                    bounds[0],
                    "<=" if bounds[3] else "<",
                    bounds[1],
                ]
            }
        )
    )


MATCHERS = st.one_of(
    SCALARS,
    STRINGS.map(lambda s: {"prefix": s}),
    STRINGS.map(lambda s: {"suffix": s}),
    STRINGS.map(lambda s: {"equals-ignore-case": s}),
    STRINGS.map(lambda s: {"prefix": {"equals-ignore-case": s}}),
    STRINGS.map(lambda s: {"suffix": {"equals-ignore-case": s}}),
    WILDCARDS.map(lambda w: {"wildcard": w}),
    st.one_of(STRINGS, NUMBERS).map(lambda v: {"anything-but": v}),
    st.lists(STRINGS, min_size=1, max_size=3).map(lambda v: {"anything-but": v}),
    st.lists(NUMBERS, min_size=1, max_size=3).map(lambda v: {"anything-but": v}),
    NONEMPTY_STRINGS.map(lambda s: {"anything-but": {"prefix": s}}),
    st.lists(NONEMPTY_STRINGS, min_size=1, max_size=2).map(
        lambda v: {"anything-but": {"suffix": v}}
    ),
    STRINGS.map(lambda s: {"anything-but": {"equals-ignore-case": s}}),
    WILDCARDS.map(lambda w: {"anything-but": {"wildcard": w}}),
    st.tuples(OPERATORS, NUMBERS).map(lambda t: {"numeric": list(t)}),
    numeric_ranges(),
    st.booleans().map(lambda b: {"exists": b}),
    CIDRS.map(lambda c: {"cidr": c}),
)
FIELD_VALUES = st.lists(MATCHERS, min_size=1, max_size=3)


def objects(keys: st.SearchStrategy[str], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    value = FIELD_VALUES if depth == 0 else st.one_of(FIELD_VALUES, objects(keys, depth - 1))
    return st.dictionaries(keys, value, min_size=1, max_size=2)


PATTERNS = st.one_of(
    objects(KEYS, 1),
    st.builds(
        lambda base, first, second: {**base, "$or": [first, second]},
        st.dictionaries(KEYS, FIELD_VALUES, max_size=2),
        objects(KEYS, 1),
        objects(KEYS, 1),
    ),
    st.builds(
        lambda key, first, second: {key: {"$or": [first, second]}},
        KEYS,
        objects(KEYS, 0),
        objects(KEYS, 0),
    ),
)


def _maybe_each(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects holding each of `keys` or not (so most keys a pattern names are there)."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(keys, values))


EVENT_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), _maybe_each(["a", "b", "c", "a.b"], children)
    ),
    max_leaves=8,
)
EVENTS = _maybe_each(["a", "b", "c", "a.b"], EVENT_VALUES)


def _value_meeting(matcher: Any, draw: st.DrawFn) -> Any:
    """A value that (usually) satisfies `matcher`, so generated events often match."""
    if not isinstance(matcher, dict):
        return matcher
    ((operator, operand),) = matcher.items()
    if operator == "prefix":
        return (
            operand["equals-ignore-case"].upper() if isinstance(operand, dict) else operand
        ) + "z"
    if operator == "suffix":
        return "z" + (
            operand["equals-ignore-case"].upper() if isinstance(operand, dict) else operand
        )
    if operator == "equals-ignore-case":
        return operand.swapcase()
    if operator == "wildcard":
        # Every wildcard becomes "q"; an escaped star stays a literal star.
        return operand.replace("\\*", "\0").replace("*", "q").replace("\0", "*")
    if operator == "numeric":
        low = operand[1] if operand[0] in (">", ">=", "=") else operand[1] - 1
        return low if operand[0] in (">=", "=") else low + 0.5
    if operator == "cidr":
        return "2001:db8::1" if ":" in operand else "10.0.0.7"
    if operator == "exists":
        return "present"
    return draw(st.sampled_from(["other", 42, None]))


@st.composite
def events_meeting(draw: st.DrawFn, pattern: dict[str, Any]) -> dict[str, Any]:
    """An event built to satisfy one branch of `pattern` (one alternative of each `$or`)."""
    event: dict[str, Any] = {}
    for key, value in pattern.items():
        if key == "$or":
            event.update(draw(events_meeting(draw(st.sampled_from(value)))))
        elif isinstance(value, dict):
            event[key] = draw(events_meeting(value))
        else:
            matcher = draw(st.sampled_from(value))
            if not (isinstance(matcher, dict) and matcher.get("exists") is False):
                event[key] = _value_meeting(matcher, draw)
    return event


@st.composite
def rules_and_events(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rules = draw(st.lists(PATTERNS, min_size=1, max_size=25))
    random_events = draw(st.lists(EVENTS, max_size=4))
    fitted = [draw(events_meeting(draw(st.sampled_from(rules)))) for _ in range(4)]
    return rules, random_events + fitted


@SETTINGS
@given(rules_and_events())
def test_index_matches_the_naive_loop(
    rules_events: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    rules, events = rules_events
    index = RuleIndex()
    for rule_id, pattern in enumerate(rules):
        index.add(rule_id, pattern)
    for event in events:
        expected = {
            rule_id
            for rule_id, pattern in enumerate(rules)
            if compile_pattern(pattern).matches(event)
        }
        assert index.match(event) == expected


@SETTINGS
@given(rules_events=rules_and_events(), data=st.data())
def test_index_stays_right_through_adds_and_removes(
    rules_events: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    rules, events = rules_events
    index = RuleIndex()
    live: dict[int, dict[str, Any]] = {}
    for rule_id, pattern in enumerate(rules):
        index.add(rule_id, pattern)
        live[rule_id] = pattern
    removed = data.draw(st.sets(st.sampled_from(sorted(live))), label="removed")
    for rule_id in removed:
        index.remove(rule_id)
        del live[rule_id]
    replaced = data.draw(
        st.dictionaries(st.sampled_from(range(len(rules) + 3)), PATTERNS, max_size=5),
        label="replaced",
    )
    for rule_id, pattern in replaced.items():
        index.add(rule_id, pattern)
        live[rule_id] = pattern
    for event in events:
        expected = {
            rule_id for rule_id, pattern in live.items() if compile_pattern(pattern).matches(event)
        }
        assert index.match(event) == expected
    for rule_id in list(live):
        index.remove(rule_id)
    assert index.stats()["states"] == 1


# -- an independent reading of the language, for events whose arrays hold no objects ------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any, value: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return value is expected
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    return _is_number(value) and float(value) == float(expected)


def _wildcard_regex(text: str) -> re.Pattern[str]:
    parts, index = [], 0
    while index < len(text):
        if text[index] == "\\":
            parts.append(re.escape(text[index + 1]))
            index += 2
        else:
            parts.append(".*" if text[index] == "*" else re.escape(text[index]))
            index += 1
    return re.compile("".join(parts), re.DOTALL)


def _in_cidr(block: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False


def _numeric(terms: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    checks = {
        "<": float.__lt__,
        "<=": float.__le__,
        ">": float.__gt__,
        ">=": float.__ge__,
        "=": float.__eq__,
    }
    return all(checks[terms[i]](float(value), float(terms[i + 1])) for i in range(0, len(terms), 2))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _leaf_matches(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _equal(matcher, value)
    ((operator, operand),) = matcher.items()
    text = value if isinstance(value, str) else None
    if operator in ("prefix", "suffix"):
        if text is None:
            return False
        if isinstance(operand, dict):
            affix, text = operand["equals-ignore-case"].lower(), text.lower()
        else:
            affix = operand
        return text.startswith(affix) if operator == "prefix" else text.endswith(affix)
    if operator == "equals-ignore-case":
        return text is not None and text.lower() == operand.lower()
    if operator == "wildcard":
        return text is not None and _wildcard_regex(operand).fullmatch(text) is not None
    if operator == "numeric":
        return _numeric(operand, value)
    if operator == "cidr":
        return _in_cidr(operand, value)
    assert operator == "anything-but"
    if not isinstance(operand, dict):
        return not any(_equal(excluded, value) for excluded in _as_list(operand))
    ((inner, inner_operand),) = operand.items()
    if text is None:
        return True
    excluded = _as_list(inner_operand)
    if inner == "prefix":
        return not any(text.startswith(e) for e in excluded)
    if inner == "suffix":
        return not any(text.endswith(e) for e in excluded)
    if inner == "equals-ignore-case":
        return not any(text.lower() == e.lower() for e in excluded)
    return not any(_wildcard_regex(e).fullmatch(text) for e in excluded)


def _leaves(event: Any, path: list[str]) -> list[Any] | None:
    """The scalar leaves at `path`, or None when there are none."""
    current = [event]
    for key in path:
        following = []
        for node in current:
            if isinstance(node, dict) and key in node:
                child = node[key]
                following.extend(child if isinstance(child, list) else [child])
        current = following
    found: list[Any] = []
    pending = list(current)
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif not isinstance(node, dict):
            found.append(node)
    return found or None


def reference_matches(pattern: dict[str, Any], event: dict[str, Any], path: list[str]) -> bool:
    for key, value in pattern.items():
        if isinstance(value, dict):
            if not reference_matches(value, event, [*path, key]):
                return False
            continue
        leaves = _leaves(event, [*path, key])
        satisfied = False
        for matcher in value:
            if isinstance(matcher, dict) and "exists" in matcher:
                satisfied = (leaves is not None) == matcher["exists"]
            else:
                satisfied = leaves is not None and any(_leaf_matches(matcher, v) for v in leaves)
            if satisfied:
                break
        if not satisfied:
            return False
    return True


FLAT_EVENT_VALUES = st.recursive(
    st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
    lambda children: _maybe_each(["a", "b", "c"], children),
    max_leaves=8,
)
FLAT_EVENTS = _maybe_each(["a", "b", "c"], FLAT_EVENT_VALUES)


@st.composite
def patterns_and_flat_events(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    pattern = draw(objects(PLAIN_KEYS, 1))
    event = draw(st.one_of(FLAT_EVENTS, events_meeting(pattern)))
    return pattern, event


@SETTINGS
@given(patterns_and_flat_events())
def test_matcher_agrees_with_a_direct_reading(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    pattern, event = case
    assert compile_pattern(pattern).matches(event) == reference_matches(pattern, event, [])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    distinct_rules=st.lists(objects(KEYS, 0), min_size=8, max_size=20),
    events=st.lists(EVENTS, min_size=5, max_size=10),
)
def test_index_matches_the_naive_loop_with_crowded_buckets(
    distinct_rules: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    """Each pattern six times over: buckets fill up and branches move between keys."""
    rules = distinct_rules * 6
    index = RuleIndex()
    for rule_id, pattern in enumerate(rules):
        index.add(rule_id, pattern)
    for rule_id in range(0, len(rules), 3):
        index.remove(rule_id)
    live = {rule_id: compile_pattern(p) for rule_id, p in enumerate(rules) if rule_id % 3}
    for event in events:
        assert index.match(event) == {
            rule_id for rule_id, pattern in live.items() if pattern.matches(event)
        }
