"""The AWS protocol's own refusals, in the bus's one error type, and the HTTP status AWS gives each
code. EventBridge answers every client error with 400 except a missing signature (403); only
InternalException is a 500, which AWS SDKs retry."""

from __future__ import annotations

from routing.errors import AccessDenied, RoutingError

__all__ = ["AccessDenied"]  # the bus's own refusal, which the AWS protocol shares

# The messages AWS itself sends, so that code matching on them keeps working.
UNRECOGNIZED_CLIENT_MESSAGE = "The security token included in the request is invalid."
INVALID_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)

HTTP_STATUS = {
    "MissingAuthenticationTokenException": 403,
    "RequestEntityTooLargeException": 413,
    "InternalException": 500,
    "ServiceUnavailable": 503,
}


def http_status_of(code: str) -> int:
    return HTTP_STATUS.get(code, 400)


class MissingAuthenticationToken(RoutingError):
    code = "MissingAuthenticationTokenException"


class IncompleteSignature(RoutingError):
    code = "IncompleteSignatureException"


class InvalidSignature(RoutingError):
    code = "InvalidSignatureException"


class UnrecognizedClient(RoutingError):
    code = "UnrecognizedClientException"


class UnknownOperation(RoutingError):
    code = "UnknownOperationException"


class SerializationError(RoutingError):
    code = "SerializationException"


class RequestTooLarge(RoutingError):
    code = "RequestEntityTooLargeException"


class ManagedRule(RoutingError):
    code = "ManagedRuleException"


class InternalFailure(RoutingError):
    code = "InternalException"


class ServiceUnavailable(RoutingError):
    """AWS's common 503 (botocore retries it, as it does every 5xx)."""

    code = "ServiceUnavailable"
