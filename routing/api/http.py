"""The API's plumbing: one decorator that checks the method, authenticates and renders every
refusal in the one error shape, and a body reader that never lets bad input become a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from routing.api.auth import Caller, authenticate, enforce_csrf
from routing.api.errors import (
    InternalFailure,
    MethodNotAllowed,
    NotAuthenticated,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from routing.errors import RoutingError, ValidationError
from routing.services.publish import MAX_REQUEST_BYTES

# A full PutEvents request is 1 MB of entries. Detail travels as JSON text inside the JSON
# body, so its quotes and backslashes arrive escaped, and SDKs \u-escape non-ASCII (boto3 does):
# 'é' is 2 bytes counted and 6 sent, an emoji 4 and 12. Three times the limit, plus room for the
# envelope, admits every valid request and nothing much larger.
MAX_BODY_BYTES = 3 * MAX_REQUEST_BYTES + 64 * 1024
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

P = ParamSpec("P")
AuthenticatedView = Callable[Concatenate[HttpRequest, Caller, P], HttpResponse]
PublicView = Callable[Concatenate[HttpRequest, P], HttpResponse]


def error_response(error: RoutingError) -> JsonResponse:
    response = JsonResponse(error.as_dict(), status=error.http_status)
    if isinstance(error, NotAuthenticated):
        response["WWW-Authenticate"] = 'Bearer realm="coffeeshop"'
    if isinstance(error, MethodNotAllowed):
        response["Allow"] = ", ".join(error.allowed)
    return response


def unavailable_response(retry_after: int) -> JsonResponse:
    """What the API answers while the database is down (coffeeshop.unavailable decides when)."""
    response = error_response(ServiceUnavailable(
        f"The service is briefly unavailable (its database is not answering); retry in "
        f"{retry_after} seconds. Events already accepted are safe."))
    response["Retry-After"] = str(retry_after)
    return response


def internal_failure_response() -> JsonResponse:
    """An unexpected failure, in the API's own shape rather than an HTML page."""
    return error_response(InternalFailure("The request failed on the server; it was logged."))


def _allowed(methods: tuple[str, ...]) -> tuple[str, ...]:
    return (*methods, "HEAD") if "GET" in methods and "HEAD" not in methods else methods


def _check_declared_length(request: HttpRequest) -> None:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The request body is {declared:,} bytes; the limit is {MAX_BODY_BYTES:,}.",
            field="body",
        )


def api_view(*methods: str) -> Callable[[AuthenticatedView[P]], PublicView[P]]:
    """For views that need a caller: the view gets `(request, caller, **url_kwargs)`."""
    allowed = _allowed(methods)

    def decorate(view: AuthenticatedView[P]) -> PublicView[P]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise MethodNotAllowed(str(request.method), allowed)
                caller = authenticate(request)
                _check_declared_length(request)
                if caller.uses_session and request.method not in SAFE_METHODS:
                    enforce_csrf(request)
                return view(request, caller, *args, **kwargs)
            except RoutingError as error:
                return error_response(error)

        wrapper.allowed_methods = allowed  # type: ignore[attr-defined]
        # Key callers send no CSRF token; session callers are checked in the wrapper instead.
        return csrf_exempt(wrapper)

    return decorate


def public_view(*methods: str) -> Callable[[PublicView[P]], PublicView[P]]:
    """For views anyone may read (the API's description): method check and error shape only."""
    allowed = _allowed(methods)

    def decorate(view: PublicView[P]) -> PublicView[P]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise MethodNotAllowed(str(request.method), allowed)
                return view(request, *args, **kwargs)
            except RoutingError as error:
                return error_response(error)

        wrapper.allowed_methods = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def read_json(request: HttpRequest) -> Any:
    """The request body as JSON, or a RoutingError saying exactly what is wrong with it."""
    # Read the stream ourselves: request.body refuses more than DATA_UPLOAD_MAX_MEMORY_SIZE
    # (2.5 MB, less than a valid full request) yet caps nothing when no length is declared.
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.",
                              field="body")
    if not raw.strip():
        raise ValidationError("The request body is empty; send a JSON object.", field="body")
    content_type = (request.content_type or "").lower()
    if content_type != "application/json":
        raise UnsupportedMediaType(
            f"Send the body as JSON with 'Content-Type: application/json' "
            f"(got {content_type or 'no content type'}).",
            field="Content-Type",
        )
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(f"JSON bodies must be UTF-8 (got charset={charset}).",
                                   field="Content-Type")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(f"The request body is not valid UTF-8 ({error.reason} at byte "
                              f"{error.start}).", field="body") from None
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValidationError("The request body is not valid JSON: it is nested too deeply.",
                              field="body") from None
    except ValueError as error:
        raise ValidationError(f"The request body is not valid JSON: {error}.",
                              field="body") from None
    _refuse_lone_surrogates(body)
    return body


def _refuse_lone_surrogates(value: Any) -> None:
    """JSON's \\u escapes can spell half a UTF-16 pair, which is no character: nothing
    downstream can encode it, so it is refused here rather than failing deep inside a write."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, str) and not current.isascii():
            try:
                current.encode("utf-8")
            except UnicodeEncodeError as error:
                code = ord(current[error.start])
                raise ValidationError(
                    f"The request body is not valid JSON text: it holds a lone surrogate "
                    f"(\\u{code:04x}), which is not a character.",
                    field="body",
                ) from None


def read_json_object(request: HttpRequest, *, required: tuple[str, ...]) -> dict[str, Any]:
    """A JSON object body holding every `required` member (not null)."""
    body = read_json(request)
    if not isinstance(body, dict):
        raise ValidationError(
            f"The request body must be a JSON object with {', '.join(required)}, not "
            f"{_json_type(body)}.",
            field="body",
        )
    for name in required:
        if body.get(name) is None:
            raise ValidationError(f"{name} is a required argument.", field=name)
    return body


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def parse_uuid(value: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"{field} {value[:100]!r} is not a UUID.", field=field) from None
