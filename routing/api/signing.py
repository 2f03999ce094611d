"""A webhook target's signing secret, for whoever may use its bus: read it (the Standard
Webhooks `whsec_...` form, the raw key for the older header, and the previous secret while it
still signs) and rotate it with an overlap."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from routing.api.auth import Caller
from routing.api.http import api_view, read_json_object
from routing.errors import ValidationError
from routing.services.signing import (
    target_signing_secret,
    target_signing_secret_rotate,
    webhook_target_get,
)


@api_view("GET")
def signing_secret_view(request: HttpRequest, caller: Caller, bus_name: str, rule_name: str,
                        target_id: str) -> HttpResponse:
    caller.require_bus(bus_name, doing="read signing secrets on")
    target = webhook_target_get(bus_name=bus_name, rule_name=rule_name, target_id=target_id)
    return JsonResponse(target_signing_secret(target).as_json())


@api_view("POST")
def signing_secret_rotate_view(request: HttpRequest, caller: Caller, bus_name: str,
                               rule_name: str, target_id: str) -> HttpResponse:
    caller.require_bus(bus_name, doing="rotate signing secrets on")
    target = webhook_target_get(bus_name=bus_name, rule_name=rule_name, target_id=target_id)
    overlap = None
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        body = read_json_object(request, required=())
        overlap = body.get("OverlapSeconds")
        if overlap is not None and (isinstance(overlap, bool) or not isinstance(overlap, int)):
            raise ValidationError("OverlapSeconds must be a whole number of seconds.",
                                  field="OverlapSeconds")
    return JsonResponse(target_signing_secret_rotate(target=target,
                                                     overlap_seconds=overlap).as_json())
