"""The API's endpoints: thin, each reads its input, calls services and selectors and answers
JSON. Every refusal is a RoutingError, rendered by `api_view` as {"code", "message", "field"}."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from routing.api.auth import Caller
from routing.api.docs import docs_context, openapi_document, render_docs_page
from routing.api.errors import PermissionDenied
from routing.api.http import api_view, parse_uuid, public_view, read_json_object
from routing.errors import NotFound, ValidationError
from routing.models import DeliveryStatus
from routing.selectors import deliveries_overview, event_trace
from routing.services import deliveries_redrive, delivery_redrive, put_events
from routing.services.patterns import pattern_test

MAX_REDRIVE_IDS = 100
REDRIVABLE = {DeliveryStatus.DEAD, DeliveryStatus.DROPPED}


@api_view("POST")
def events(request: HttpRequest, caller: Caller) -> HttpResponse:
    """PutEvents: each entry is stored or fails alone."""
    body = read_json_object(request, required=("Entries",))
    result = put_events(
        body["Entries"],
        publisher=caller.publisher,
        allowed_bus_names=set(caller.bus_names) if caller.bus_names is not None else None,
        allowed_sources=caller.sources,
    )
    return JsonResponse(result.as_aws())


def _as_engine_input(value: Any) -> str | dict[str, Any]:
    # Text and objects go to the engine as they are; anything else (an array, a number) is
    # handed over as its JSON text, so the engine refuses it in its own words.
    return value if isinstance(value, str | dict) else json.dumps(value)


@api_view("POST")
def event_pattern_test(request: HttpRequest, caller: Caller) -> HttpResponse:
    """TestEventPattern: would a rule with this pattern match this event?"""
    body = read_json_object(request, required=("EventPattern", "Event"))
    result = pattern_test(event_pattern=_as_engine_input(body["EventPattern"]),
                          event=_as_engine_input(body["Event"]))
    return JsonResponse({"Result": result})


@api_view("GET")
def event_trace_view(request: HttpRequest, caller: Caller, event_id: str) -> HttpResponse:
    trace = event_trace(parse_uuid(event_id, field="EventId"))
    caller.require_bus(trace["bus"]["name"], doing="read events on")
    return JsonResponse(trace)


@api_view("POST")
def delivery_redrive_view(request: HttpRequest, caller: Caller, delivery_id: str) -> HttpResponse:
    key = str(parse_uuid(delivery_id, field="DeliveryId"))
    overview = deliveries_overview([key]).get(key)
    if overview is None:
        raise NotFound(f"Delivery {key} does not exist.", field="DeliveryId")
    caller.require_bus(overview.bus_name, doing="redrive deliveries on")
    delivery_redrive(delivery_id=key)
    return JsonResponse({"DeliveryId": key, "Redriven": True})


@dataclass
class RedriveReport:
    redriven: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def fail(self, delivery_id: str, code: str, message: str) -> None:
        self.failed.append({"DeliveryId": delivery_id, "ErrorCode": code, "ErrorMessage": message})

    def as_json(self) -> dict[str, Any]:
        return {
            "RedrivenCount": len(self.redriven),
            "FailedCount": len(self.failed),
            "Redriven": self.redriven,
            "Failed": self.failed,
        }


def _delivery_ids(body: dict[str, Any]) -> list[str]:
    raw = body["DeliveryIds"]
    if (not isinstance(raw, list) or not 1 <= len(raw) <= MAX_REDRIVE_IDS
            or not all(isinstance(item, str) for item in raw)):
        raise ValidationError(
            f"DeliveryIds must be a list of 1 to {MAX_REDRIVE_IDS} delivery ids (strings).",
            field="DeliveryIds",
        )
    return list(dict.fromkeys(raw))


@api_view("POST")
def dead_letters_redrive(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Redrives each listed dead letter it can; says why for each one it cannot."""
    body = read_json_object(request, required=("DeliveryIds",))
    report = RedriveReport()
    valid: list[str] = []
    for raw_id in _delivery_ids(body):
        try:
            valid.append(str(parse_uuid(raw_id, field="DeliveryId")))
        except ValidationError as error:
            report.fail(raw_id, "InvalidArgument", error.message)
    overview = deliveries_overview(valid)
    candidates = []
    for delivery_id in valid:
        seen = overview.get(delivery_id)
        if seen is None:
            report.fail(delivery_id, NotFound.code, f"Delivery {delivery_id} does not exist.")
        elif not caller.may_use_bus(seen.bus_name):
            report.fail(delivery_id, PermissionDenied.code,
                        f"This API key may not redrive deliveries on event bus {seen.bus_name}.")
        elif seen.status not in REDRIVABLE:
            report.fail(delivery_id, ValidationError.code, _not_redrivable(seen.status))
        else:
            candidates.append(delivery_id)
    redriven = set(deliveries_redrive(delivery_ids=candidates)) if candidates else set()
    missed = [delivery_id for delivery_id in candidates if delivery_id not in redriven]
    now = deliveries_overview(missed) if missed else {}
    for delivery_id in candidates:
        if delivery_id in redriven:
            report.redriven.append(delivery_id)
        else:  # changed under us (redriven by someone else a moment ago, say)
            status = now[delivery_id].status if delivery_id in now else "gone"
            report.fail(delivery_id, ValidationError.code, _not_redrivable(status))
    return JsonResponse(report.as_json())


def _not_redrivable(status: str) -> str:
    return (f"The delivery is {status}: only dead-lettered or dropped deliveries can be "
            "redriven.")


@public_view("GET")
def openapi_view(request: HttpRequest) -> HttpResponse:
    document = dict(openapi_document())
    document["servers"] = [{"url": request.build_absolute_uri("/").rstrip("/") or "/"}]
    return JsonResponse(document, json_dumps_params={"indent": 2})


@public_view("GET")
def docs_view(request: HttpRequest) -> HttpResponse:
    return render_docs_page(request, docs_context(request))


@csrf_exempt  # it changes nothing, and a POST to a wrong path should hear 404, not 403
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""
    error = NotFound(f"No API endpoint at {request.path[:200]}; see /api/docs.", field="path")
    return JsonResponse(error.as_dict(), status=error.http_status)
