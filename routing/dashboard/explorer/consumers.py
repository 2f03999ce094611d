"""The explorer's websocket: the live tail of events (staff only).

It authenticates and authorises, sends a snapshot of the newest events, then a delta with the
next sequence number whenever its poll of the database finds new ones (see live.py for why it
polls). A client that sees a gap, or changes its filters, sends {"type": "resync"} or
{"type": "filter", "filters": {...the search form's fields}} and gets a fresh snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.db import DatabaseError
from django.http import QueryDict

from coffeeshop.authorisation import is_staff
from routing.dashboard.explorer import live
from routing.dashboard.explorer.forms import event_filters_from_params
from routing.errors import RoutingError
from routing.sockets import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_LOGGED_IN,
    ProjectConsumer,
)

logger = logging.getLogger(__name__)

__all__ = ["CLOSE_BAD_REQUEST", "CLOSE_FORBIDDEN", "CLOSE_NOT_LOGGED_IN", "EventTailConsumer"]

CLOSE_INTERNAL_ERROR = 1011


def _params(raw: dict[str, Any]) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, value in raw.items():
        if isinstance(value, str):
            params[key] = value
    return params


class EventTailConsumer(ProjectConsumer):
    """`ws/dashboard/events/?bus=…&source=…&type=…&field=…`"""

    tail: live.EventTail | None = None
    poller: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_NOT_LOGGED_IN)
            return
        if not is_staff(user):
            await self.refuse(CLOSE_FORBIDDEN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True)
        await self.accept()
        if not await self.follow({key: values[-1] for key, values in query.items()}):
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.poller = asyncio.create_task(self.poll_forever())

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.tail is None:
            return
        if content.get("type") == "resync":
            await self.send_json(await database_sync_to_async(self.tail.snapshot)())
        elif content.get("type") == "filter" and isinstance(content.get("filters"), dict):
            await self.follow(content["filters"], seq=self.tail.seq)

    async def follow(self, raw: dict[str, Any], *, seq: int = 0) -> bool:
        """Starts following the filters in `raw` with a snapshot; on bad filters, says why."""
        try:
            filters = await database_sync_to_async(event_filters_from_params)(_params(raw))
        except RoutingError as error:
            await self.send_json({"type": "error", **error.as_dict()})
            return False
        tail = live.EventTail(filters, seq=seq)
        snapshot = await database_sync_to_async(tail.snapshot)()
        self.tail = tail
        await self.send_json(snapshot)
        return True

    async def poll_forever(self) -> None:
        while True:
            await asyncio.sleep(live.POLL_SECONDS)
            tail = self.tail
            if tail is None:
                continue
            try:
                message = await database_sync_to_async(tail.poll)()
            except DatabaseError as error:
                # A busy database (SQLite's write lock, a failover): try again next second.
                logger.warning("live tail poll failed, retrying: %s", error)
                continue
            except Exception:
                logger.exception("live tail poll failed; closing the socket")
                await self.close(code=CLOSE_INTERNAL_ERROR)
                return
            if message is not None and tail is self.tail:
                await self.send_json(message)
