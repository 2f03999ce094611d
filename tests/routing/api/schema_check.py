"""A small checker for the JSON Schema subset openapi.json uses, so tests can hold real API
responses (and the document's own examples) to the documented schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

_TYPES: dict[str, Any] = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def errors(document: dict[str, Any], schema: dict[str, Any], value: Any, at: str = "$"
           ) -> list[str]:
    if "$ref" in schema:
        return errors(document, resolve(document, schema["$ref"]), value, at)
    found: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, name) for name in names):
            return [f"{at}: {value!r:.80} is not {' or '.join(names)}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{at}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: {value!r} is not one of {schema['enum']}")
    if "oneOf" in schema:
        passing = [option for option in schema["oneOf"] if not errors(document, option, value, at)]
        if len(passing) != 1:
            found.append(f"{at}: matches {len(passing)} of oneOf's {len(schema['oneOf'])}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{at}: longer than {schema['maxLength']}")
        if schema.get("format") == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                found.append(f"{at}: {value!r} is not a UUID")
        if schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                found.append(f"{at}: {value!r} is not a date-time")
    if (isinstance(value, int | float) and not isinstance(value, bool)
            and "minimum" in schema and value < schema["minimum"]):
        found.append(f"{at}: below {schema['minimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{at}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{at}: more than {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                found += errors(document, schema["items"], item, f"{at}[{index}]")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{at}: lacks {name}")
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                found += errors(document, properties[name], item, f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{at}: has unexpected {name}")
    return found
