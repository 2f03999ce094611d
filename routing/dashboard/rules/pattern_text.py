"""Where in pattern text the engine's complaint is, for the editor's marker: the line and column
of the field it names (`detail.price`, `$or[1].detail.state`), or of a JSON syntax error.

The engine reports a location as the pattern's keys joined by dots, with `$or[i]` for an
alternative; values inside a field's array (match expressions) add nothing to it. This reader
walks the text the same way and remembers where each such location starts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]

_WHITESPACE = " \t\r\n"
_LOCATION_BREAK = re.compile(r"[.\[]")


@dataclass(frozen=True)
class TextPosition:
    line: int  # 1-based
    column: int  # 1-based
    length: int  # characters to mark from there (a key with its quotes)

    @classmethod
    def at(cls, text: str, offset: int, length: int = 1) -> TextPosition:
        line_start = text.rfind("\n", 0, offset) + 1
        return cls(text.count("\n", 0, offset) + 1, offset - line_start + 1, max(length, 1))

    def as_dict(self) -> dict[str, int]:
        return {"line": self.line, "column": self.column, "length": self.length}


def locate_pattern_error(text: str, path: str | None) -> TextPosition | None:
    """The position of the engine's `path` in `text`, or of the JSON syntax error when there is
    no path. None when the problem is the pattern as a whole (empty, too long...)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return TextPosition.at(text, min(error.pos, len(text)))
    except (ValueError, RecursionError):
        return None  # valid syntax the engine refuses as a whole (a huge number, deep nesting)
    if not path:
        return None
    found = _Locations(text).read()
    candidate = path
    while candidate:
        if candidate in found:
            offset, length = found[candidate]
            return TextPosition.at(text, offset, length)
        # A location deeper than what the text spells (a dotted key, say): its nearest parent.
        breaks = [match.start() for match in _LOCATION_BREAK.finditer(candidate)]
        candidate = candidate[:breaks[-1]] if breaks else ""
    return None


class _Locations:
    """Reads JSON text known to be valid and records `location -> (offset, length)` for every
    key the engine can name. A repeated key is recorded where it last appears, as the engine
    keeps the last one."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.found: dict[str, tuple[int, int]] = {}

    def read(self) -> dict[str, tuple[int, int]]:
        self._skip()
        if self.text[self.i] == "{":
            self._object("")
        return self.found

    def _skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in _WHITESPACE:
            self.i += 1

    def _string(self) -> str:
        value, self.i = scanstring(self.text, self.i + 1)
        return value

    def _object(self, location: str | None) -> None:
        """`location`: where this object sits ("" at the root), or None inside a value array."""
        self.i += 1
        self._skip()
        if self.text[self.i] == "}":
            self.i += 1
            return
        while True:
            self._skip()
            start = self.i
            key = self._string()
            key_location = None if location is None else f"{location}.{key}" if location else key
            if key_location is not None:
                self.found[key_location] = (start, self.i - start)
            self._skip()
            self.i += 1  # the colon
            self._skip()
            if key_location is not None and key == "$or" and self._starts_object_array():
                self._alternatives(key_location)
            elif self.text[self.i] == "{":
                self._object(key_location)
            else:
                self._value()
            self._skip()
            closing = self.text[self.i]
            self.i += 1
            if closing == "}":
                return

    def _starts_object_array(self) -> bool:
        if self.text[self.i] != "[":
            return False
        j = self.i + 1
        while j < len(self.text) and self.text[j] in _WHITESPACE:
            j += 1
        return j < len(self.text) and self.text[j] == "{"

    def _alternatives(self, location: str) -> None:
        self.i += 1
        index = 0
        while True:
            self._skip()
            alternative = f"{location}[{index}]"
            self.found[alternative] = (self.i, 1)
            if self.text[self.i] == "{":
                self._object(alternative)
            else:
                self._value()
            self._skip()
            closing = self.text[self.i]
            self.i += 1
            if closing == "]":
                return
            index += 1

    def _value(self) -> None:
        char = self.text[self.i]
        if char == "{":
            self._object(None)
        elif char == "[":
            self.i += 1
            self._skip()
            if self.text[self.i] == "]":
                self.i += 1
                return
            while True:
                self._skip()
                self._value()
                self._skip()
                closing = self.text[self.i]
                self.i += 1
                if closing == "]":
                    return
        elif char == '"':
            self._string()
        else:
            while self.i < len(self.text) and self.text[self.i] not in _WHITESPACE + ",]}":
                self.i += 1
