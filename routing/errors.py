"""The one error type a caller of the bus can cause, with a stable code and a clear message."""

from __future__ import annotations


class RoutingError(Exception):
    """A request the bus refuses. `code` is stable (EventBridge's wording where one exists),
    `field` names the offending input where there is one."""

    code = "ValidationException"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationError(RoutingError):
    code = "ValidationException"


class NotFound(RoutingError):
    code = "ResourceNotFoundException"
    http_status = 404


class AlreadyExists(RoutingError):
    code = "ResourceAlreadyExistsException"
    http_status = 409


class ConcurrentModification(RoutingError):
    """Someone else changed the thing since the caller last read it."""

    code = "ConcurrentModificationException"
    http_status = 409


class AccessDenied(RoutingError):
    """The caller was not given what it asks for: a bus, or a kind of target."""

    code = "AccessDeniedException"
    http_status = 403


class LimitExceeded(RoutingError):
    code = "LimitExceededException"


class InvalidEventPattern(RoutingError):
    code = "InvalidEventPatternException"


class ImmutableEventError(RoutingError):
    """Events are facts: nothing changes or removes one (but the retention purge)."""

    code = "ImmutableEvent"
    http_status = 409
