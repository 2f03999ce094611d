"""The AWS endpoint: `POST` with `X-Amz-Target: AWSEvents.<Action>` and an AWS JSON 1.1 body,
signed with SigV4 by an issued credential. Answers are JSON 1.1; refusals are
`{"__type": CODE, "message": …}` with AWS's status and an `x-amzn-ErrorType` header, which is
how botocore picks the exception class it raises."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt

from coffeeshop.unavailable import is_database_unavailable, render_unavailable
from routing.api.http import MAX_BODY_BYTES
from routing.aws import actions, sigv4
from routing.aws.auth import AwsCaller, authenticate, request_headers
from routing.aws.errors import (
    InternalFailure,
    RequestTooLarge,
    SerializationError,
    ServiceUnavailable,
    UnknownOperation,
    http_status_of,
)
from routing.errors import RoutingError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSEvents."


def _respond(status: int, body: bytes, request_id: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPE)
    response["x-amzn-RequestId"] = request_id
    return response


def error_response(error: RoutingError, request_id: str) -> HttpResponse:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    response = _respond(http_status_of(error.code), body, request_id)
    response["x-amzn-ErrorType"] = error.code
    return response


def unavailable_response(retry_after: int, request_id: str | None = None) -> HttpResponse:
    response = error_response(ServiceUnavailable(
        f"The service is briefly unavailable (its database is not answering); retry in "
        f"{retry_after} seconds."), request_id or str(uuid.uuid4()))
    response["Retry-After"] = str(retry_after)
    return response


def _read_body(request: HttpRequest) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise RequestTooLarge(f"The request body is {declared:,} bytes; the limit is "
                              f"{MAX_BODY_BYTES:,}.", field="body")
    # Read the stream ourselves: request.body stops at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB),
    # less than a valid PutEvents request of ten full entries.
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.",
                              field="body")
    return raw


def _raw_path(request: HttpRequest) -> str:
    # The path exactly as sent is what the client signed; ASGI servers pass it along.
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes):
        return scope["raw_path"].decode("latin-1")
    return escape_uri_path(request.path)


def _signed_request(request: HttpRequest, body: bytes) -> sigv4.HttpRequest:
    return sigv4.HttpRequest(
        method=str(request.method),
        path=_raw_path(request),
        query_string=request.META.get("QUERY_STRING", ""),
        headers=request_headers(request.headers),
        body=body,
    )


def _action(request: HttpRequest) -> str:
    target = request.headers.get("X-Amz-Target", "")
    service, _, action = target.partition(".")
    if f"{service}." != TARGET_PREFIX or action not in actions.ACTIONS:
        raise UnknownOperation(
            f"Unknown operation {target[:100]!r}: send X-Amz-Target: AWSEvents.<Action> with "
            f"one of {', '.join(sorted(actions.ACTIONS))}.",
            field="X-Amz-Target",
        )
    return action


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_body(request: HttpRequest, body: bytes) -> dict[str, Any]:
    content_type = (request.content_type or "").lower()
    if content_type != CONTENT_TYPE:
        raise SerializationError(
            f"Send the body as AWS JSON 1.1 with 'Content-Type: {CONTENT_TYPE}' (got "
            f"{content_type or 'no content type'}).",
            field="Content-Type",
        )
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        # A \u escape can spell half a UTF-16 pair, which is no character and cannot be stored.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as error:
        raise SerializationError(f"The request body is not valid JSON text: {error}.",
                                 field="body") from None
    if not isinstance(parsed, dict):
        raise SerializationError("The request body must be a JSON object.", field="body")
    return parsed


@csrf_exempt  # requests are signed with SigV4; no cookie is involved
def endpoint(request: HttpRequest) -> HttpResponse:
    request_id = str(uuid.uuid4())
    try:
        if request.method != "POST":
            response = error_response(UnknownOperation(
                "This is the AWS protocol endpoint of the event bus: POST AWS JSON 1.1 requests "
                "with X-Amz-Target: AWSEvents.<Action> (see docs/aws-compat.md)."), request_id)
            response.status_code = 405
            response["Allow"] = "POST"
            return response
        body = _read_body(request)
        caller: AwsCaller = authenticate(_signed_request(request, body))
        action = _action(request)
        output = actions.dispatch(action, _json_body(request, body), caller)
        return _respond(200, actions.dumps(output), request_id)
    except RoutingError as error:
        return error_response(error, request_id)
    except Exception as error:
        if is_database_unavailable(error):
            return render_unavailable(request, error)
        logger.exception("AWS endpoint: request %s failed", request_id)
        return error_response(InternalFailure(
            f"The request failed on the server (request id {request_id})."), request_id)
