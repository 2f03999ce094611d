"""An InputTemplate split into literal text and placeholders, each tagged with where it stands
(a JSON value, inside a JSON string, an object key, or plain text)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from routing.transform.jsonpath import JSON_WHITESPACE

# A placeholder is `<` + anything but angle brackets + `>`. AWS says "<" and ">" cannot be
# escaped, so every such span is a placeholder, and one that names no variable is an error.
_PLACEHOLDER_RE = re.compile(r"<([^<>]+)>")
# Outside JSON strings a placeholder cannot contain a quote: that would cross a string boundary.
_BARE_PLACEHOLDER_RE = re.compile(r"<([^<>\"]+)>")

SlotContext = Literal["value", "string", "key", "text"]


@dataclass(frozen=True)
class Slot:
    name: str
    context: SlotContext


@dataclass(frozen=True)
class Template:
    is_json: bool
    parts: tuple[str | Slot, ...]
    json_error: str | None = None

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(part for part in self.parts if isinstance(part, Slot))


@functools.lru_cache(maxsize=1024)
def compile_template(template: str) -> Template:
    """Split a template into literal text and placeholders, each placeholder tagged with where it
    stands. A template whose first non-blank character is '{' is a JSON template (AWS: "If
    InputTemplate is a JSON object (surrounded by curly braces)"); so is one starting with '['
    when it parses as a JSON array. Anything else is a text template."""
    head = template.lstrip(JSON_WHITESPACE)[:1]
    if head in ("{", "["):
        parts = _scan_json_template(template)
        error = _json_template_error(parts)
        if head == "{" or error is None:
            return Template(is_json=True, parts=parts, json_error=error)
    return Template(is_json=False, parts=_split_text(template, "text"))


def _split_text(text: str, context: SlotContext) -> tuple[str | Slot, ...]:
    parts: list[str | Slot] = []
    position = 0
    for match in _PLACEHOLDER_RE.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append(Slot(match.group(1), context))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def _scan_json_template(template: str) -> tuple[str | Slot, ...]:
    """Walk a JSON template: string literals (placeholders inside them are 'string', or 'key' in
    an object key), placeholders outside strings ('value', or 'key' where a key is expected) and
    the structural characters that tell keys from values."""
    parts: list[str | Slot] = []
    literal: list[str] = []
    containers: list[str] = []
    expect_key = False
    i, n = 0, len(template)

    def flush() -> None:
        if literal:
            parts.append("".join(literal))
            literal.clear()

    while i < n:
        char = template[i]
        in_object_key = bool(containers) and containers[-1] == "{" and expect_key
        if char == '"':
            end = i + 1
            while end < n and template[end] != '"':
                end += 2 if template[end] == "\\" else 1
            end = min(end + 1, n)
            for part in _split_text(template[i:end], "key" if in_object_key else "string"):
                if isinstance(part, str):
                    literal.append(part)
                else:
                    flush()
                    parts.append(part)
            i = end
            continue
        if char == "<":
            match = _BARE_PLACEHOLDER_RE.match(template, i)
            if match is not None:
                flush()
                parts.append(Slot(match.group(1), "key" if in_object_key else "value"))
                i = match.end()
                continue
        if char in "{[":
            containers.append(char)
            expect_key = char == "{"
        elif char in "}]":
            if containers:
                containers.pop()
            expect_key = False
        elif char == ":":
            expect_key = False
        elif char == ",":
            expect_key = bool(containers) and containers[-1] == "{"
        literal.append(char)
        i += 1
    flush()
    return tuple(parts)


def _json_template_error(parts: tuple[str | Slot, ...]) -> str | None:
    """Why the template is not JSON once filled (value placeholders as null, the others as
    nothing), or None when it is."""
    probe = "".join(
        part if isinstance(part, str) else ("null" if part.context == "value" else "")
        for part in parts
    )
    return json_text_error(probe)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_text_error(text: str) -> str | None:
    """Why `text` is not JSON as EventBridge reads it (NaN and Infinity are not JSON either),
    or None when it is."""
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        return f"{error.msg} (line {error.lineno}, column {error.colno})"
    except ValueError as error:
        return str(error)
    return None
