"""The one error a caller can cause, in both apps (HackSoft's single application error), and
the bus's refusals on it.

A service raises an `ApplicationError` (the bus's `RoutingError`, the shop's `OrderError` in
orders/workflow.py) with a message to show as it is, a stable `code`, the offending `field`
where there is one, the HTTP status to answer with and, for a page that needs them, `details`.
Every door renders it the same way (coffeeshop/error_rendering.py): JSON
`{"code", "message", "field"?, "details"?}`, on the form's field (or the form), as an error
message in the admin.

Pure Python with no Django import: orders/workflow.py, which imports nothing of Django, raises
it too."""

from __future__ import annotations

from typing import Any, ClassVar, NotRequired, TypedDict


class ErrorBody(TypedDict):
    """The JSON an error is answered with, by every JSON endpoint of both apps."""

    code: str
    message: str
    field: NotRequired[str]
    details: NotRequired[dict[str, Any]]


class ApplicationError(Exception):
    """A request refused with a reason a person can act on. Subclasses set `code` and
    `http_status` as class defaults; an instance may name its own."""

    code: str = "invalid"
    http_status: int = 400
    # Codes whose status differs from the class's (a subclass's table).
    STATUS_BY_CODE: ClassVar[dict[str, int]] = {}

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.http_status = http_status or self.STATUS_BY_CODE.get(self.code, self.http_status)
        self.details = details or {}

    def as_dict(self) -> ErrorBody:
        body: ErrorBody = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class RoutingError(ApplicationError):
    """A request the bus refuses. `code` is stable (EventBridge's wording where one exists),
    `field` names the offending input where there is one."""

    code = "ValidationException"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


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
