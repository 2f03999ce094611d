"""`channels` targets: a websocket push to a Channels group named from the event
(e.g. `customer.{detail.userId}`).

The channel-layer message is always `live.message`, the one type every consumer of the project
handles (routing/sockets.py): any other type would reach consumers with no handler for it. The
browser receives its payload, {"type": "bus.event", ...}, which pages ignore unless they look
for it."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from routing.cancellation import CANCELLATIONS
from routing.models import Target
from routing.sockets import live_message
from routing.targets.base import AttemptFailure, DeliveryContext
from routing.targets.payload import parse_payload
from routing.transform.group_names import format_group_name


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    try:
        group = format_group_name(target.address, context.event)
    except ValueError as error:
        raise AttemptFailure("InvalidGroupName", str(error), retryable=False) from None
    layer = get_channel_layer()
    if layer is None:
        raise AttemptFailure("NO_RESOURCE", "CHANNEL_LAYERS is not configured.", retryable=False)
    message = live_message({
        "type": "bus.event",
        "event_id": context.event_id,
        "source": context.event.get("source"),
        "detail_type": context.event.get("detail-type"),
        "rule": context.rule_name,
        "payload": parse_payload(payload),
    })
    try:
        async_to_sync(layer.group_send)(group, message)
    except CANCELLATIONS:
        raise
    except Exception as error:  # the channel layer (Redis) is unreachable or refused it
        raise AttemptFailure("ChannelLayerError", f"{type(error).__name__}: {error}") from None
    return None
