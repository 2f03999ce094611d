"""TestEventPattern, once: the REST API, the AWS-protocol endpoint and the dashboard call it."""

from __future__ import annotations

from typing import Any

from routing.errors import InvalidEventPattern, ValidationError
from routing.patterns import (
    InvalidEventError,
    InvalidPatternError,
    compile_pattern,
    parse_test_event,
)


def pattern_test(*, event_pattern: str | dict[str, Any], event: str | dict[str, Any]) -> bool:
    """Would a rule with this pattern match this event? The event must be a full envelope, as
    EventBridge requires; errors name the offending input (and the pattern's bad field)."""
    try:
        pattern = compile_pattern(event_pattern)
    except InvalidPatternError as error:
        where = f"EventPattern.{error.path}" if error.path else "EventPattern"
        raise InvalidEventPattern(str(error), field=where) from None
    try:
        parsed = parse_test_event(event)
    except InvalidEventError as error:
        reason = f" Reason: {error.detail}." if error.detail else ""
        raise ValidationError(f"{error}{reason}", field="Event") from None
    return pattern.matches(parsed)
