"""Target kinds behind one interface: `send_to_target(target, payload, context)` delivers the
payload (the text the target receives, after input transformation) or raises AttemptFailure.
It returns the receiver's response status where there is one."""

from __future__ import annotations

from routing.models import Target, TargetKind
from routing.targets import api_destination, bus, channels, handler, webhook
from routing.targets.base import AttemptFailure, DeliveryContext

# Kinds whose send waits on someone else over the network: each of their deliveries travels in a
# message of its own, so one slow receiver holds up no other delivery and a time limit cuts one
# send. The other kinds are fast and are attempted in batches (the route task, the sweeper).
ONE_MESSAGE_EACH: frozenset[str] = frozenset({TargetKind.WEBHOOK, TargetKind.API_DESTINATION})

_SENDERS = {
    TargetKind.HANDLER: handler.send,
    TargetKind.WEBHOOK: webhook.send,
    TargetKind.CHANNELS: channels.send,
    TargetKind.BUS: bus.send,
    TargetKind.API_DESTINATION: api_destination.send,
}


def send_to_target(target: Target, payload: str, context: DeliveryContext) -> int | None:
    try:
        sender = _SENDERS[TargetKind(target.kind)]
    except (KeyError, ValueError):
        raise AttemptFailure("NO_RESOURCE", f"Unknown target kind {target.kind!r}.",
                             retryable=False) from None
    return sender(target, payload, context)
