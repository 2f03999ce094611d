"""The JSON-path subset EventBridge documents for InputPath and InputPathsMap."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

JSON_WHITESPACE = " \t\n\r"
_INDEX_RE = re.compile(r"-?[0-9]+")


class InvalidJsonPathError(ValueError):
    """A JSON path outside the supported subset (see `parse_json_path`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r} is not a valid JSON path: {reason}")
        self.path = path
        self.reason = reason


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING = _Missing.MISSING


class _Wildcard(enum.Enum):
    ANY = enum.auto()


_WILDCARD = _Wildcard.ANY

_Step = str | int | _Wildcard
_NAME_STOP = set(".[]'\"()*?,") | set(JSON_WHITESPACE)


@dataclass(frozen=True)
class JsonPath:
    """A parsed JSON path. `definite` paths select at most one value; paths with a wildcard
    select a list (possibly empty) of every match, the way Jayway JsonPath (what EventBridge
    runs) answers indefinite paths."""

    text: str
    steps: tuple[_Step, ...]

    @property
    def definite(self) -> bool:
        return _WILDCARD not in self.steps

    def find(self, document: Any) -> tuple[bool, Any]:
        """(True, value) when the path selects something, else (False, None). An indefinite
        path always selects: its value is the list of matches."""
        if self.definite:
            value = document
            for step in self.steps:
                value = _step_into(value, step)
                if value is _MISSING:
                    return False, None
            return True, value
        return True, list(_walk(document, self.steps))


def _step_into(value: Any, step: _Step) -> Any:
    if isinstance(step, str):
        if isinstance(value, dict):
            return value.get(step, _MISSING)
        return _MISSING
    if isinstance(step, int) and isinstance(value, list):
        index = step + len(value) if step < 0 else step
        return value[index] if 0 <= index < len(value) else _MISSING
    return _MISSING


def _walk(value: Any, steps: tuple[_Step, ...]) -> Iterator[Any]:
    if not steps:
        yield value
        return
    step, rest = steps[0], steps[1:]
    if step is _WILDCARD:
        children: list[Any]
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            children = []
        for child in children:
            yield from _walk(child, rest)
        return
    child = _step_into(value, step)
    if child is not _MISSING:
        yield from _walk(child, rest)


@functools.lru_cache(maxsize=2048)
def parse_json_path(path: str) -> JsonPath:
    """Parse the JSON-path subset EventBridge documents: ``$``, dot notation (``$.detail.id``,
    names with dashes, underscores, slashes...), array indices (``$.items[0]``, ``[-1]`` for the
    last), wildcards (``$.items[*].name``, ``$.detail.*``) and bracket notation
    (``$['detail-type']``, ``$.detail["a.b"]``).

    Not supported (an `InvalidJsonPathError` says which): recursive descent ``..``, filters
    ``[?(...)]``, slices ``[0:2]``, unions ``[0,1]`` and functions such as ``length()``."""
    if not path.startswith("$"):
        raise InvalidJsonPathError(path, "it must start with '$'")
    steps: list[_Step] = []
    i, n = 1, len(path)
    while i < n:
        char = path[i]
        if char == ".":
            i += 1
            if i < n and path[i] == ".":
                raise InvalidJsonPathError(path, "recursive descent ('..') is not supported")
            if i < n and path[i] == "*":
                steps.append(_WILDCARD)
                i += 1
                continue
            start = i
            while i < n and path[i] not in _NAME_STOP:
                i += 1
            if i == start:
                raise InvalidJsonPathError(path, f"expected a property name at position {i}")
            if i < n and path[i] == "(":
                raise InvalidJsonPathError(path, "functions are not supported")
            steps.append(path[start:i])
        elif char == "[":
            step, i = _parse_bracket(path, i + 1)
            steps.append(step)
        else:
            raise InvalidJsonPathError(path, f"unexpected {char!r} at position {i}")
    return JsonPath(path, tuple(steps))


def _parse_bracket(path: str, i: int) -> tuple[_Step, int]:
    """Parse what follows '[' up to and including the matching ']'."""
    n = len(path)
    if i >= n:
        raise InvalidJsonPathError(path, "unclosed '['")
    char = path[i]
    step: _Step
    if char == "*":
        step, i = _WILDCARD, i + 1
    elif char in "'\"":
        quote, i = char, i + 1
        name: list[str] = []
        while i < n and path[i] != quote:
            if path[i] == "\\" and i + 1 < n:
                i += 1
            name.append(path[i])
            i += 1
        if i >= n:
            raise InvalidJsonPathError(path, "unclosed quoted name")
        step, i = "".join(name), i + 1
    elif char == "?":
        raise InvalidJsonPathError(path, "filter expressions ('[?(...)]') are not supported")
    else:
        match = _INDEX_RE.match(path, i)
        if match is None:
            raise InvalidJsonPathError(
                path, f"expected an index, '*' or a quoted name at position {i}"
            )
        step, i = int(match.group()), match.end()
    if i < n and path[i] == ":":
        raise InvalidJsonPathError(path, "array slices ('[a:b]') are not supported")
    if i < n and path[i] == ",":
        raise InvalidJsonPathError(path, "unions ('[a,b]') are not supported")
    if i >= n or path[i] != "]":
        raise InvalidJsonPathError(path, f"expected ']' at position {i}")
    return step, i + 1
