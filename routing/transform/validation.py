"""PutTargets' checks of a target's input, with EventBridge's wording where it is known."""

from __future__ import annotations

import re
from collections.abc import Mapping

from routing.transform.definitions import (
    JSON_ONLY_VARIABLES,
    MAX_INPUT_LENGTH,
    MAX_INPUT_PATH_LENGTH,
    MAX_INPUT_PATHS,
    MAX_INPUT_TEMPLATE_LENGTH,
    MAX_PATHS_MAP_KEY_LENGTH,
    PATHS_MAP_KEY_PATTERN,
    RESERVED_VARIABLES,
    InvalidTargetInputError,
)
from routing.transform.jsonpath import InvalidJsonPathError, parse_json_path
from routing.transform.templates import compile_template, json_text_error

_PATHS_MAP_KEY_RE = re.compile(rf"\A{PATHS_MAP_KEY_PATTERN}\Z")


def _for(target_id: str | None) -> str:
    return f" for target {target_id}" if target_id else ""


def _length_error(field: str, target_id: str | None, bound: str, limit: int) -> str:
    return (
        f"1 validation error detected: Value at '{field}'{_for(target_id)} failed to satisfy "
        f"constraint: Member must have length {bound} {limit}."
    )


def validate_input_fields(
    *,
    input_text: str | None,
    input_path: str | None,
    input_template: str | None,
    input_paths_map: Mapping[str, str],
    target_id: str | None,
) -> None:
    """Check a target's Input, InputPath or InputTransformer (its template and paths map) the way
    PutTargets does; raise InvalidTargetInputError naming the field."""
    set_fields = [value for value in (input_text, input_path, input_template) if value is not None]
    if len(set_fields) > 1:
        raise InvalidTargetInputError(
            f"Only one of Input, InputPath, or InputTransformer must be provided{_for(target_id)}.",
            field="Input",
        )
    if input_text is not None:
        _validate_input(input_text, target_id)
    if input_path is not None:
        _validate_input_path(input_path, target_id)
    if input_template is not None:
        _validate_transformer(input_template, input_paths_map, target_id)


def _validate_input(text: str, target_id: str | None) -> None:
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidTargetInputError(
            _length_error("Input", target_id, "less than or equal to", MAX_INPUT_LENGTH),
            field="Input",
        )
    problem = json_text_error(text)
    if problem is not None:
        raise InvalidTargetInputError(
            f"JSON syntax error in input{_for(target_id)}: {problem}. Input must be valid JSON "
            "text.",
            field="Input",
        )


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


def _validate_transformer(
    template: str, paths: Mapping[str, str], target_id: str | None
) -> None:
    paths_field = "InputTransformer.InputPathsMap"
    template_field = "InputTransformer.InputTemplate"
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
    compiled = compile_template(template)
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
