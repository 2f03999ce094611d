"""`handler` targets: a Python callable registered by name (how the project's own services
subscribe to the bus)."""

from __future__ import annotations

from routing.cancellation import CANCELLATIONS
from routing.handlers import PermanentHandlerError, UnknownHandlerError, get_handler
from routing.models import Target
from routing.targets.base import AttemptFailure, DeliveryContext
from routing.targets.payload import parse_payload


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    try:
        handle = get_handler(target.address)
    except UnknownHandlerError as error:
        raise AttemptFailure("NO_RESOURCE", str(error), retryable=False) from None
    try:
        handle(parse_payload(payload), context)
    except PermanentHandlerError as error:
        raise AttemptFailure("HandlerRejected", str(error) or type(error).__name__,
                             retryable=False) from None
    except CANCELLATIONS:
        raise
    except Exception as error:  # the handler failed this attempt; its policy decides what next
        raise AttemptFailure("HandlerError", f"{type(error).__name__}: {error}") from None
    return None
