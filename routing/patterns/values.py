"""Typed value keys and the flattening of an event into `path -> leaf values`.

Every JSON scalar is turned into a *value key* whose equality is EventBridge's equality:

- a string is itself;
- a number is a float, so `5`, `5.0` and `5e0` are one key (as in EventBridge, which compares
  numbers by value);
- `true` and `false` are the sentinels `TRUE` and `FALSE` (in Python `True == 1`, in EventBridge
  `true` is not the number 1);
- `null` is None.

Strings never equal numbers, so the string "5" and the number 5 stay apart without tagging.

An event is flattened once into leaves keyed by the dotted path of object keys (arrays add nothing
to the path, so every element of an array is a leaf of the same path), which is how EventBridge
sees an event: `{"detail": {"state.status": "x"}}` and `{"detail": {"state": {"status": "x"}}}` both
give the path `detail.state.status`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, TypeAlias


class JsonLiteral:
    """The JSON literals `true` and `false` as values that never equal a number."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return "TRUE" if self.name == "true" else "FALSE"


TRUE: Final = JsonLiteral("true")
FALSE: Final = JsonLiteral("false")

ValueKey: TypeAlias = str | float | int | JsonLiteral | None
"""A leaf value as matched: str, float (numbers), int (only integers too large for a float),
TRUE/FALSE, or None (null)."""

Trail: TypeAlias = tuple[tuple[int, int], ...]
"""Where a leaf sits in the event's arrays: (array id, element index) for each enclosing array."""


def number_key(number: int | float) -> float | int:
    """The key of a JSON number: its float value (an int too large for a float keeps itself)."""
    try:
        return float(number)
    except OverflowError:
        return int(number)


def scalar_key(value: Any) -> ValueKey:
    """The value key of a JSON scalar (raises TypeError for containers and non-JSON types)."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is bool:
        return TRUE if value else FALSE
    if kind is int or kind is float:
        return number_key(value)
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int | float):
        return number_key(value)
    if isinstance(value, Decimal):
        return number_key(float(value))
    raise TypeError(f"not a JSON scalar: {type(value).__name__}")


class FlatEvent:
    """An event flattened into `values[path] -> [value key, ...]`.

    `trails` is None when no array in the event holds an object: then no two different paths can
    share an array element and any combination of leaves is consistent. Otherwise `trails[path]`
    lists, aligned with `values[path]`, the array positions of each leaf, because EventBridge
    requires the leaves one rule matches under an array of objects to come from the same element.
    """

    __slots__ = ("trails", "values")

    def __init__(
        self, values: dict[str, list[ValueKey]], trails: dict[str, list[Trail]] | None
    ) -> None:
        self.values = values
        self.trails = trails

    def __repr__(self) -> str:
        return f"FlatEvent({self.values!r}, trails={self.trails!r})"


def flatten_event(event: Mapping[str, Any]) -> FlatEvent:
    """Flatten an event (a JSON object as a dict) into leaves by dotted path."""
    values: dict[str, list[ValueKey]] = {}
    try:
        object_in_array = _collect_object(event, "", values)
    except RecursionError:
        object_in_array = True
    if not object_in_array:
        return FlatEvent(values, None)
    return _flatten_with_trails(event)


def _collect_object(obj: Mapping[str, Any], prefix: str, values: dict[str, list[ValueKey]]) -> bool:
    """Add the leaves of `obj` to `values`; True if some array below holds an object."""
    # The hot path of matching: plain JSON types are dispatched on their exact type first.
    object_in_array = False
    for key, value in obj.items():
        path = prefix + key
        kind = type(value)
        if kind is str or kind is float:
            leaf: ValueKey = value
        elif kind is dict:
            if _collect_object(value, path + ".", values):
                object_in_array = True
            continue
        elif kind is int:
            try:
                leaf = float(value)
            except OverflowError:
                leaf = value
        elif kind is list:
            if _collect_array(value, path, values):
                object_in_array = True
            continue
        elif kind is bool:
            leaf = TRUE if value else FALSE
        elif value is None:
            leaf = None
        elif isinstance(value, Mapping):
            if _collect_object(value, path + ".", values):
                object_in_array = True
            continue
        elif isinstance(value, list | tuple):
            if _collect_array(value, path, values):
                object_in_array = True
            continue
        else:
            leaf = scalar_key(value)
        bucket = values.get(path)
        if bucket is None:
            values[path] = [leaf]
        else:
            bucket.append(leaf)
    return object_in_array


def _collect_array(
    items: list[Any] | tuple[Any, ...], path: str, values: dict[str, list[ValueKey]]
) -> bool:
    bucket = values.get(path)
    if bucket is None:
        bucket = values[path] = []
    object_in_array = _collect_items(items, path, values, bucket)
    if not bucket:
        del values[path]  # an empty array, or one of objects only, has no leaf at its own path
    return object_in_array


def _collect_items(
    items: list[Any] | tuple[Any, ...],
    path: str,
    values: dict[str, list[ValueKey]],
    bucket: list[ValueKey],
) -> bool:
    """Add an array's leaves to `bucket` (nested arrays flatten into the same path)."""
    object_in_array = False
    for value in items:
        kind = type(value)
        if kind is str or kind is float:
            bucket.append(value)
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):
            object_in_array = True
            _collect_object(value, path + ".", values)
        elif kind is list or isinstance(value, tuple):
            if _collect_items(value, path, values, bucket):
                object_in_array = True
        else:
            bucket.append(scalar_key(value))
    return object_in_array


def _flatten_with_trails(event: Mapping[str, Any]) -> FlatEvent:
    """The slow path: record each leaf's array positions too. Iterative, so any depth works."""
    values: dict[str, list[ValueKey]] = {}
    trails: dict[str, list[Trail]] = {}
    next_array_id = 0
    # First in, first out, so the leaves of one path keep the order of the event's arrays.
    objects: deque[tuple[Mapping[str, Any], str, Trail]] = deque([(event, "", ())])

    def add_leaf(path: str, value: Any, trail: Trail) -> None:
        leaf = scalar_key(value)
        if path in values:
            values[path].append(leaf)
            trails[path].append(trail)
        else:
            values[path] = [leaf]
            trails[path] = [trail]

    while objects:
        obj, prefix, trail = objects.popleft()
        for key, value in obj.items():
            path = prefix + key
            if isinstance(value, Mapping):
                objects.append((value, path + ".", trail))
            elif isinstance(value, list | tuple):
                arrays: deque[tuple[list[Any] | tuple[Any, ...], Trail]] = deque([(value, trail)])
                while arrays:
                    items, outer_trail = arrays.popleft()
                    array_id = next_array_id
                    next_array_id += 1
                    for index, item in enumerate(items):
                        item_trail = (*outer_trail, (array_id, index))
                        if isinstance(item, Mapping):
                            objects.append((item, path + ".", item_trail))
                        elif isinstance(item, list | tuple):
                            arrays.append((item, item_trail))
                        else:
                            add_leaf(path, item, item_trail)
            else:
                add_leaf(path, value, trail)
    return FlatEvent(values, trails)
