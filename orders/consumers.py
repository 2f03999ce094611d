"""The shop's websockets. Each consumer authenticates, authorises, joins its groups, sends a
snapshot, then forwards the deltas that orders/live.py pushes. A client that notices a gap in
the sequence (or reconnects) sends {"type": "resync"} and gets a fresh snapshot.

Groups are joined before the snapshot is read, so nothing pushed in between is lost; a delta
whose seq is not above the snapshot's is ignored by the client."""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async

from orders import live
from orders.models import Shop
from orders.permissions import customer_of, is_barista, runs_shop
from routing.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_NOT_LOGGED_IN,
    ProjectConsumer,
)

__all__ = ["CLOSE_FORBIDDEN", "CLOSE_NOT_FOUND", "CLOSE_NOT_LOGGED_IN", "BoardConsumer",
           "CustomerConsumer", "PublicShopConsumer"]


class LiveConsumer(ProjectConsumer):
    """Joins `self.groups_to_join`, sends `snapshot()`, forwards `live.message` payloads."""

    groups_to_join: list[str]

    async def connect(self) -> None:
        self.groups_to_join = []
        refusal = await self.authorise()
        if refusal is not None:
            await self.refuse(refusal)
            return
        for group in self.groups_to_join:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json(await self.snapshot())

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_to_join", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_json(await self.snapshot())
        # Anything else from a client is ignored: actions go through the HTTP endpoints.

    async def authorise(self) -> int | None:
        """Sets `groups_to_join`; returns a close code to refuse the socket."""
        raise NotImplementedError

    async def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError


@database_sync_to_async
def _shop_exists(slug: str) -> bool:
    return Shop.objects.filter(slug=slug).exists()


@database_sync_to_async
def _user_is_barista(user: Any) -> bool:
    return is_barista(user)


@database_sync_to_async
def _user_runs_shop(user: Any, slug: str) -> bool:
    shop = Shop.objects.filter(slug=slug).first()
    return shop is not None and runs_shop(user, shop)


class BoardConsumer(LiveConsumer):
    """`ws/shop/<slug>/board/`: the barista and display pages (baristas and staff only)."""

    async def authorise(self) -> int | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return CLOSE_NOT_LOGGED_IN
        if not await _user_is_barista(user):
            return CLOSE_FORBIDDEN
        self.shop_slug = self.scope["url_route"]["kwargs"]["slug"]
        if not await _shop_exists(self.shop_slug):
            return CLOSE_NOT_FOUND
        if not await _user_runs_shop(user, self.shop_slug):
            return CLOSE_FORBIDDEN
        self.groups_to_join = [live.board_group(self.shop_slug)]
        return None

    async def snapshot(self) -> dict[str, Any]:
        return await database_sync_to_async(live.board_snapshot)(self.shop_slug)


class PublicShopConsumer(LiveConsumer):
    """`ws/shop/<slug>/public/`: anyone; whether the shop is open and its menu version."""

    async def authorise(self) -> int | None:
        self.shop_slug = self.scope["url_route"]["kwargs"]["slug"]
        if not await _shop_exists(self.shop_slug):
            return CLOSE_NOT_FOUND
        self.groups_to_join = [live.public_group(self.shop_slug)]
        return None

    async def snapshot(self) -> dict[str, Any]:
        return await database_sync_to_async(live.public_snapshot)(self.shop_slug)


@database_sync_to_async
def _customer_of_scope(user: Any, session: Any) -> tuple[uuid.UUID, list[str]] | None:
    customer = customer_of(user, session)
    if customer is None:
        return None
    return customer.pk, list(live.groups_of_customer(customer))


class CustomerConsumer(LiveConsumer):
    """`ws/me/`: the signed-in (or guest) customer only — their own orders, and the public
    status of the shops they ordered from. The customer is taken from the session's account (or
    guest), never from the client."""

    async def authorise(self) -> int | None:
        found = await _customer_of_scope(self.scope.get("user"), self.scope.get("session"))
        if found is None:
            return CLOSE_NOT_LOGGED_IN
        self.customer_id, self.groups_to_join = found
        return None

    async def snapshot(self) -> dict[str, Any]:
        return await database_sync_to_async(live.customer_snapshot)(self.customer_id)

    async def live_message(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        order = payload.get("order") if payload.get("type") == "order" else None
        if order and order.get("shop"):
            # A first order at a new shop: follow that shop's public status from now on.
            group = live.public_group(order["shop"])
            if group not in self.groups_to_join:
                self.groups_to_join.append(group)
                await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json(payload)
