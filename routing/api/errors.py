"""The HTTP API's own refusals, in the bus's one error type so they render like every other."""

from __future__ import annotations

from routing.errors import RoutingError


class NotAuthenticated(RoutingError):
    code = "UnrecognizedClientException"
    http_status = 401


class PermissionDenied(RoutingError):
    code = "AccessDeniedException"
    http_status = 403


class MethodNotAllowed(RoutingError):
    code = "MethodNotAllowed"
    http_status = 405

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"Method {method} is not allowed here; use {' or '.join(allowed)}.")
        self.allowed = allowed


class PayloadTooLarge(RoutingError):
    code = "RequestEntityTooLarge"
    http_status = 413


class UnsupportedMediaType(RoutingError):
    code = "UnsupportedMediaType"
    http_status = 415


class ServiceUnavailable(RoutingError):
    """The database cannot be reached just now: retry after `Retry-After` seconds."""

    code = "ServiceUnavailable"
    http_status = 503


class InternalFailure(RoutingError):
    code = "InternalFailure"
    http_status = 500
