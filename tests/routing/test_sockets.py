"""Sockets that a stray channel-layer message cannot close, and a channels target that sends only
what consumers handle: the project's real consumers through its ASGI stack on the real Redis
channel layer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import get_channel_layer

from coffeeshop.consumers import SYSTEM_STATUS_GROUP
from orders import live
from routing.models import Target
from routing.sockets import LIVE_MESSAGE_TYPE
from routing.targets import channels as channels_target
from routing.targets.base import DeliveryContext
from tests.orders.test_consumers import (
    Socket,
    customer_cookie,
    db,
    open_socket,
    user_cookie,
)
from tests.orders.test_live_support import make_customer, make_shop, make_user
from tests.support.publishers import TEST_PUBLISHER

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("thread_connections_closed")]

@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        await socket.close()


STRAY_TYPES = ["bus.event", "send", "close", "websocket.nonsense", "_private", "dispatch"]


async def sockets_and_groups(sockets: list[Socket]) -> list[tuple[Socket, str]]:
    shop = await db(make_shop)("stray")
    customer = await db(make_customer)()
    barista = await db(make_user)("stray-barista", barista=True)
    opened = [
        (await open_socket(sockets, f"/ws/shop/{shop.slug}/board/",
                           await db(user_cookie)(barista)), live.board_group(shop.slug)),
        (await open_socket(sockets, f"/ws/shop/{shop.slug}/public/"), live.public_group(shop.slug)),
        (await open_socket(sockets, "/ws/me/", await db(customer_cookie)(customer)),
         live.customer_group(customer.pk)),
        (await open_socket(sockets, "/ws/status/"), SYSTEM_STATUS_GROUP),
    ]
    for socket, _ in opened:
        assert (await socket.receive())["type"] in {"snapshot", "status"}
    return opened


async def test_a_message_of_unknown_type_is_logged_and_ignored_and_the_socket_stays_open(
    sockets: list[Socket], caplog: pytest.LogCaptureFixture,
) -> None:
    layer: Any = get_channel_layer()
    opened = await sockets_and_groups(sockets)
    with caplog.at_level(logging.WARNING, logger="routing.sockets"):
        for socket, group in opened:
            for kind in STRAY_TYPES:
                await layer.group_send(group, {"type": kind, "text": "x", "code": 1000})
            await socket.assert_silent()
            # Still open, and still following its group.
            await layer.group_send(group, {"type": LIVE_MESSAGE_TYPE,
                                           "payload": {"type": "ping", "group": group}})
            assert await socket.receive() == {"type": "ping", "group": group}
    warned = [r for r in caplog.records if r.levelno == logging.WARNING
              and "unknown type" in r.getMessage()]
    assert len(warned) == len(opened) * len(STRAY_TYPES), [r.getMessage() for r in warned]


def delivery_context(event: dict[str, Any]) -> DeliveryContext:
    return DeliveryContext(
        event=event, event_id=event["id"], bus_name="default", rule_name="to-customer",
        rule_arn="arn:aws:events:local:000000000000:rule/to-customer", target_id="t1",
        delivery_id=str(uuid.uuid4()), attempt=1, publisher=TEST_PUBLISHER,
    )


async def test_a_channels_target_reaches_consumers_with_a_type_they_handle(
    sockets: list[Socket],
) -> None:
    customer = await db(make_customer)()
    socket = await open_socket(sockets, "/ws/me/", await db(customer_cookie)(customer))
    assert (await socket.receive())["type"] == "snapshot"
    event = {"id": str(uuid.uuid4()), "source": "partner.app", "detail-type": "Hello",
             "detail": {"customerId": str(customer.pk), "text": "hi"}}
    target = Target(target_id="t1", kind="channels", address="customer-{detail.customerId}")

    await db(channels_target.send)(target, '"just a string"', delivery_context(event))
    await db(channels_target.send)(target, '{"text": "hi"}', delivery_context(event))

    for payload in ("just a string", {"text": "hi"}):
        assert await socket.receive() == {
            "type": "bus.event", "event_id": event["id"], "source": "partner.app",
            "detail_type": "Hello", "rule": "to-customer", "payload": payload,
        }
    await socket.send({"type": "resync"})
    assert (await socket.receive())["type"] == "snapshot", "the socket was closed"
