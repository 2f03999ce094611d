"""Reading an action's JSON input: required members, types and the few constraints the services do
not check themselves (list sizes, Limit), refused in AWS's words. Unknown members are ignored, as
AWS does; members for features this bus does not have are refused by name (`refuse`)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from routing.errors import ValidationError

# The name patterns of botocore's model for `events`.
BUS_NAME_PATTERN = r"[/\.\-_A-Za-z0-9]+"
NAME_PATTERN = r"[\.\-_A-Za-z0-9]+"

DEFAULT_PAGE_LIMIT = 100
MAX_PAGE_LIMIT = 100


def _member_path(path: str) -> str:
    # AWS's validation messages name members in lowerCamelCase: 'eventBusName',
    # 'targets.1.member.id'.
    return ".".join(part[:1].lower() + part[1:] for part in path.split("."))


def _value_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 100 else text[:97] + "..."


@dataclass(frozen=True)
class Params:
    """The members of one JSON structure of the request; `path` is where it sits in the input."""

    data: Mapping[str, Any]
    path: str = ""

    def _where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _missing(self, name: str) -> ValidationError:
        return ValidationError(
            f"1 validation error detected: Value null at '{_member_path(self._where(name))}' "
            "failed to satisfy constraint: Member must not be null",
            field=self._where(name),
        )

    def _wrong_type(self, name: str, expected: str) -> ValidationError:
        return ValidationError(
            f"Value {_value_text(self.data[name])} at '{_member_path(self._where(name))}' is "
            f"not valid: expected {expected}.",
            field=self._where(name),
        )

    def present(self, name: str) -> bool:
        return self.data.get(name) is not None

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, str):
            raise self._wrong_type(name, "a string")
        self._refuse_nul(name, value)
        return value

    def _refuse_nul(self, name: str, value: str) -> None:
        # No stored text can hold NUL (PostgreSQL refuses it even in a query), so a member
        # that carries one names nothing and describes nothing: refused here, for every action.
        if "\x00" in value:
            raise ValidationError(
                f"Value at '{_member_path(self._where(name))}' is not valid: it holds a NUL "
                "character.",
                field=self._where(name),
            )

    def name(self, name: str, *, pattern: str, max_length: int, required: bool = True
             ) -> str | None:
        """A resource name, checked against the model's constraints in AWS's own words (every
        failed constraint counted, as AWS does: '2 validation errors detected: ...')."""
        value = self.string(name, required=required)
        if value is None:
            return None
        where = _member_path(self._where(name))
        failed = []
        if not re.fullmatch(pattern, value):
            failed.append(f"Member must satisfy regular expression pattern: {pattern}")
        if len(value) > max_length:
            failed.append(f"Member must have length less than or equal to {max_length}")
        if not value:
            failed.append("Member must have length greater than or equal to 1")
        if failed:
            count = f"{len(failed)} validation error{'s' if len(failed) > 1 else ''} detected"
            raise ValidationError(
                f"{count}: " + "; ".join(
                    f"Value '{value}' at '{where}' failed to satisfy constraint: {constraint}"
                    for constraint in failed),
                field=self._where(name),
            )
        return value

    def bounded_string(self, name: str, *, max_length: int) -> str | None:
        value = self.string(name)
        if value is not None and len(value) > max_length:
            raise ValidationError(
                f"1 validation error detected: Value '{_value_text(value)}' at "
                f"'{_member_path(self._where(name))}' failed to satisfy constraint: Member must "
                f"have length less than or equal to {max_length}",
                field=self._where(name),
            )
        return value

    def required_string(self, name: str) -> str:
        value = self.string(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None
                ) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong_type(name, "a whole number")
        where = _member_path(self._where(name))
        if minimum is not None and value < minimum:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
                f"constraint: Member must have value greater than or equal to {minimum}",
                field=self._where(name),
            )
        if maximum is not None and value > maximum:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
                f"constraint: Member must have value less than or equal to {maximum}",
                field=self._where(name),
            )
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._wrong_type(name, "true or false")
        return value

    def structure(self, name: str, *, required: bool = False) -> Params | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, Mapping):
            raise self._wrong_type(name, "an object")
        return Params(value, self._where(name))

    def items(self, name: str, *, required: bool = False, max_items: int | None = None
              ) -> list[Any] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, list):
            raise self._wrong_type(name, "a list")
        where = _member_path(self._where(name))
        if required and not value:
            raise ValidationError(
                f"1 validation error detected: Value '[]' at '{where}' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1",
                field=self._where(name),
            )
        if max_items is not None and len(value) > max_items:
            raise ValidationError(
                f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {max_items} (got {len(value)}).",
                field=self._where(name),
            )
        return value

    def string_list(self, name: str, *, required: bool = False, max_items: int | None = None
                    ) -> list[str] | None:
        values = self.items(name, required=required, max_items=max_items)
        if values is not None and not all(isinstance(value, str) for value in values):
            raise self._wrong_type(name, "a list of strings")
        for value in values or ():
            self._refuse_nul(name, value)
        return values

    def structures(self, name: str, *, required: bool = False, max_items: int | None = None
                   ) -> list[Params] | None:
        values = self.items(name, required=required, max_items=max_items)
        if values is None:
            return None
        if not all(isinstance(value, Mapping) for value in values):
            raise self._wrong_type(name, "a list of objects")
        # Positions count from 1 in AWS's messages ('targets.1.member.arn').
        return [Params(value, f"{self._where(name)}.{position}.member")
                for position, value in enumerate(values, start=1)]

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        """JSON 1.1 sends timestamps as seconds since the epoch; ISO 8601 text is taken too."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, tz=UTC)
            if isinstance(value, str):
                parsed = parse_datetime(value.strip())
                if parsed is not None:
                    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
                return datetime.fromtimestamp(float(value), tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
        raise self._wrong_type(name, "a timestamp (seconds since the epoch)")

    def required_timestamp(self, name: str) -> datetime:
        value = self.timestamp(name, required=True)
        assert value is not None
        return value

    def required_structure(self, name: str) -> Params:
        value = self.structure(name, required=True)
        assert value is not None
        return value

    def limit(self) -> int:
        value = self.integer("Limit", minimum=1, maximum=MAX_PAGE_LIMIT)
        return DEFAULT_PAGE_LIMIT if value is None else value

    def refuse(self, *names: str, why: str) -> None:
        """Refuses members for features this bus does not have, rather than ignoring them."""
        for name in names:
            if self.present(name):
                raise ValidationError(
                    f"{self._where(name)} is not supported by this event bus: {why} "
                    "See docs/aws-compat.md.",
                    field=self._where(name),
                )


def encode_next_token(action: str, after: str) -> str:
    raw = json.dumps({"op": action, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_next_token(params: Params, action: str) -> str | None:
    """The key the previous page ended on, from the NextToken it returned (None: first page)."""
    token = params.string("NextToken")
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        decoded = None
    if (not isinstance(decoded, dict) or decoded.get("op") != action
            or not isinstance(decoded.get("after"), str)):
        raise ValidationError(
            "The NextToken is not valid: pass the NextToken the previous page of this same "
            "list returned, or none for the first page.",
            field="NextToken",
        )
    after: str = decoded["after"]
    return after
