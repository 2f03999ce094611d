"""The Scheduler endpoint: AWS's REST-JSON protocol, as boto3's `scheduler` client speaks it
(`POST /schedules/{Name}`, `GET /schedules?NamePrefix=…`), signed with SigV4 for the service
`scheduler` by an issued credential. Answers are JSON; refusals carry AWS's status, an
`x-amzn-ErrorType` header (which botocore reads the error code from) and `{"Message": …}`."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from routing.aws.auth import authenticate
from routing.aws.params import Params
from routing.aws.scheduler.actions import ROUTES, SchedulerRequest
from routing.aws.views import _read_body, _signed_request
from routing.errors import RoutingError

logger = logging.getLogger(__name__)

SERVICE = "scheduler"
CONTENT_TYPE = "application/json"

# The bus's error codes in the Scheduler's words, and the statuses its model gives them.
CODES = {
    "ResourceAlreadyExistsException": "ConflictException",
    "ConcurrentModificationException": "ConflictException",
    "LimitExceededException": "ServiceQuotaExceededException",
    "InternalException": "InternalServerException",
    "SerializationException": "ValidationException",
    "InvalidEventPatternException": "ValidationException",
}
STATUS = {
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "AccessDeniedException": 403,
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
    "InvalidSignatureException": 403,
    "UnrecognizedClientException": 403,
    "RequestEntityTooLargeException": 413,
    "UnknownOperationException": 404,
}


def _respond(status: int, body: dict[str, Any], request_id: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body, separators=(",", ":")), status=status,
                            content_type=CONTENT_TYPE)
    response["x-amzn-RequestId"] = request_id
    return response


def error_response(error: RoutingError, request_id: str) -> HttpResponse:
    code = CODES.get(error.code, error.code)
    response = _respond(STATUS.get(code, 400), {"Message": error.message}, request_id)
    response["x-amzn-ErrorType"] = code
    return response


def _json_body(body: bytes) -> Params:
    if not body.strip():
        return Params({})
    try:
        parsed = json.loads(body.decode("utf-8"))
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # no lone UTF-16 surrogates
    except (UnicodeError, ValueError, RecursionError) as error:
        raise RoutingError(f"The request body is not valid JSON text: {error}.",
                           code="ValidationException", field="body") from None
    if not isinstance(parsed, dict):
        raise RoutingError("The request body must be a JSON object.",
                           code="ValidationException", field="body")
    return Params(parsed)


def _handle(request: HttpRequest, resource: str, name: str | None) -> dict[str, Any]:
    body = _read_body(request)
    caller = authenticate(_signed_request(request, body), service=SERVICE,
                          required_signed_headers=("host",))
    action = ROUTES.get((str(request.method), resource, name is not None))
    if action is None:
        raise RoutingError(
            f"No Scheduler action answers {request.method} /{resource}"
            f"{'/{Name}' if name is not None else ''} (see docs/aws-compat.md).",
            code="UnknownOperationException")
    query = {key: request.GET[key] for key in request.GET}
    lists = {key: request.GET.getlist(key) for key in request.GET}
    return action(SchedulerRequest(name=name, query=query, body=_json_body(body), caller=caller,
                                   query_lists=lists))


def _endpoint(request: HttpRequest, resource: str, name: str | None) -> HttpResponse:
    request_id = str(uuid.uuid4())
    try:
        return _respond(200, _handle(request, resource, name), request_id)
    except RoutingError as error:
        return error_response(error, request_id)
    except Exception:
        logger.exception("Scheduler endpoint: request %s failed", request_id)
        return error_response(RoutingError(
            f"The request failed on the server (request id {request_id}).",
            code="InternalServerException"), request_id)


@csrf_exempt  # requests are signed with SigV4; no cookie is involved
def collection(request: HttpRequest, resource: str) -> HttpResponse:
    return _endpoint(request, resource, None)


@csrf_exempt
def item(request: HttpRequest, resource: str, name: str) -> HttpResponse:
    return _endpoint(request, resource, name)

