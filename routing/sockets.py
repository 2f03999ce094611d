"""What every websocket of the project shares: the close codes a page can read, the one
channel-layer message type that carries pushes, and a consumer base that never lets a stray
channel-layer message close a socket.

Refusals happen after `accept()`: a socket closed during the handshake reaches the browser as
1006 with no reason, while one accepted then closed with 4401/4403/4404 tells the page why, so
it can stop reconnecting and say so."""

from __future__ import annotations

import logging
from typing import Any, Literal, TypedDict

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

logger = logging.getLogger(__name__)

# 4000-4999 are the application's; the page knows these and gives up on them.
CLOSE_BAD_REQUEST = 4400
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
REFUSALS = frozenset({CLOSE_BAD_REQUEST, CLOSE_NOT_LOGGED_IN, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND})

# The channel-layer message type of every push to a group (handled by `live_message`).
LIVE_MESSAGE_TYPE = "live.message"


class LiveMessage(TypedDict):
    type: Literal["live.message"]
    payload: dict[str, Any]


def live_message(payload: dict[str, Any]) -> LiveMessage:
    return {"type": "live.message", "payload": payload}


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    """The base of the project's consumers."""

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels raises ValueError for a type without a handler, which tears the socket down:
        # one bad message in a group would close every socket in it.
        # A type naming one of Channels' own methods (`send`, `close`, ...) is no handler either.
        try:
            name = get_handler_name(message)
        except (TypeError, AttributeError, ValueError):
            name = ""
        known = hasattr(self, name) and (
            name.startswith("websocket_") or not hasattr(AsyncJsonWebsocketConsumer, name)
        )
        if not known:
            logger.warning("%s ignored a channel-layer message of unknown type %r",
                           type(self).__name__, message.get("type"))
            return
        await super().dispatch(message)

    async def live_message(self, message: dict[str, Any]) -> None:
        await self.send_json(message["payload"])
