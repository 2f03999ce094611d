"""`api_destination` targets: the payload sent to an API destination's endpoint with its HTTP
method, authorized through its connection, at no more than its InvocationRateLimitPerSecond
across every worker (routing.destination_rate).

The target's HttpParameters fill the endpoint's `*` path wildcards in order
(PathParameterValues) and add headers and query-string parameters; each value is either fixed
text or a JSON path into the event (`$.detail.orderId`). The connection's
InvocationHttpParameters are added to every call (its body parameters merged into a JSON-object
payload). An OAuth connection whose token the API refuses (401, 407) fetches a new one and the
call is made once more. 2xx is success; 429, 5xx, time-outs and connection errors are retried
per the target's retry policy; other statuses are final.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import quote

from django.conf import settings

from routing import destination_rate
from routing.aws.credentials import CredentialUnreadable
from routing.models import (
    ApiDestination,
    AuthorizationType,
    Delivery,
    DeliveryStatus,
    Target,
    TargetKind,
)
from routing.services.connections import connection_parameters
from routing.services.oauth import connection_authorization_headers
from routing.targets.base import AttemptFailure, DeliveryContext, SendDeferred
from routing.targets.outbound import checked_url, failure_of, send_checked
from routing.transform.jsonpath import InvalidJsonPathError, parse_json_path

TIMEOUT_SECONDS = 5.0
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parameter_value(value: str, event: dict[str, Any]) -> str | None:
    """Fixed text, or what a JSON path selects in the event (None when it selects nothing)."""
    if not value.startswith("$"):
        return value
    try:
        found, selected = parse_json_path(value).find(event)
    except InvalidJsonPathError:
        return value
    if not found or selected is None:
        return None
    return selected if isinstance(selected, str) else json.dumps(selected)


def endpoint_with_path_values(endpoint: str, values: list[str], event: dict[str, Any]) -> str:
    wildcards = endpoint.count("*")
    if wildcards != len(values):
        raise AttemptFailure(
            "NO_RESOURCE",
            f"The endpoint {endpoint} has {wildcards} '*' path parameter(s) and the target "
            f"gives {len(values)} PathParameterValues.", retryable=False)
    parts = endpoint.split("*")
    filled = [parts[0]]
    for value, rest in zip(values, parts[1:], strict=True):
        text = parameter_value(value, event)
        if text is None:
            raise AttemptFailure("NO_RESOURCE", f"The path parameter {value} selects nothing "
                                 "in the event.", retryable=False)
        filled += [quote(text, safe=""), rest]
    return "".join(filled)


def _backlog(destination: ApiDestination) -> int:
    return Delivery.objects.filter(
        target__kind=TargetKind.API_DESTINATION, target__address=destination.name,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RUNNING],
    ).count()


def _wait_for_slot(destination: ApiDestination) -> None:
    rate = destination.invocation_rate_limit_per_second
    slot = destination_rate.slot_take(
        str(destination.uid), rate_per_second=rate,
        max_wait_seconds=settings.ROUTING_API_DESTINATION_MAX_WAIT_SECONDS)
    if slot.granted:
        if slot.wait_seconds > 0:
            time.sleep(slot.wait_seconds)
        return
    # Spread the put-off deliveries over the time the backlog needs at this rate, so that they
    # do not all come back for the same slot.
    spread = _backlog(destination) / rate
    raise SendDeferred(slot.wait_seconds + random.uniform(0, spread),  # noqa: S311 (jitter)
                       f"API destination {destination.name} is at its rate limit ({rate}/s).")


def _merged_body(payload: str, body_parameters: list[tuple[str, str]]) -> str:
    if not body_parameters:
        return payload
    try:
        parsed = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(parsed, dict):
        return payload
    return json.dumps({**dict(body_parameters), **parsed}, separators=(",", ":"))


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    destination = (ApiDestination.objects.select_related("connection")
                   .filter(name=target.address).first())
    if destination is None:
        raise AttemptFailure("NO_RESOURCE", f"API destination {target.address} does not exist.",
                             retryable=False)
    connection = destination.connection
    http = target.http_parameters or {}
    endpoint = endpoint_with_path_values(destination.invocation_endpoint,
                                         list(http.get("PathParameterValues", [])),
                                         context.event)
    url = checked_url(endpoint, what="API destination")
    try:
        parameters = connection_parameters(connection) or {}
    except CredentialUnreadable as error:
        raise AttemptFailure("CONNECTION_UNREADABLE", str(error), retryable=False) from None
    invocation = parameters.get("InvocationHttpParameters", {})
    query = {item["Key"]: item["Value"] for item in invocation.get("QueryStringParameters", [])}
    for key, value in (http.get("QueryStringParameters") or {}).items():
        text = parameter_value(value, context.event)
        if text is not None:
            query[key] = text
    if query:
        url = url.copy_merge_params(query)
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Idempotency-Key": context.idempotency_key}
    headers.update({item["Key"]: item["Value"]
                    for item in invocation.get("HeaderParameters", [])})
    for key, value in (http.get("HeaderParameters") or {}).items():
        text = parameter_value(value, context.event)
        if text is not None:
            headers[key] = text
    method = destination.http_method
    body = b""
    if method in METHODS_WITH_BODY:
        body_parameters = [(item["Key"], item["Value"])
                           for item in invocation.get("BodyParameters", [])]
        body = _merged_body(payload, body_parameters).encode()
    oauth = connection.authorization_type == AuthorizationType.OAUTH_CLIENT_CREDENTIALS
    for refreshed in (False, True):
        _wait_for_slot(destination)
        auth = connection_authorization_headers(connection, refresh=refreshed)
        response = send_checked(method, url, headers={**headers, **auth}, content=body,
                                timeout=TIMEOUT_SECONDS, what="API destination")
        if oauth and response.status_code in {401, 407} and not refreshed:
            continue
        break
    if 200 <= response.status_code < 300:
        return response.status_code
    raise failure_of(response, what="API destination")
