"""`bus` targets: the event is forwarded, unchanged, to another bus as a new event there.

Its id is derived from the delivery, so a retried forward finds the event already there and
succeeds without a second copy."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import IntegrityError

from routing.errors import RoutingError
from routing.models import Event, Target
from routing.publishers import Publisher
from routing.targets.base import AttemptFailure, DeliveryContext

FORWARD_NAMESPACE = uuid.UUID("5b0d6c39-61f4-4a8e-9d4c-3f0c2b7f4a10")


def _picked_event(payload: str) -> tuple[str, str, dict[str, Any], list[Any]]:
    """What the target's InputPath picked, which must itself be an event to be forwarded."""
    picked = json.loads(payload) if payload else None
    if (isinstance(picked, dict) and isinstance(picked.get("source"), str)
            and isinstance(picked.get("detail-type"), str)
            and isinstance(picked.get("detail"), dict)):
        resources = picked.get("resources")
        return (picked["source"], picked["detail-type"], picked["detail"],
                resources if isinstance(resources, list) else [])
    raise AttemptFailure("InvalidInput", "The target's InputPath picked no event (an object "
                         "with source, detail-type and detail) to forward.", retryable=False)


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    from routing.services.publish import EventEntry, events_store

    forwarded_id = uuid.uuid5(FORWARD_NAMESPACE, context.delivery_id)
    if Event.objects.filter(pk=forwarded_id).exists():
        return None
    original = Event.objects.get(pk=context.event_id)
    source, detail_type, detail = original.source, original.detail_type, original.detail
    resources: list[Any] = original.resources
    if target.input_path:
        source, detail_type, detail, resources = _picked_event(payload)
    entry = EventEntry(
        source=source,
        detail_type=detail_type,
        detail=detail,
        bus_name=target.address,
        resources=tuple(resources),
        time=original.time,
        forwarded_from=original.pk,
        event_id=forwarded_id,
    )
    try:
        events_store(entries=[entry], publisher=Publisher.bus(bus_name=context.bus_name,
                                                              rule_name=context.rule_name))
    except IntegrityError:
        return None  # a concurrent attempt forwarded it first
    except RoutingError as error:
        raise AttemptFailure("NO_RESOURCE", error.message, retryable=False) from None
    return None
