"""The same-element search agrees with the backtracking search it replaced, and stays fast on
events made to make that one exponential."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from routing.patterns import compile_pattern, flatten_event
from routing.patterns.conditions import FieldCondition
from routing.patterns.values import FlatEvent, Trail

# -- the oracle: the search the matcher used before (kept here verbatim) -------------------------


def _old_holds_consistently(conditions: tuple[FieldCondition, ...], event: FlatEvent) -> bool:
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
    required.sort(key=len)
    return _choose_required(required, 0, {}, optional)


def _merge(assignment: dict[int, int], trail: Trail) -> dict[int, int] | None:
    for array_id, index in trail:
        chosen = assignment.get(array_id)
        if chosen is not None and chosen != index:
            return None
    merged = dict(assignment)
    merged.update(trail)
    return merged


def _compatible(assignment: dict[int, int], trail: Trail) -> bool:
    for array_id, index in trail:
        chosen = assignment.get(array_id)
        if chosen is not None and chosen != index:
            return False
    return True


def _choose_required(
    required: list[list[Trail]],
    position: int,
    assignment: dict[int, int],
    optional: list[tuple[list[Trail], list[Trail]]],
) -> bool:
    if position == len(required):
        return _choose_optional(optional, 0, assignment, [])
    for trail in required[position]:
        merged = _merge(assignment, trail)
        if merged is not None and _choose_required(required, position + 1, merged, optional):
            return True
    return False


def _choose_optional(
    optional: list[tuple[list[Trail], list[Trail]]],
    position: int,
    assignment: dict[int, int],
    absent: list[list[Trail]],
) -> bool:
    if position == len(optional):
        return not any(
            _compatible(assignment, trail) for leaf_trails in absent for trail in leaf_trails
        )
    satisfying, leaf_trails = optional[position]
    for trail in satisfying:
        merged = _merge(assignment, trail)
        if merged is not None and _choose_optional(optional, position + 1, merged, absent):
            return True
    return _choose_optional(optional, position + 1, assignment, [*absent, leaf_trails])


# -- random events with arrays of objects, and patterns over their paths --------------------------

_KEYS = ("p", "q")
_scalars = st.sampled_from(["1", "2"])
_nodes = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from(_KEYS), children, min_size=1, max_size=2),
        st.lists(st.dictionaries(st.sampled_from(_KEYS), children, min_size=1, max_size=2),
                 min_size=1, max_size=4),
    ),
    max_leaves=24,
)
_elements = st.dictionaries(st.sampled_from(_KEYS), _scalars, min_size=1, max_size=2)
_shallow = st.dictionaries(  # arrays of flat objects, and arrays of those: where choices collide
    st.sampled_from(_KEYS),
    st.lists(st.one_of(_elements, st.dictionaries(st.sampled_from(_KEYS),
                                                   st.lists(_elements, min_size=1, max_size=4),
                                                   min_size=1, max_size=2)),
             min_size=1, max_size=5),
    min_size=1, max_size=2,
)
_events = st.one_of(
    _shallow, st.dictionaries(st.sampled_from(_KEYS), _nodes, min_size=1, max_size=2)
)
_paths = st.lists(st.sampled_from(_KEYS), min_size=2, max_size=3).map(tuple)
_matchers = st.sampled_from([["1"], ["1"], ["1"], ["2"], ["1", "2"], [{"exists": False}],
                             [{"exists": True}], [{"anything-but": "1"}], ["1", {"exists": False}]])


def _pattern_from(fields: dict[tuple[str, ...], list[Any]]) -> dict[str, Any]:
    pattern: dict[str, Any] = {}
    for path, matcher in fields.items():
        node = pattern
        for key in path[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if path[-1] not in node:
                node[path[-1]] = matcher
    return pattern


@settings(max_examples=3000, deadline=None)
@example(event={"p": [{"p": "1"}, {"p": "1", "q": "1"}, {"q": "1"}]},
         fields={("p", "p"): ["1"], ("p", "q"): ["1"]})
@example(event={"p": [{"p": "1", "q": "2"}, {"p": "1"}, {"q": "1", "p": "2"}]},
         fields={("p", "p"): ["1"], ("p", "q"): ["1", {"exists": False}]})
@example(event={"p": [{"q": [{"p": "1"}, {"q": "1"}]}, {"q": [{"p": "1", "q": "1"}]}]},
         fields={("p", "q", "p"): ["1"], ("p", "q", "q"): ["1"]})
@given(event=_events, fields=st.dictionaries(_paths, _matchers, min_size=2, max_size=6))
def test_the_search_agrees_with_the_old_backtracking(
    event: dict[str, Any], fields: dict[tuple[str, ...], list[Any]]
) -> None:
    pattern_source = _pattern_from(fields)
    if not pattern_source:
        return
    pattern = compile_pattern(pattern_source)
    flat = flatten_event(event)
    if flat.trails is None:
        return
    expected = any(_old_holds_consistently(b.conditions, flat) for b in pattern.branches)
    assert pattern.matches_flat(flat) == expected


def _late_conflicts(pairs: int, size: int) -> dict[str, Any]:
    # In one element of `arr`, each bN array holds `size` elements with x and twice as many with z,
    # never both: every pair fails, but only once both of its fields are placed.
    element = {f"b{n}": [{"x": "1"}] * size + [{"z": "1"}] * (2 * size) for n in range(pairs)}
    return {"arr": [element]}


# Not a speed assertion (make bench shows speed): a guard against the old search, which took about
# size^(pairs+1) steps (265 ms for 3 pairs at size 30, 3 KB) and would not finish here at all.
@pytest.mark.timeout(60)
def test_late_conflicts_across_sub_arrays_stay_fast() -> None:
    pattern = compile_pattern({"arr": {f"b{n}": {"x": ["1"], "z": ["1"]} for n in range(4)}})
    event = _late_conflicts(4, 1000)
    assert not pattern.matches(event)


@pytest.mark.timeout(60)
def test_two_fields_of_one_large_array_stay_fast() -> None:
    # Half the elements hold x, half y, none both: the old search tried every pair (quadratic,
    # 10^8 pairs here); the timeout guards against that, make bench shows the speed.
    pattern = compile_pattern({"arr": {"x": ["1"], "y": ["1"]}})
    event = {"arr": [{"x": "1"}] * 10_000 + [{"y": "1"}] * 10_000}
    assert not pattern.matches(event)
    event["arr"].append({"x": "1", "y": "1"})
    assert pattern.matches(event)
