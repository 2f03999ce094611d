"""Validating an event pattern and compiling it into OR-ed branches of per-field conditions.

The structure follows EventBridge (event-ruler's JsonRuleCompiler):

- the pattern is a JSON object; a key maps to an object (a nested level) or to a non-empty array
  of values and match expressions (OR-ed); fields are AND-ed;
- `{"$or": [{...}, {...}]}` at any level forks the pattern: each alternative is merged into the
  fields gathered so far, and a later key with the same path overrides an earlier one, so
  `{"name": ["a"], "$or": [{"name": [...]}, {...}]}` lets the first alternative replace `name`;
- a key repeated in JSON text keeps its last value (Python's parser does the same).

Branch count, pattern size and wildcard complexity are limited as in EventBridge.
"""

from __future__ import annotations

import ipaddress
import json
import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from .conditions import CidrBlock, ConditionBuilder, FieldCondition, NumericRange
from .errors import InvalidPatternError
from .jsontext import JsonNumber, parse_pattern_text
from .values import FALSE, TRUE, ValueKey
from .wildcard import (
    MAX_WILDCARD_COMPLEXITY,
    TOO_COMPLEX,
    WildcardPattern,
    WildcardSyntaxError,
    parse_wildcard,
    wildcard_complexity,
)

MAX_PATTERN_LENGTH = 4096
"""Characters of pattern text (PutRule/TestEventPattern accept up to 4096; the EventBridge quota
page lists 2048 for rules, so pass max_length=2048 to enforce that instead)."""

MAX_OR_COMBINATIONS = 1000
"""EventBridge rejects patterns whose `$or` alternatives multiply out to over 1000 branches."""

OR_KEYWORD = "$or"
_VALUE_TYPES_MESSAGE = "Match value must be String, number, true, false, or null"
_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value."
_ANYTHING_BUT_LIST_TYPES = "Inside anything but list, start|null|boolean is not supported."
_ANYTHING_BUT_IGNORE_CASE_TYPES = (
    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
)
# event-ruler's wording for an extra key inside or beside an anything-but expression.
_ANYTHING_BUT_EXTRA_KEY = "Too many elements in numeric expression"
_NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")

Branch = dict[str, FieldCondition]


def parse_pattern(pattern: str | bytes | Mapping[str, Any], max_length: int) -> dict[str, Any]:
    """Turn pattern text (or an already parsed object) into a dict, enforcing the size limit."""
    if isinstance(pattern, bytes | bytearray):
        try:
            pattern = pattern.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidPatternError("Filter is not valid JSON") from None
    if isinstance(pattern, str):
        if len(pattern) > max_length:
            raise InvalidPatternError(_too_long(len(pattern), max_length))
        parsed = parse_pattern_text(pattern)
    else:
        parsed = pattern
        size = _serialized_length(parsed)
        if size > max_length:
            raise InvalidPatternError(_too_long(size, max_length))
    if not isinstance(parsed, Mapping):
        raise InvalidPatternError("Filter is not an object")
    return dict(parsed)


def _too_long(size: int, max_length: int) -> str:
    return f"Event pattern is {size} characters long; the limit is {max_length}"


def _serialized_length(pattern: object) -> int:
    try:
        return len(json.dumps(pattern, ensure_ascii=False, separators=(",", ":"), default=repr))
    except (TypeError, ValueError, RecursionError):
        return 0  # not JSON-serialisable: the compiler reports the offending value


def compile_branches(pattern: Mapping[str, Any]) -> list[Branch]:
    """Validate `pattern`; return its branches (the `$or` expansion), each `path -> condition`."""
    try:
        return _expand_object(pattern, "", "")
    except RecursionError:
        raise InvalidPatternError("Pattern nesting is too deep") from None


def _location(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _expand_object(obj: Mapping[str, Any], path_prefix: str, location: str) -> list[Branch]:
    if not obj:
        raise InvalidPatternError("Empty objects are not allowed", location or None)
    branches: list[Branch] = [{}]
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidPatternError("Field names must be strings", location or None)
        key_location = _location(location, key)
        if key == OR_KEYWORD and _is_or_relationship(value):
            alternatives: list[Branch] = []
            for index, alternative in enumerate(value):
                alternative_location = f"{key_location}[{index}]"
                if not isinstance(alternative, Mapping):
                    raise InvalidPatternError(
                        "Only JSON object is allowed in array of $or relationship.",
                        alternative_location,
                    )
                alternatives.extend(_expand_object(alternative, path_prefix, alternative_location))
                _check_combinations(len(alternatives), key_location)
            if len(value) < 2:
                raise InvalidPatternError(
                    "There must have at least 2 Objects in $or relationship.", key_location
                )
            branches = _product(branches, alternatives, key_location)
        elif isinstance(value, Mapping):
            nested = _expand_object(value, path_prefix + key + ".", key_location)
            branches = _product(branches, nested, key_location)
        elif isinstance(value, list | tuple):
            condition = _compile_field(path_prefix + key, key_location, value)
            for branch in branches:
                branch[condition.path] = condition
        else:
            raise InvalidPatternError(f'"{key}" must be an object or an array', key_location)
    return branches


def _is_or_relationship(value: object) -> bool:
    """`$or` holding objects is an OR of sub-patterns; holding plain values it is a field name."""
    return isinstance(value, list | tuple) and bool(value) and isinstance(value[0], Mapping)


def _product(branches: list[Branch], extensions: list[Branch], location: str) -> list[Branch]:
    _check_combinations(len(branches) * len(extensions), location)
    if len(extensions) == 1:
        (extension,) = extensions
        for branch in branches:
            branch.update(extension)
        return branches
    return [{**branch, **extension} for branch in branches for extension in extensions]


def _check_combinations(count: int, location: str) -> None:
    if count > MAX_OR_COMBINATIONS:
        raise InvalidPatternError(
            f"The $or alternatives of the pattern combine into more than {MAX_OR_COMBINATIONS} "
            "branches",
            location,
        )


# Compiled fields are shared between patterns: rules repeat the same source, detail-type and
# operators many times over. Entries live as long as some pattern uses them.
_SHARED_CONDITIONS: weakref.WeakValueDictionary[tuple[str, str], FieldCondition] = (
    weakref.WeakValueDictionary()
)


def _compile_field(path: str, location: str, values: Sequence[Any]) -> FieldCondition:
    try:
        # Spelled with types, so 1, 1.0 (same key) share but true and 1 do not collide.
        cache_key = (path, json.dumps(values, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return _build_field(path, location, values)
    condition = _SHARED_CONDITIONS.get(cache_key)
    if condition is None:
        condition = _build_field(path, location, values)
        _SHARED_CONDITIONS[cache_key] = condition
    return condition


def _build_field(path: str, location: str, values: Sequence[Any]) -> FieldCondition:
    if not values:
        raise InvalidPatternError("Empty arrays are not allowed", location)
    builder = ConditionBuilder(path)
    for value in values:
        if isinstance(value, Mapping):
            _compile_match_expression(value, builder, location)
        else:
            builder.exact.add(_exact_value(value, location))
    wildcards = builder.all_wildcards()
    if wildcards:
        complexity = wildcard_complexity(wildcards, MAX_WILDCARD_COMPLEXITY)
        if complexity > MAX_WILDCARD_COMPLEXITY:
            raise InvalidPatternError(TOO_COMPLEX, location)
    return builder.build()


def _exact_value(value: object, location: str) -> ValueKey:
    if value is None:
        return None
    if value is True:
        return TRUE
    if value is False:
        return FALSE
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _finite_number(value, location)
    raise InvalidPatternError(_VALUE_TYPES_MESSAGE, location)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite_number(value: int | float, location: str) -> float:
    """A pattern number as a float; like event-ruler, refuse what a double cannot hold."""
    spelled = value.text if isinstance(value, JsonNumber) else repr(value)
    try:
        number = float(value)
    except OverflowError:
        raise InvalidPatternError(f"Cannot compare number : {spelled}", location) from None
    if not math.isfinite(number) or (number == 0 and _has_nonzero_digit(spelled)):
        raise InvalidPatternError(f"Cannot compare number : {spelled}", location)
    return number


def _has_nonzero_digit(spelled: str) -> bool:
    mantissa = spelled.lower().split("e", 1)[0]
    return any(char in "123456789" for char in mantissa)


def _compile_match_expression(
    expression: Mapping[str, Any], builder: ConditionBuilder, location: str
) -> None:
    if not expression:
        raise InvalidPatternError("Empty objects are not allowed", location)
    operator, operand = next(iter(expression.items()))
    if operator == "anything-but":
        _compile_anything_but(operand, builder, location)
        if len(expression) > 1:
            raise InvalidPatternError(_ANYTHING_BUT_EXTRA_KEY, location)
        return
    if len(expression) > 1:
        raise InvalidPatternError("Only one key allowed in match expression", location)
    if operator == "prefix":
        _compile_prefix_or_suffix(operand, "prefix", builder, location)
    elif operator == "suffix":
        _compile_prefix_or_suffix(operand, "suffix", builder, location)
    elif operator == "equals-ignore-case":
        builder.equals_ignore_case.add(_ignore_case_string(operand, location).lower())
    elif operator == "wildcard":
        builder.wildcards.append(_wildcard(operand, location))
    elif operator == "numeric":
        builder.numeric.append(_numeric(operand, location))
    elif operator == "exists":
        if operand is True:
            builder.any_value = True
        elif operand is False:
            builder.allows_absent = True
        else:
            raise InvalidPatternError(
                "exists match pattern must be either true or false.", location
            )
    elif operator == "cidr":
        if not isinstance(operand, str):
            # EventBridge's wording for a non-string CIDR, checked against AWS.
            raise InvalidPatternError("prefix match pattern must be a string", location)
        builder.cidrs.append(_cidr(operand, location))
    elif operator == "exactly":
        # event-ruler's explicit form of an exact string match.
        if not isinstance(operand, str):
            raise InvalidPatternError("exact match pattern must be a string", location)
        builder.exact.add(str(operand))
    else:
        raise InvalidPatternError(f"Unrecognized match type {operator}", location)


def _compile_prefix_or_suffix(
    operand: object, operator: str, builder: ConditionBuilder, location: str
) -> None:
    if isinstance(operand, str):
        (builder.prefixes if operator == "prefix" else builder.suffixes).append(str(operand))
        return
    if isinstance(operand, Mapping) and operand:
        inner, value = next(iter(operand.items()))
        if inner != "equals-ignore-case":
            raise InvalidPatternError(f"Unsupported {operator} pattern: {inner}", location)
        if len(operand) > 1:
            raise InvalidPatternError("Only one key allowed in match expression", location)
        text = _ignore_case_string(value, location)
        if operator == "prefix":
            builder.prefixes_ignore_case.append(text)
        else:
            builder.suffixes_ignore_case.append(text)
        return
    raise InvalidPatternError(f"{operator} match pattern must be a string", location)


def _ignore_case_string(operand: object, location: str) -> str:
    if not isinstance(operand, str):
        raise InvalidPatternError("equals-ignore-case match pattern must be a string", location)
    return str(operand)


def _wildcard(operand: object, location: str) -> WildcardPattern:
    if not isinstance(operand, str):
        raise InvalidPatternError("wildcard match pattern must be a string", location)
    try:
        return parse_wildcard(str(operand))
    except WildcardSyntaxError as error:
        raise InvalidPatternError(str(error), location) from None


def _numeric(operand: object, location: str) -> NumericRange:
    if not isinstance(operand, list | tuple):
        raise InvalidPatternError("Value of numeric must be an array.", location)
    if not operand:
        raise InvalidPatternError("Empty arrays are not allowed", location)
    first_operator = operand[0]
    if not isinstance(first_operator, str) or first_operator not in _NUMERIC_OPERATORS:
        raise InvalidPatternError(
            f"Unrecognized numeric range operator: {_spell(first_operator)}", location
        )
    first_value = _numeric_operand(operand, 1, first_operator, location)
    if first_operator == "=":
        if len(operand) > 2:
            raise InvalidPatternError("Too many elements in numeric expression", location)
        return NumericRange(first_value, True, first_value, True)
    if first_operator in ("<", "<="):
        if len(operand) > 2:
            raise InvalidPatternError("Too many elements in numeric expression", location)
        return NumericRange(None, False, first_value, first_operator == "<=")
    lower_inclusive = first_operator == ">="
    if len(operand) == 2:
        return NumericRange(first_value, lower_inclusive, None, False)
    second_operator = operand[2]
    if not isinstance(second_operator, str) or second_operator not in _NUMERIC_OPERATORS:
        raise InvalidPatternError(
            f"Unrecognized numeric range operator: {_spell(second_operator)}", location
        )
    if second_operator not in ("<", "<="):
        raise InvalidPatternError(f"Bad numeric range operator: {second_operator}", location)
    second_value = _numeric_operand(operand, 3, second_operator, location)
    if len(operand) > 4:
        raise InvalidPatternError("Too many terms in numeric range expression", location)
    if not first_value < second_value:
        raise InvalidPatternError("Bottom must be less than top", location)
    return NumericRange(first_value, lower_inclusive, second_value, second_operator == "<=")


def _numeric_operand(operand: Sequence[Any], index: int, operator: str, location: str) -> float:
    value = operand[index] if index < len(operand) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        name = "equals" if operator == "=" else operator
        raise InvalidPatternError(f"Value of {name} must be numeric", location)
    return _finite_number(value, location)


def _spell(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, JsonNumber):
        return value.text
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _cidr(text: str, location: str) -> CidrBlock:
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidPatternError("Malformed CIDR, one '/' required", location)
    address_text, mask_text = parts
    if not mask_text.isascii() or not mask_text.isdigit():
        raise InvalidPatternError("Malformed CIDR, mask bits must be an integer", location)
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        raise InvalidPatternError(f"Nonstandard IP address: {address_text}", location) from None
    mask_bits = int(mask_text)
    if mask_bits > address.max_prefixlen:
        raise InvalidPatternError(
            f"Malformed CIDR, mask bits must be between 0 and {address.max_prefixlen}", location
        )
    all_ones = (1 << address.max_prefixlen) - 1
    mask = all_ones ^ ((1 << (address.max_prefixlen - mask_bits)) - 1)
    return CidrBlock(address.version, int(address) & mask, mask)


def _compile_anything_but(operand: object, builder: ConditionBuilder, location: str) -> None:
    if isinstance(operand, str):
        builder.anything_but_values.append(frozenset({str(operand)}))
    elif _is_number(operand):
        builder.anything_but_values.append(frozenset({_finite_number(operand, location)}))  # type: ignore[arg-type]
    elif isinstance(operand, list | tuple):
        builder.anything_but_values.append(_anything_but_list(operand, location))
    elif isinstance(operand, Mapping) and operand:
        _compile_anything_but_operator(operand, builder, location)
    else:
        raise InvalidPatternError(_ANYTHING_BUT_VALUE, location)


def _anything_but_list(values: Sequence[Any], location: str) -> frozenset[ValueKey]:
    if not values:
        raise InvalidPatternError("Empty arrays are not allowed", location)
    excluded: set[ValueKey] = set()
    kinds: set[str] = set()
    for value in values:
        if isinstance(value, str):
            kinds.add("string")
            excluded.add(str(value))
        elif _is_number(value):
            kinds.add("number")
            excluded.add(_finite_number(value, location))
        else:
            raise InvalidPatternError(_ANYTHING_BUT_LIST_TYPES, location)
    if len(kinds) > 1:
        raise InvalidPatternError(
            "Inside anything but list, either all values are number or string, mixed type is "
            "not supported",
            location,
        )
    return frozenset(excluded)


def _compile_anything_but_operator(
    operand: Mapping[str, Any], builder: ConditionBuilder, location: str
) -> None:
    operator, value = next(iter(operand.items()))
    if operator in ("prefix", "suffix"):
        affixes = _anything_but_affixes(value, location)
        if operator == "prefix":
            builder.anything_but_prefixes.append(affixes)
        else:
            builder.anything_but_suffixes.append(affixes)
    elif operator == "equals-ignore-case":
        texts = _string_or_strings(value, _ANYTHING_BUT_IGNORE_CASE_TYPES, location)
        builder.anything_but_ignore_case.append(frozenset(text.lower() for text in texts))
    elif operator == "wildcard":
        texts = _string_or_strings(value, "wildcard match pattern must be a string", location)
        builder.anything_but_wildcards.append(tuple(_wildcard(text, location) for text in texts))
    else:
        raise InvalidPatternError(f"Unsupported anything-but pattern: {operator}", location)
    if len(operand) > 1:
        raise InvalidPatternError(_ANYTHING_BUT_EXTRA_KEY, location)


def _anything_but_affixes(value: object, location: str) -> tuple[str, ...]:
    if isinstance(value, Mapping):
        raise InvalidPatternError(_ANYTHING_BUT_VALUE, location)
    texts = _string_or_strings(value, "prefix/suffix match pattern must be a string", location)
    if any(text == "" for text in texts):
        raise InvalidPatternError("Null prefix/suffix not allowed", location)
    return tuple(texts)


def _string_or_strings(value: object, message: str, location: str) -> list[str]:
    if isinstance(value, str):
        return [str(value)]
    if isinstance(value, list | tuple):
        if not value:
            raise InvalidPatternError("Empty arrays are not allowed", location)
        if all(isinstance(item, str) for item in value):
            return [str(item) for item in value]
    raise InvalidPatternError(message, location)
