"""The registry through which code inside the project subscribes to events.

A `handler` target names a registered handler; the delivery task calls it with what the target
receives (parsed from JSON when it is JSON) and a context. Apps register their handlers when
they are ready, so routing never imports them:

    from routing.handlers import register_handler

    @register_handler("orders.store")
    def store_order(payload, context): ...

A handler that raises has failed this attempt: the delivery is retried by the target's policy.
Raise `PermanentHandlerError` for a failure no retry can fix (it is dead-lettered at once).
Handlers must be idempotent: `context.idempotency_key` is the same on every attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routing.targets.base import DeliveryContext

# Handlers get the same context as every target kind.
HandlerContext = DeliveryContext

Handler = Callable[[Any, HandlerContext], object]


class PermanentHandlerError(Exception):
    """A failure that retrying cannot fix (bad input, say): dead-letter it at once."""


class UnknownHandlerError(LookupError):
    pass


_handlers: dict[str, Handler] = {}


def register_handler(name: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        existing = _handlers.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"a handler named {name!r} is already registered ({existing!r})")
        _handlers[name] = function
        return function

    return register


def get_handler(name: str) -> Handler:
    try:
        return _handlers[name]
    except KeyError:
        known = ", ".join(sorted(_handlers)) or "none"
        raise UnknownHandlerError(f"no handler named {name!r} is registered (known: {known})") \
            from None


def registered_handler_names() -> list[str]:
    return sorted(_handlers)
