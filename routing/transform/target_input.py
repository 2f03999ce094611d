"""A target's input as EventBridge describes it: at most one of Input, InputPath and
InputTransformer, read from and written as EventBridge's field names."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.transform.definitions import InvalidTargetInputError
from routing.transform.validation import validate_input_fields


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


def validate_target_input(target_input: TargetInput, *, target_id: str | None = None) -> None:
    """Check a target's input the way PutTargets does; raise InvalidTargetInputError naming the
    field. Messages use EventBridge's wording where it is known."""
    transformer = target_input.input_transformer
    validate_input_fields(
        input_text=target_input.input,
        input_path=target_input.input_path,
        input_template=None if transformer is None else transformer.input_template,
        input_paths_map={} if transformer is None else transformer.input_paths_map,
        target_id=target_id,
    )
