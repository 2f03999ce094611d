"""`compile_pattern` and `Pattern.matches`: one pattern against one event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .compiler import MAX_PATTERN_LENGTH, compile_branches, parse_pattern
from .conditions import FieldCondition
from .consistency import consistent_choice_exists
from .errors import InvalidEventError
from .values import FlatEvent, Trail, ValueKey, flatten_event

_REQUIRED_TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


class Branch:
    """One alternative of a pattern after `$or` expansion: all of its conditions must hold."""

    __slots__ = ("conditions",)

    def __init__(self, conditions: tuple[FieldCondition, ...]) -> None:
        # Cheap, selective checks first: equality, then other operators, then bare exists.
        self.conditions = tuple(sorted(conditions, key=_evaluation_order))

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(condition.path for condition in self.conditions)

    def matches(self, event: FlatEvent) -> bool:
        if event.trails is None:
            return conditions_hold(self.conditions, event.values)
        return conditions_hold_consistently(self.conditions, event)

    def __repr__(self) -> str:
        return f"Branch({list(self.conditions)!r})"


def _evaluation_order(condition: FieldCondition) -> tuple[int, str]:
    if condition.exact_only:
        rank = 0
    elif condition.any_value or condition.allows_absent:
        rank = 2
    else:
        rank = 1
    return rank, condition.path


def conditions_hold(
    conditions: tuple[FieldCondition, ...], values: dict[str, list[ValueKey]]
) -> bool:
    """All `conditions` hold on an event whose arrays hold no objects (no consistency to check)."""
    for condition in conditions:
        leaves = values.get(condition.path)
        if leaves is None:
            if not condition.allows_absent:
                return False
        elif not condition.satisfied_by(leaves):
            return False
    return True


def conditions_hold_consistently(conditions: tuple[FieldCondition, ...], event: FlatEvent) -> bool:
    """All `conditions` hold with leaves taken from the same element of every shared array.

    Each field is satisfied by some leaf; the chosen leaves must agree on the element index of any
    array they share. A field that also allows absence may instead have no leaf that agrees with
    the chosen ones (so `{"firstName": ["Anna"], "ids": [{"exists": false}]}` matches Anna's
    element of an employees array even though another element has ids).
    """
    values = event.values
    trails = event.trails
    assert trails is not None
    required: list[list[Trail]] = []
    optional: list[tuple[list[Trail], list[Trail]]] = []
    for condition in conditions:
        leaves = values.get(condition.path)
        if leaves is None:
            if condition.allows_absent:
                continue
            return False
        leaf_trails = trails[condition.path]
        accepts = condition.accepts
        satisfying = [trail for key, trail in zip(leaves, leaf_trails, strict=True) if accepts(key)]
        if condition.allows_absent:
            optional.append((satisfying, leaf_trails))
        elif not satisfying:
            return False
        else:
            required.append(satisfying)
    return consistent_choice_exists(required, optional)


class Pattern:
    """A compiled, validated event pattern.

    `matches(event)` tells whether EventBridge would deliver `event` (a JSON object as a dict) to a
    rule with this pattern. `source` is the pattern as a dict, `branches` its `$or` expansion.
    """

    __slots__ = ("branches", "source")

    def __init__(self, source: dict[str, Any], branches: tuple[Branch, ...]) -> None:
        self.source = source
        self.branches = branches

    def matches(self, event: Mapping[str, Any]) -> bool:
        if not isinstance(event, Mapping):
            raise TypeError(f"an event is a JSON object (dict), not {type(event).__name__}")
        return self.matches_flat(flatten_event(event))

    def matches_flat(self, event: FlatEvent) -> bool:
        """`matches` for an event already flattened with `flatten_event` (to share the work)."""
        return any(branch.matches(event) for branch in self.branches)

    @property
    def paths(self) -> frozenset[str]:
        """Every dotted event path the pattern looks at."""
        return frozenset().union(*(branch.paths for branch in self.branches))

    def to_json(self) -> str:
        return json.dumps(self.source, separators=(",", ":"), ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        text = self.to_json()
        return f"Pattern({text if len(text) <= 120 else text[:117] + '...'})"


def compile_pattern(
    pattern: str | bytes | Mapping[str, Any] | Pattern, *, max_length: int = MAX_PATTERN_LENGTH
) -> Pattern:
    """Validate and compile an event pattern given as JSON text or as a parsed dict.

    Raises `InvalidPatternError` (a ValueError) with EventBridge's wording when it is not valid.
    """
    if isinstance(pattern, Pattern):
        return pattern
    source = parse_pattern(pattern, max_length)
    branches = compile_branches(source)
    return Pattern(source, tuple(Branch(tuple(branch.values())) for branch in branches))


def validate_pattern(
    pattern: str | bytes | Mapping[str, Any], *, max_length: int = MAX_PATTERN_LENGTH
) -> None:
    """Raise `InvalidPatternError` if EventBridge would reject `pattern`; return None otherwise."""
    compile_pattern(pattern, max_length=max_length)


def matches(pattern: str | bytes | Mapping[str, Any] | Pattern, event: Mapping[str, Any]) -> bool:
    """One-shot `compile_pattern(pattern).matches(event)`."""
    return compile_pattern(pattern).matches(event)


def parse_test_event(event: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """Check an event the way TestEventPattern does and return it as a dict.

    TestEventPattern takes a full envelope: a JSON object with id, account, source, time, region
    and detail-type. Anything else raises `InvalidEventError` ("Parameter Event is not valid.").
    """
    if isinstance(event, str | bytes | bytearray):
        try:
            parsed = json.loads(event)
        except (ValueError, RecursionError) as error:
            raise InvalidEventError(f"not JSON: {error}") from None
    else:
        parsed = event
    if not isinstance(parsed, Mapping):
        raise InvalidEventError("the event is not a JSON object")
    missing = [name for name in _REQUIRED_TEST_EVENT_FIELDS if name not in parsed]
    if missing:
        raise InvalidEventError("missing " + ", ".join(missing))
    return dict(parsed)
