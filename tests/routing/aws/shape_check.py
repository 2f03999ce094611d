"""Checks a raw JSON 1.1 response against an output shape of botocore's service model for
`events`: no member the shape lacks, required members present, types, enums, lengths, ranges and
patterns. botocore itself would silently drop an unknown member or a mistyped value, so a client
would only notice later; this catches it at the source."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("events")


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def _pattern_errors(shape: Shape, value: str, path: str) -> list[str]:
    pattern = shape.metadata.get("pattern")
    if not pattern or "\\p{" in pattern:  # Java-only classes: Python's re cannot read them
        return []
    # Smithy patterns are not anchored unless they say so.
    if re.search(pattern, value) is None:
        return [f"{path}: {value!r} does not match the pattern {pattern!r}"]
    return []


def errors(shape: Shape | None, value: Any, path: str = "$") -> list[str]:
    if shape is None:
        if value in (None, {}):
            return []
        return [f"{path}: the operation has no output, got {value!r}"]
    kind = shape.type_name
    problems: list[str] = []
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({shape.name}), got {value!r}"]
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                problems.append(f"{path}: {name} is not a member of {shape.name}")
            elif member_value is None:
                problems.append(f"{path}.{name}: null (AWS leaves absent members out)")
            else:
                problems += errors(member, member_value, f"{path}.{name}")
        problems += [f"{path}: required member {name} of {shape.name} is missing"
                     for name in shape.required_members if name not in value]
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list ({shape.name}), got {value!r}"]
        problems += _length_errors(shape, len(value), path)
        for index, item in enumerate(value):
            problems += errors(shape.member, item, f"{path}[{index}]")
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({shape.name}), got {value!r}"]
        for key, item in value.items():
            problems += errors(shape.key, key, f"{path}<key>")
            problems += errors(shape.value, item, f"{path}[{key!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string ({shape.name}), got {value!r}"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {enum}")
        problems += _length_errors(shape, len(value), path)
        problems += _pattern_errors(shape, value, path)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: expected a whole number ({shape.name}), got {value!r}"]
        problems += _range_errors(shape, value, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {value!r}")
    elif kind == "timestamp":
        # The JSON 1.1 protocol sends timestamps as seconds since the epoch.
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected epoch seconds ({shape.name}), got {value!r}")
    else:
        problems.append(f"{path}: no check for shapes of type {kind}")
    return problems


def _length_errors(shape: Shape, length: int, path: str) -> list[str]:
    problems = []
    if "min" in shape.metadata and length < shape.metadata["min"]:
        problems.append(f"{path}: length {length} is under {shape.metadata['min']}")
    if "max" in shape.metadata and length > shape.metadata["max"]:
        problems.append(f"{path}: length {length} is over {shape.metadata['max']}")
    return problems


def _range_errors(shape: Shape, value: int, path: str) -> list[str]:
    problems = []
    if "min" in shape.metadata and value < shape.metadata["min"]:
        problems.append(f"{path}: {value} is under {shape.metadata['min']}")
    if "max" in shape.metadata and value > shape.metadata["max"]:
        problems.append(f"{path}: {value} is over {shape.metadata['max']}")
    return problems


def response_errors(operation_name: str, status: int, body: Any) -> list[str]:
    """What is wrong with one recorded response of `operation_name`, success or error."""
    model = operation(operation_name)
    if status == 200:
        return errors(model.output_shape, body, operation_name)
    if not isinstance(body, dict) or set(body) != {"__type", "message"}:
        return [f"{operation_name}: an error body is {{'__type', 'message'}}, got {body!r}"]
    if not isinstance(body["message"], str) or not body["message"]:
        return [f"{operation_name}: the error has no message: {body!r}"]
    return []
