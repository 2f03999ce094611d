"""Idle websockets stay up: the app's real consumers behind a real uvicorn on the real Redis
channel layer, left idle for longer than every time-out involved, then pushed to.

The time-outs: channels_redis blocks 5 s per pop and expires messages after 30 s; the channel
layer's Redis socket times out after CHANNEL_LAYER_SOCKET_TIMEOUT (15 s) and is health-checked
every 30 s; uvicorn pings every 20 s and waits 20 s for the pong. The idle period outlasts them
all. (Group membership expires after a day: pages reconnect long before that.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from orders import live
from routing.services import bus_ensure_default
from tests.orders.test_consumers import customer_cookie, user_cookie
from tests.orders.test_live_support import make_customer, make_order, make_shop, make_user
from tests.routing.dashboard.test_explorer_support import make_event
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 65
db = sync_to_async


async def open_socket(server: AsgiServer, path: str, cookie: str | None) -> ClientConnection:
    headers = {"Cookie": cookie} if cookie else None
    socket = await connect(server.ws_url + path, additional_headers=headers, open_timeout=15,
                           origin=server.url)  # type: ignore[arg-type]
    snapshot = json.loads(await asyncio.wait_for(socket.recv(), 15))
    assert snapshot["type"] == "snapshot", f"{path}: {snapshot}"
    return socket


async def stay_idle(socket: ClientConnection) -> list[Any]:
    """Everything the socket receives while idle; raises ConnectionClosed if it is closed."""
    received: list[Any] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + IDLE_SECONDS
    while (left := until - loop.time()) > 0:
        try:
            received.append(json.loads(await asyncio.wait_for(socket.recv(), left)))
        except TimeoutError:
            break
    return received


async def next_of_type(socket: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 30))
        if message.get("type") == kind:
            return message


@pytest.mark.timeout(IDLE_SECONDS + 120)
async def test_idle_sockets_stay_open_past_every_time_out_then_still_get_pushes(
    asgi_server: AsgiServer,
) -> None:
    shop = await db(make_shop)("idle")
    customer = await db(make_customer)()
    order = await db(make_order)(shop, customer)
    barista = await db(make_user)("idle-barista", barista=True)
    staff = await db(make_user)("idle-staff", staff=True)
    bus = await db(bus_ensure_default)()
    board = f"/ws/shop/{shop.slug}/board/"
    paths = {
        "customer": ("/ws/me/", await db(customer_cookie)(customer)),
        "barista": (board, await db(user_cookie)(barista)),
        "display": (board, await db(user_cookie)(staff)),
        "public": (f"/ws/shop/{shop.slug}/public/", None),
        "tail": ("/ws/dashboard/events/", await db(user_cookie)(staff)),
    }
    sockets = {name: await open_socket(asgi_server, path, cookie)
               for name, (path, cookie) in paths.items()}
    try:
        idle = await asyncio.gather(*(stay_idle(s) for s in sockets.values()),
                                    return_exceptions=True)
        outcome = dict(zip(sockets, idle, strict=True))
        closed = {name: repr(result) for name, result in outcome.items()
                  if isinstance(result, ConnectionClosed)}
        assert closed == {}, f"idle sockets were closed: {closed}\n{asgi_server.log()[-4000:]}"
        assert all(s.state is State.OPEN for s in sockets.values())

        await db(live.push_order)(str(order.pk))
        await db(live.push_shop)(shop.slug)
        await db(make_event)(bus, detail_type="AfterIdle")
        assert (await next_of_type(sockets["customer"], "order"))["order"]["id"] == str(order.pk)
        for name in ("barista", "display"):
            assert (await next_of_type(sockets[name], "order"))["order"]["number"] == 1
        assert (await next_of_type(sockets["public"], "shop"))["shop"]["slug"] == shop.slug
        delta = await next_of_type(sockets["tail"], "events")
        assert [e["detailType"] for e in delta["events"]] == ["AfterIdle"], delta
    finally:
        for socket in sockets.values():
            await socket.close()


async def test_closing_tabs_log_nothing_at_error(asgi_server: AsgiServer) -> None:
    """A tab closed mid-handshake, before its snapshot, while idle or while being pushed to: the
    server's log (uvicorn's stderr) gets no ERROR and no "Exception in ASGI application"."""
    shop = await db(make_shop)("tabs")
    customer = await db(make_customer)()
    order = await db(make_order)(shop, customer)
    staff = await db(make_user)("tabs-staff", staff=True)
    paths = [
        ("/ws/me/", await db(customer_cookie)(customer)),
        (f"/ws/shop/{shop.slug}/board/", await db(user_cookie)(staff)),
        (f"/ws/shop/{shop.slug}/public/", None),
        ("/ws/dashboard/events/", await db(user_cookie)(staff)),
        ("/ws/status/", None),
        ("/ws/me/", None),  # refused: 4401
    ]
    already = len(asgi_server.log())
    for _ in range(3):
        for path, cookie in paths:
            headers = {"Cookie": cookie} if cookie else None
            # Gone before the server has even answered: no close frame, no FIN handshake.
            early = await connect(asgi_server.ws_url + path, additional_headers=headers,
                                  open_timeout=15, origin=asgi_server.url)  # type: ignore[arg-type]
            early.transport.abort()
            later = await connect(asgi_server.ws_url + path, additional_headers=headers,
                                  open_timeout=15, origin=asgi_server.url)  # type: ignore[arg-type]
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(later.recv(), 15)
            await db(live.push_order)(str(order.pk))
            later.transport.abort()
            polite = await connect(asgi_server.ws_url + path, additional_headers=headers,
                                   open_timeout=15, origin=asgi_server.url)  # type: ignore[arg-type]
            await polite.close()
            await db(live.push_order)(str(order.pk))  # to a socket that has just gone
    # Whatever the server does about those tabs, it has done once it has served another.
    await asyncio.sleep(2)
    last = await open_socket(asgi_server, f"/ws/shop/{shop.slug}/public/", None)
    await last.close()
    log = asgi_server.log()[already:]
    assert "Exception in ASGI application" not in log, log[-6000:]
    assert "ERROR" not in log, log[-6000:]
    assert "Traceback" not in log, log[-6000:]
