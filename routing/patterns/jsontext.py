"""Reading pattern text: strict JSON, duplicate keys (the last one wins), and Jackson-worded errors.

EventBridge parses patterns with Jackson, so its error reasons are Jackson's messages ("Unrecognized
token 'this': was expecting ..."). Python's decoder does the parsing; only when it fails does the
small scanner below walk the text again to find the first error and word it the way Jackson does.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InvalidPatternError

_EXPECTED_VALUE = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_WHITESPACE = " \t\r\n"
_SOURCE_EXCERPT = 500


class JsonNumber(float):
    """A number read from pattern text that keeps its spelling, so errors quote it as written."""

    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


class _NonNumericConstantError(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _reject_constant(token: str) -> Any:
    raise _NonNumericConstantError(token)


# Integers stay exact Python ints; other numbers keep their spelling for "Cannot compare number".
_DECODER = json.JSONDecoder(parse_float=JsonNumber, parse_constant=_reject_constant)


def parse_pattern_text(text: str) -> Any:
    """Parse JSON pattern text (duplicate keys keep the last; non-integers become JsonNumber)."""
    try:
        return _DECODER.decode(text)
    except _NonNumericConstantError as error:
        raise InvalidPatternError(
            f"Non-standard token '{error.token}': enable "
            "`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
        ) from None
    except json.JSONDecodeError as error:
        raise InvalidPatternError(jackson_error_message(text) or error.msg) from None
    except RecursionError:
        raise InvalidPatternError("Pattern nesting is too deep") from None
    except ValueError as error:  # an integer literal too long for int()
        raise InvalidPatternError(f"Invalid numeric value: {error}") from None


class _JacksonError(Exception):
    pass


def jackson_error_message(text: str) -> str | None:
    """The message Jackson gives for the first syntax error in `text` (None if it finds none)."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except _JacksonError as error:
        return str(error)
    except RecursionError:
        return "Pattern nesting is too deep"
    return None


def _describe(char: str) -> str:
    code = ord(char)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    return f"('{char}' (code {code}))"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _source(self, offset: int) -> str:
        text = self.text
        excerpt = text[:_SOURCE_EXCERPT]
        if len(text) > _SOURCE_EXCERPT:
            excerpt += f"[truncated {len(text) - _SOURCE_EXCERPT} chars]"
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return f'[Source: (String)"{excerpt}"; line: {line}, column: {column}]'

    def _skip_whitespace(self) -> str | None:
        text = self.text
        while self.pos < len(text) and text[self.pos] in _WHITESPACE:
            self.pos += 1
        return text[self.pos] if self.pos < len(text) else None

    def document(self) -> None:
        char = self._skip_whitespace()
        if char is None:
            raise _JacksonError("No content to map due to end-of-input")
        self.value(char)
        trailing = self._skip_whitespace()
        if trailing is not None:
            raise _JacksonError(
                f"Unexpected character {_describe(trailing)}: expected end of input after the "
                "pattern"
            )

    def value(self, char: str) -> None:
        if char == "{":
            self.object()
        elif char == "[":
            self.array()
        elif char == '"':
            self.string()
        elif char == "-" or char.isdigit():
            self.number()
        elif char.isalpha() or char in "_$":
            self.keyword()
        elif char in "]}":
            raise _JacksonError(
                f"Unexpected close marker '{char}': expected a value {_EXPECTED_VALUE}"
            )
        else:
            raise _JacksonError(
                f"Unexpected character {_describe(char)}: expected a valid value {_EXPECTED_VALUE}"
            )

    def keyword(self) -> None:
        text = self.text
        end = self.pos
        while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
            end += 1
        token = text[self.pos : end]
        if token in ("true", "false", "null"):
            self.pos = end
            return
        if token in ("NaN", "Infinity"):
            raise _JacksonError(
                f"Non-standard token '{token}': enable "
                "`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
            )
        raise _JacksonError(f"Unrecognized token '{token}': was expecting {_EXPECTED_VALUE}")

    def number(self) -> None:
        text = self.text
        start = self.pos
        end = start + 1 if text[start] == "-" else start
        digits_start = end
        while end < len(text) and text[end].isdigit():
            end += 1
        if end == digits_start:
            if text.startswith("Infinity", end):
                raise _JacksonError(
                    "Non-standard token '-Infinity': enable "
                    "`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
                )
            found = text[end] if end < len(text) else None
            detail = _describe(found) if found else "end-of-input"
            raise _JacksonError(
                f"Unexpected character {detail} in numeric value: expected digit (0-9) "
                "to follow minus sign, for valid numeric value"
            )
        if text[digits_start] == "0" and end - digits_start > 1:
            raise _JacksonError("Invalid numeric value: Leading zeroes not allowed")
        if end < len(text) and text[end] == ".":
            end += 1
            fraction_start = end
            while end < len(text) and text[end].isdigit():
                end += 1
            if end == fraction_start:
                raise _JacksonError(
                    "Unexpected character in numeric value: Decimal point not followed by a digit"
                )
        if end < len(text) and text[end] in "eE":
            end += 1
            if end < len(text) and text[end] in "+-":
                end += 1
            exponent_start = end
            while end < len(text) and text[end].isdigit():
                end += 1
            if end == exponent_start:
                raise _JacksonError(
                    "Unexpected character in numeric value: Exponent indicator not followed by a "
                    "digit"
                )
        self.pos = end

    def string(self) -> None:
        text = self.text
        end = self.pos + 1
        while True:
            if end >= len(text):
                raise _JacksonError(
                    "Unexpected end-of-input: was expecting closing quote for a string value"
                )
            char = text[end]
            if char == '"':
                self.pos = end + 1
                return
            if char == "\\":
                if end + 1 >= len(text):
                    raise _JacksonError(
                        "Unexpected end-of-input: was expecting closing quote for a string value"
                    )
                escaped = text[end + 1]
                if escaped == "u":
                    hex_digits = text[end + 2 : end + 6]
                    if len(hex_digits) < 4 or any(
                        c not in "0123456789abcdefABCDEF" for c in hex_digits
                    ):
                        raise _JacksonError(
                            "Unexpected character in unicode escape: expected a hex-digit for "
                            "character escape sequence"
                        )
                    end += 6
                    continue
                if escaped not in '"\\/bfnrt':
                    raise _JacksonError(
                        f"Unrecognized character escape '{escaped}' (code {ord(escaped)})"
                    )
                end += 2
                continue
            if ord(char) < 32:
                raise _JacksonError(
                    f"Illegal unquoted character ({_describe(char)}): has to be escaped using "
                    "backslash to be included in string value"
                )
            end += 1

    def object(self) -> None:
        start = self.pos
        self.pos += 1
        char = self._skip_whitespace()
        if char == "}":
            self.pos += 1
            return
        while True:
            if char is None:
                raise _JacksonError(
                    "Unexpected end-of-input: expected close marker for Object (start marker at "
                    f"{self._source(start)})"
                )
            if char != '"':
                raise _JacksonError(
                    f"Unexpected character {_describe(char)}: was expecting double-quote to start "
                    "field name"
                )
            self.string()
            char = self._skip_whitespace()
            if char != ":":
                if char is None:
                    raise _JacksonError(
                        "Unexpected end-of-input: expected close marker for Object (start marker "
                        f"at {self._source(start)})"
                    )
                raise _JacksonError(
                    f"Unexpected character {_describe(char)}: was expecting a colon to separate "
                    "field name and value"
                )
            self.pos += 1
            char = self._skip_whitespace()
            if char is None:
                raise _JacksonError("Unexpected end-of-input within/between Object entries")
            self.value(char)
            char = self._skip_whitespace()
            if char == "}":
                self.pos += 1
                return
            if char == ",":
                self.pos += 1
                char = self._skip_whitespace()
                continue
            if char == "]":
                raise _JacksonError(
                    f"Unexpected close marker ']': expected '}}' (for Object starting at "
                    f"{self._source(start)})"
                )
            if char is None:
                raise _JacksonError(
                    "Unexpected end-of-input: expected close marker for Object (start marker at "
                    f"{self._source(start)})"
                )
            raise _JacksonError(
                f"Unexpected character {_describe(char)}: was expecting comma to separate Object "
                "entries"
            )

    def array(self) -> None:
        start = self.pos
        self.pos += 1
        char = self._skip_whitespace()
        if char == "]":
            self.pos += 1
            return
        while True:
            if char is None:
                raise _JacksonError(
                    "Unexpected end-of-input: expected close marker for Array (start marker at "
                    f"{self._source(start)})"
                )
            self.value(char)
            char = self._skip_whitespace()
            if char == "]":
                self.pos += 1
                return
            if char == ",":
                self.pos += 1
                char = self._skip_whitespace()
                continue
            if char == "}":
                raise _JacksonError(
                    f"Unexpected close marker '}}': expected ']' (for Array starting at "
                    f"{self._source(start)})"
                )
            if char is None:
                raise _JacksonError(
                    "Unexpected end-of-input: expected close marker for Array (start marker at "
                    f"{self._source(start)})"
                )
            raise _JacksonError(
                f"Unexpected character {_describe(char)}: was expecting comma to separate Array "
                "entries"
            )
