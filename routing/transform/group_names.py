"""Channels group names rendered from events: ``customer.{detail.userId}`` gives
``customer.42`` for an event whose detail has ``"userId": 42``."""

from __future__ import annotations

import re
from typing import Any

from routing.transform.jsonpath import InvalidJsonPathError, JsonPath, parse_json_path

_GROUP_NAME_RE = re.compile(r"\A[A-Za-z0-9._-]+\Z")
_GROUP_FIELD_RE = re.compile(r"\{([^{}]*)\}")
MAX_GROUP_NAME_LENGTH = 100  # channels.layers.BaseChannelLayer.MAX_NAME_LENGTH (exclusive)


class GroupNameError(ValueError):
    """A Channels group-name template is malformed, or it rendered to an invalid name."""



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
