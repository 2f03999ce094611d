"""Errors raised for invalid event patterns, worded the way EventBridge words them."""

from __future__ import annotations

PATTERN_ERROR_PREFIX = "Event pattern is not valid. Reason: "
EVENT_ERROR_MESSAGE = "Parameter Event is not valid."


class InvalidPatternError(ValueError):
    """An event pattern EventBridge would reject (`InvalidEventPatternException`).

    `str(error)` is the full AWS-style message, `reason` the part after "Reason: ", and `path` the
    dotted location of the offending field inside the pattern (for example `detail.price` or
    `$or[1].detail.state`), or None when the problem is not tied to one field (malformed JSON, a
    pattern that is not an object, a size limit).
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(PATTERN_ERROR_PREFIX + reason)
        self.reason = reason
        self.path = path

    @property
    def message(self) -> str:
        return PATTERN_ERROR_PREFIX + self.reason

    def __reduce__(self) -> tuple[type[InvalidPatternError], tuple[str, str | None]]:
        return (type(self), (self.reason, self.path))


class InvalidEventError(ValueError):
    """An event TestEventPattern rejects (`ValidationException: Parameter Event is not valid.`)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(EVENT_ERROR_MESSAGE)
        self.detail = detail
