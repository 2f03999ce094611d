"""What a target receives: EventBridge's Input, InputPath and InputTransformer, in pure Python.

    >>> from routing.transform import TargetInput, render_target_input
    >>> target_input = TargetInput.from_aws({
    ...     "InputTransformer": {
    ...         "InputPathsMap": {"id": "$.detail.id"},
    ...         "InputTemplate": '{"order": <id>, "text": "Order <id> is ready"}',
    ...     }
    ... })
    >>> target_input.validate()
    >>> render_target_input(
    ...     {"detail": {"id": "A7"}}, target_input,
    ...     rule_arn="arn:aws:events:eu-west-1:123456789012:rule/ready", rule_name="ready",
    ...     ingestion_time="2026-01-01T00:00:00Z",
    ... )
    '{"order":"A7","text":"Order A7 is ready"}'

The module also renders Channels group names from events (``format_group_name``). It imports
nothing from Django, so the API layer, the workers and the tests can all use it. docs/transform.md
describes the semantics and the choices made where AWS documents nothing.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "JSON_ONLY_VARIABLES",
    "MAX_INPUT_LENGTH",
    "MAX_INPUT_PATHS",
    "MAX_INPUT_PATH_LENGTH",
    "MAX_INPUT_TEMPLATE_LENGTH",
    "RESERVED_VARIABLES",
    "GroupNameError",
    "InputTransformer",
    "InvalidJsonPathError",
    "InvalidTargetInputError",
    "JsonPath",
    "TargetInput",
    "format_group_name",
    "parse_json_path",
    "render_target_input",
    "validate_group_template",
    "validate_target_input",
]

# Limits from the EventBridge API model (botocore events/2015-10-07: TargetInput,
# TargetInputPath, TransformerInput, TransformerPaths, InputTransformerPathKey).
MAX_INPUT_LENGTH = 8192
MAX_INPUT_PATH_LENGTH = 256
MAX_INPUT_TEMPLATE_LENGTH = 8192
MAX_INPUT_PATHS = 100
MAX_PATHS_MAP_KEY_LENGTH = 256
PATHS_MAP_KEY_PATTERN = r"[A-Za-z0-9\_\-]+"

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"

#: The predefined variables; an InputPathsMap cannot define them.
RESERVED_VARIABLES = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
#: Predefined variables whose contents are JSON and are not escaped: AWS allows them only as the
#: value of a JSON field.
JSON_ONLY_VARIABLES = frozenset({EVENT, EVENT_JSON})

# The order in which AWS writes the fields of <aws.events.event> (the envelope without `detail`,
# with `detail-type` spelt `detailType`), as recorded against AWS in LocalStack's snapshot
# test_events_inputs.snapshot.json::test_input_transformer_predefined_variables.
_EVENT_VARIABLE_FIELDS = (
    ("id", "id"),
    ("account", "account"),
    ("detail-type", "detailType"),
    ("time", "time"),
    ("source", "source"),
    ("region", "region"),
    ("resources", "resources"),
    ("version", "version"),
)

_PATHS_MAP_KEY_RE = re.compile(rf"\A{PATHS_MAP_KEY_PATTERN}\Z")
# A placeholder is `<` + anything but angle brackets + `>`. AWS says "<" and ">" cannot be
# escaped, so every such span is a placeholder, and one that names no variable is an error.
_PLACEHOLDER_RE = re.compile(r"<([^<>]+)>")
# Outside JSON strings a placeholder cannot contain a quote: that would cross a string boundary.
_BARE_PLACEHOLDER_RE = re.compile(r"<([^<>\"]+)>")
_INDEX_RE = re.compile(r"-?[0-9]+")
_GROUP_NAME_RE = re.compile(r"\A[A-Za-z0-9._-]+\Z")
_GROUP_FIELD_RE = re.compile(r"\{([^{}]*)\}")
MAX_GROUP_NAME_LENGTH = 100  # channels.layers.BaseChannelLayer.MAX_NAME_LENGTH (exclusive)

_JSON_WHITESPACE = " \t\n\r"


# Errors ---------------------------------------------------------------------------------------


class InvalidTargetInputError(ValueError):
    """A target's Input, InputPath or InputTransformer is not one EventBridge would accept.

    `field` names the offending field in EventBridge's spelling, e.g. ``InputPath`` or
    ``InputTransformer.InputTemplate``."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidJsonPathError(ValueError):
    """A JSON path outside the supported subset (see `parse_json_path`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r} is not a valid JSON path: {reason}")
        self.path = path
        self.reason = reason


class GroupNameError(ValueError):
    """A Channels group-name template is malformed, or it rendered to an invalid name."""


# JSON paths -----------------------------------------------------------------------------------


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING = _Missing.MISSING


class _Wildcard(enum.Enum):
    ANY = enum.auto()


_WILDCARD = _Wildcard.ANY

_Step = str | int | _Wildcard
_NAME_STOP = set(".[]'\"()*?,") | set(_JSON_WHITESPACE)


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


# Target input description ---------------------------------------------------------------------


@dataclass(frozen=True)
class InputTransformer:
    """EventBridge's InputTransformer: variables read from the event by JSON path
    (`input_paths_map`), filled into `input_template` as ``<name>``."""

    input_template: str
    input_paths_map: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = types.MappingProxyType(dict(self.input_paths_map))
        object.__setattr__(self, "input_paths_map", frozen)

    def __hash__(self) -> int:
        return hash((self.input_template, tuple(sorted(self.input_paths_map.items()))))

    def to_aws(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.input_paths_map:
            result["InputPathsMap"] = dict(self.input_paths_map)
        result["InputTemplate"] = self.input_template
        return result


@dataclass(frozen=True)
class TargetInput:
    """What a target is given instead of the whole event. At most one of the three may be set
    (`validate` enforces it); with none set the target gets the event."""

    input: str | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None

    @classmethod
    def from_aws(cls, data: Mapping[str, Any]) -> TargetInput:
        """Read EventBridge's field names (`Input`, `InputPath`, `InputTransformer` with
        `InputPathsMap` and `InputTemplate`) from a Target; other keys (Id, Arn...) are ignored.
        Only the shapes are checked here: call `validate` for EventBridge's rules."""
        input_ = data.get("Input")
        if input_ is not None and not isinstance(input_, str):
            raise InvalidTargetInputError("Input must be a string of JSON text.", field="Input")
        input_path = data.get("InputPath")
        if input_path is not None and not isinstance(input_path, str):
            raise InvalidTargetInputError("InputPath must be a string.", field="InputPath")
        raw = data.get("InputTransformer")
        transformer = None
        if raw is not None:
            if not isinstance(raw, Mapping):
                raise InvalidTargetInputError(
                    "InputTransformer must be an object with InputTemplate and InputPathsMap.",
                    field="InputTransformer",
                )
            template = raw.get("InputTemplate")
            if not isinstance(template, str):
                raise InvalidTargetInputError(
                    "InputTransformer.InputTemplate is required and must be a string.",
                    field="InputTransformer.InputTemplate",
                )
            paths = raw.get("InputPathsMap")
            if paths is None:
                paths = {}
            if not isinstance(paths, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in paths.items()
            ):
                raise InvalidTargetInputError(
                    "InputTransformer.InputPathsMap must map variable names to JSON paths "
                    "(strings).",
                    field="InputTransformer.InputPathsMap",
                )
            transformer = InputTransformer(input_template=template, input_paths_map=paths)
        return cls(input=input_, input_path=input_path, input_transformer=transformer)

    def to_aws(self) -> dict[str, Any]:
        """EventBridge's field names, only for what is set; plain dicts (JSON-serialisable)."""
        result: dict[str, Any] = {}
        if self.input is not None:
            result["Input"] = self.input
        if self.input_path is not None:
            result["InputPath"] = self.input_path
        if self.input_transformer is not None:
            result["InputTransformer"] = self.input_transformer.to_aws()
        return result

    def validate(self, *, target_id: str | None = None) -> None:
        """Raise InvalidTargetInputError unless EventBridge's PutTargets would accept this."""
        validate_target_input(self, target_id=target_id)


# Validation -----------------------------------------------------------------------------------


def _for(target_id: str | None) -> str:
    return f" for target {target_id}" if target_id else ""


def _length_error(field: str, target_id: str | None, bound: str, limit: int) -> str:
    return (
        f"1 validation error detected: Value at '{field}'{_for(target_id)} failed to satisfy "
        f"constraint: Member must have length {bound} {limit}."
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def validate_target_input(target_input: TargetInput, *, target_id: str | None = None) -> None:
    """Check a target's input the way PutTargets does; raise InvalidTargetInputError naming the
    field. Messages use EventBridge's wording where it is known."""
    set_fields = [
        value
        for value in (target_input.input, target_input.input_path, target_input.input_transformer)
        if value is not None
    ]
    if len(set_fields) > 1:
        raise InvalidTargetInputError(
            f"Only one of Input, InputPath, or InputTransformer must be provided{_for(target_id)}.",
            field="Input",
        )
    if target_input.input is not None:
        _validate_input(target_input.input, target_id)
    if target_input.input_path is not None:
        _validate_input_path(target_input.input_path, target_id)
    if target_input.input_transformer is not None:
        _validate_transformer(target_input.input_transformer, target_id)


def _validate_input(text: str, target_id: str | None) -> None:
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidTargetInputError(
            _length_error("Input", target_id, "less than or equal to", MAX_INPUT_LENGTH),
            field="Input",
        )
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InvalidTargetInputError(
            f"JSON syntax error in input{_for(target_id)}: {error.msg} (line {error.lineno}, "
            f"column {error.colno}). Input must be valid JSON text.",
            field="Input",
        ) from None
    except ValueError as error:
        raise InvalidTargetInputError(
            f"JSON syntax error in input{_for(target_id)}: {error}. Input must be valid JSON text.",
            field="Input",
        ) from None


def _validate_input_path(path: str, target_id: str | None) -> None:
    if len(path) > MAX_INPUT_PATH_LENGTH:
        raise InvalidTargetInputError(
            _length_error("InputPath", target_id, "less than or equal to", MAX_INPUT_PATH_LENGTH),
            field="InputPath",
        )
    try:
        parse_json_path(path)
    except InvalidJsonPathError as error:
        raise InvalidTargetInputError(
            f"InputPath{_for(target_id)} is not a valid JSON path {path!r}: {error.reason}.",
            field="InputPath",
        ) from None


def _validate_transformer(transformer: InputTransformer, target_id: str | None) -> None:
    paths_field = "InputTransformer.InputPathsMap"
    template_field = "InputTransformer.InputTemplate"
    paths = transformer.input_paths_map
    if len(paths) > MAX_INPUT_PATHS:
        raise InvalidTargetInputError(
            _length_error(paths_field, target_id, "less than or equal to", MAX_INPUT_PATHS),
            field=paths_field,
        )
    for key, path in paths.items():
        if not isinstance(key, str) or not isinstance(path, str):
            raise InvalidTargetInputError(
                f"InputPathsMap{_for(target_id)} must map variable names to JSON paths (strings).",
                field=paths_field,
            )
        if key in RESERVED_VARIABLES or key.lower().startswith("aws."):
            raise InvalidTargetInputError(
                f"InputPathsMap{_for(target_id)} cannot define {key!r}: keys cannot start with "
                f"'AWS.'; the predefined variables ({', '.join(sorted(RESERVED_VARIABLES))}) "
                "are reserved.",
                field=paths_field,
            )
        if not 1 <= len(key) <= MAX_PATHS_MAP_KEY_LENGTH or not _PATHS_MAP_KEY_RE.fullmatch(key):
            raise InvalidTargetInputError(
                f"1 validation error detected: Value {key!r} at '{paths_field}'"
                f"{_for(target_id)} failed to satisfy constraint: Map keys must satisfy "
                f"constraint: [Member must have length between 1 and "
                f"{MAX_PATHS_MAP_KEY_LENGTH}, Member must satisfy regular expression pattern: "
                f"{PATHS_MAP_KEY_PATTERN}].",
                field=paths_field,
            )
        if len(path) > MAX_INPUT_PATH_LENGTH:
            raise InvalidTargetInputError(
                f"1 validation error detected: Value at '{paths_field}.{key}'{_for(target_id)} "
                f"failed to satisfy constraint: Member must have length less than or equal to "
                f"{MAX_INPUT_PATH_LENGTH}.",
                field=paths_field,
            )
        try:
            parse_json_path(path)
        except InvalidJsonPathError as error:
            raise InvalidTargetInputError(
                f"InputPathsMap{_for(target_id)}: the path for {key!r} is not a valid JSON path "
                f"{path!r}: {error.reason}.",
                field=paths_field,
            ) from None

    template = transformer.input_template
    if not template:
        raise InvalidTargetInputError(
            _length_error(template_field, target_id, "greater than or equal to", 1),
            field=template_field,
        )
    if len(template) > MAX_INPUT_TEMPLATE_LENGTH:
        raise InvalidTargetInputError(
            _length_error(
                template_field, target_id, "less than or equal to", MAX_INPUT_TEMPLATE_LENGTH
            ),
            field=template_field,
        )
    compiled = _compile_template(template)
    for slot in compiled.slots:
        if slot.name not in paths and slot.name not in RESERVED_VARIABLES:
            raise InvalidTargetInputError(
                f"InputTemplate{_for(target_id)} contains invalid placeholder {slot.name}.",
                field=template_field,
            )
    for slot in compiled.slots:
        if slot.context == "key":
            raise InvalidTargetInputError(
                f"InputTemplate{_for(target_id)} uses the placeholder <{slot.name}> as a JSON "
                "object key; placeholders cannot be used as object keys.",
                field=template_field,
            )
        if slot.name in JSON_ONLY_VARIABLES and slot.context != "value":
            where = "inside a JSON string" if slot.context == "string" else "in a text template"
            raise InvalidTargetInputError(
                f"InputTemplate{_for(target_id)} uses <{slot.name}> {where}; it can only be used "
                "as the value of a JSON field, because its contents are not escaped.",
                field=template_field,
            )
    if compiled.json_error is not None:
        raise InvalidTargetInputError(
            f"InputTemplate{_for(target_id)} is not valid JSON: {compiled.json_error}. A template "
            "that starts with '{' must be a JSON object once its placeholders are filled.",
            field=template_field,
        )


# Templates ------------------------------------------------------------------------------------

_Context = Literal["value", "string", "key", "text"]


@dataclass(frozen=True)
class _Slot:
    name: str
    context: _Context


@dataclass(frozen=True)
class _Template:
    is_json: bool
    parts: tuple[str | _Slot, ...]
    json_error: str | None = None

    @property
    def slots(self) -> tuple[_Slot, ...]:
        return tuple(part for part in self.parts if isinstance(part, _Slot))


@functools.lru_cache(maxsize=1024)
def _compile_template(template: str) -> _Template:
    """Split a template into literal text and placeholders, each placeholder tagged with where it
    stands. A template whose first non-blank character is '{' is a JSON template (AWS: "If
    InputTemplate is a JSON object (surrounded by curly braces)"); so is one starting with '['
    when it parses as a JSON array. Anything else is a text template."""
    head = template.lstrip(_JSON_WHITESPACE)[:1]
    if head in ("{", "["):
        parts = _scan_json_template(template)
        error = _json_template_error(parts)
        if head == "{" or error is None:
            return _Template(is_json=True, parts=parts, json_error=error)
    return _Template(is_json=False, parts=_split_text(template, "text"))


def _split_text(text: str, context: _Context) -> tuple[str | _Slot, ...]:
    parts: list[str | _Slot] = []
    position = 0
    for match in _PLACEHOLDER_RE.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append(_Slot(match.group(1), context))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def _scan_json_template(template: str) -> tuple[str | _Slot, ...]:
    """Walk a JSON template: string literals (placeholders inside them are 'string', or 'key' in
    an object key), placeholders outside strings ('value', or 'key' where a key is expected) and
    the structural characters that tell keys from values."""
    parts: list[str | _Slot] = []
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
                parts.append(_Slot(match.group(1), "key" if in_object_key else "value"))
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


def _json_template_error(parts: tuple[str | _Slot, ...]) -> str | None:
    """Why the template is not JSON once filled (value placeholders as null, the others as
    nothing), or None when it is."""
    probe = "".join(
        part if isinstance(part, str) else ("null" if part.context == "value" else "")
        for part in parts
    )
    try:
        json.loads(probe, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        return f"{error.msg} (line {error.lineno}, column {error.colno})"
    except ValueError as error:
        return str(error)
    return None


# Rendering ------------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    """Compact JSON, as EventBridge writes it (no spaces, non-ASCII left as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _event_variable(event: dict[str, Any]) -> dict[str, Any]:
    """<aws.events.event>: the envelope without `detail`, in AWS's order and spelling."""
    known = {source for source, _ in _EVENT_VARIABLE_FIELDS}
    result = {target: event[source] for source, target in _EVENT_VARIABLE_FIELDS if source in event}
    for key, value in event.items():
        if key != "detail" and key not in known:
            result[key] = value  # e.g. replay-name; AWS's rendering of extras is undocumented
    return result


def _minify(text: str) -> str:
    """Drop the whitespace between JSON tokens (the text must be valid JSON)."""
    out: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char not in _JSON_WHITESPACE:
            out.append(char)
    return "".join(out)


def _fill(value: Any, context: _Context) -> str:
    if context == "value":
        if value is _MISSING:
            return '""'  # AWS-validated: a missing variable in value position becomes ""
        return _dumps(value)  # strings are quoted: the "Simple JSON" example
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value  # not escaped, as AWS documents
    return _dumps(value)


def render_target_input(
    event: dict[str, Any],
    target_input: TargetInput,
    *,
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> str:
    """The exact text a target receives for `event`.

    - nothing set: the event as compact JSON;
    - Input: that text, unchanged;
    - InputPath: the compact JSON of the selected value; ``null`` when the path selects nothing;
    - InputTransformer: the template with its placeholders filled (see docs/transform.md).

    Raises InvalidTargetInputError when `target_input` is not valid. The event is not modified.
    """
    validate_target_input(target_input)
    if target_input.input is not None:
        return target_input.input
    if target_input.input_path is not None:
        found, value = parse_json_path(target_input.input_path).find(event)
        return _dumps(value) if found else "null"
    transformer = target_input.input_transformer
    if transformer is None:
        return _dumps(event)

    template = _compile_template(transformer.input_template)
    values: dict[str, Any] = {}

    def lookup(name: str) -> Any:
        if name not in values:
            values[name] = _variable(
                name,
                event,
                transformer,
                rule_arn=rule_arn,
                rule_name=rule_name,
                ingestion_time=ingestion_time,
            )
        return values[name]

    text = "".join(
        part if isinstance(part, str) else _fill(lookup(part.name), part.context)
        for part in template.parts
    )
    if template.is_json:
        try:
            json.loads(text)
        except ValueError:
            return text  # an unescaped value broke the JSON: delivered as is, as AWS does
        return _minify(text)
    return text


def _variable(
    name: str,
    event: dict[str, Any],
    transformer: InputTransformer,
    *,
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> Any:
    if name == RULE_ARN:
        return rule_arn
    if name == RULE_NAME:
        return rule_name
    if name == INGESTION_TIME:
        return ingestion_time
    if name == EVENT:
        return _event_variable(event)
    if name == EVENT_JSON:
        return event
    path = transformer.input_paths_map.get(name)
    if path is None:
        return _MISSING
    found, value = parse_json_path(path).find(event)
    return value if found else _MISSING


# Channels group names -------------------------------------------------------------------------


def _group_field_path(template: str, text: str) -> JsonPath:
    path_text = text.strip()
    if not path_text:
        raise GroupNameError(f"Group name template {template!r} has an empty field '{{}}'.")
    if not path_text.startswith("$"):
        path_text = "$." + path_text
    try:
        path = parse_json_path(path_text)
    except InvalidJsonPathError as error:
        raise GroupNameError(
            f"Group name template {template!r}: field {{{text}}} is not a valid path: "
            f"{error.reason}."
        ) from None
    if not path.definite:
        raise GroupNameError(
            f"Group name template {template!r}: field {{{text}}} must select a single value "
            "(no wildcards)."
        )
    return path


def _group_parts(template: str) -> list[str | tuple[str, JsonPath]]:
    parts: list[str | tuple[str, JsonPath]] = []
    position = 0
    for match in _GROUP_FIELD_RE.finditer(template):
        parts.append(template[position : match.start()])
        parts.append((match.group(1), _group_field_path(template, match.group(1))))
        position = match.end()
    parts.append(template[position:])
    for part in parts:
        if isinstance(part, str) and ("{" in part or "}" in part):
            raise GroupNameError(f"Group name template {template!r} has an unbalanced brace.")
    return parts


def _group_name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) >= MAX_GROUP_NAME_LENGTH:
        return f"it is {len(name)} characters long (the limit is {MAX_GROUP_NAME_LENGTH - 1})"
    if not _GROUP_NAME_RE.fullmatch(name):
        return (
            "Channels group names contain only ASCII alphanumerics, hyphens, underscores or periods"
        )
    return None


def validate_group_template(template: str) -> None:
    """Check a Channels group-name template such as ``customer.{detail.userId}`` at
    configuration time: fields are single-value paths (``{detail.userId}``,
    ``{detail.items[0].id}``, ``{$.source}``), braces balance, and the literal text may appear
    in a group name. Raises GroupNameError (a ValueError)."""
    if not isinstance(template, str) or not template:
        raise GroupNameError("A group name template is required.")
    parts = _group_parts(template)
    literal = "".join(part for part in parts if isinstance(part, str))
    fields = len(parts) // 2
    if literal and not _GROUP_NAME_RE.fullmatch(literal):
        raise GroupNameError(
            f"Group name template {template!r} is invalid: Channels group names contain only "
            "ASCII alphanumerics, hyphens, underscores or periods."
        )
    if len(literal) + fields >= MAX_GROUP_NAME_LENGTH:
        raise GroupNameError(
            f"Group name template {template!r} is too long: group names are shorter than "
            f"{MAX_GROUP_NAME_LENGTH} characters."
        )


def format_group_name(template: str, event: dict[str, Any]) -> str:
    """Render a Channels group name from an event: ``customer.{detail.userId}`` with
    ``{"detail": {"userId": 42}}`` gives ``customer.42``. A field must be a string or an integer;
    a missing field, another type or an invalid resulting name raises GroupNameError."""
    validate_group_template(template)
    rendered: list[str] = []
    for part in _group_parts(template):
        if isinstance(part, str):
            rendered.append(part)
            continue
        text, path = part
        found, value = path.find(event)
        if not found:
            raise GroupNameError(
                f"Group name template {template!r}: the event has no field {text.strip()}."
            )
        if isinstance(value, bool) or not isinstance(value, str | int):
            kind = "null" if value is None else type(value).__name__
            raise GroupNameError(
                f"Group name template {template!r}: field {text.strip()} is a {kind}; only "
                "strings and integers can go into a group name."
            )
        rendered.append(str(value))
    name = "".join(rendered)
    problem = _group_name_problem(name)
    if problem is not None:
        raise GroupNameError(
            f"Group name {name!r} (from template {template!r}) is invalid: {problem}."
        )
    return name
