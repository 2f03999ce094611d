"""The exact text a target receives for an event, given its Input, InputPath or
InputTransformer (see docs/transform.md)."""

from __future__ import annotations

import enum
import json
from typing import Any

from routing.transform.definitions import EVENT, EVENT_JSON, INGESTION_TIME, RULE_ARN, RULE_NAME
from routing.transform.jsonpath import JSON_WHITESPACE, parse_json_path
from routing.transform.target_input import InputTransformer, TargetInput, validate_target_input
from routing.transform.templates import SlotContext, compile_template

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


class _Missing(enum.Enum):
    """A variable the event does not have (its path selects nothing)."""

    MISSING = enum.auto()


_MISSING = _Missing.MISSING


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
        elif char not in JSON_WHITESPACE:
            out.append(char)
    return "".join(out)


def _fill(value: Any, context: SlotContext) -> str:
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

    template = compile_template(transformer.input_template)
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
