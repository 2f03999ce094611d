"""The shop's websockets through the project's real ASGI stack (origin check, sessions, auth)
and the real Redis channel layer: who may connect, snapshot then sequenced deltas, resync, and
that a customer's socket never receives another customer's order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from coffeeshop.asgi import application
from orders import live
from orders.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_NOT_LOGGED_IN
from orders.models import Customer, Order, Shop
from orders.permissions import SESSION_CUSTOMER_KEY
from orders.workflow import OrderState
from tests.orders.test_live_support import (
    SECRET_TOKEN,
    make_customer,
    make_order,
    make_shop,
    make_user,
)

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("thread_connections_closed")]

db = sync_to_async


def session_cookie(**values: str) -> str:
    session = SessionStore()
    for key, value in values.items():
        session[key] = value
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def user_cookie(user: Any) -> str:
    return session_cookie(**{
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    })


def customer_cookie(customer: Customer) -> str:
    """The session of the customer's browser: signed in to their account, or a guest's."""
    if customer.user is not None:
        return user_cookie(customer.user)
    return session_cookie(**{SESSION_CUSTOMER_KEY: str(customer.pk)})


class Socket:
    def __init__(self, path: str, cookie: str | None = None) -> None:
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.communicator = WebsocketCommunicator(application, path, headers=headers)
        self.close_code: int | None = None

    async def connect(self) -> bool:
        connected, code = await self.communicator.connect(timeout=5)
        if not connected:
            self.close_code = code
        return bool(connected)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        raw = await self.communicator.receive_from(timeout=timeout)
        assert SECRET_TOKEN not in raw, "a wait token left the server"
        message: dict[str, Any] = json.loads(raw)
        return message

    async def assert_silent(self, wait: float = 0.5) -> None:
        assert await self.communicator.receive_nothing(timeout=wait)

    async def send(self, data: dict[str, Any]) -> None:
        await self.communicator.send_json_to(data)

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        if socket.close_code is None:
            await socket.close()


async def open_socket(sockets: list[Socket], path: str, cookie: str | None = None) -> Socket:
    socket = Socket(path, cookie)
    sockets.append(socket)
    assert await socket.connect(), f"{path} refused the socket (code {socket.close_code})"
    return socket


async def refused(path: str, cookie: str | None = None) -> int | None:
    """The close code of a refusal, which comes after the handshake (during it, the browser
    would only see 1006) and before any message."""
    socket = Socket(path, cookie)
    assert await socket.connect(), f"{path} refused during the handshake"
    closing = await socket.communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close", f"{path} accepted a socket it should refuse"
    await socket.close()  # the consumer ends (and lets go of its database connection)
    code: int = closing["code"]
    return code


# --- who may connect ------------------------------------------------------------------------

async def test_board_refuses_anonymous_customers_and_non_baristas() -> None:
    shop = await db(make_shop)()
    path = f"/ws/shop/{shop.slug}/board/"
    assert await refused(path) == CLOSE_NOT_LOGGED_IN
    guest = await db(make_customer)(guest=True)
    assert await refused(path, await db(customer_cookie)(guest)) == CLOSE_NOT_LOGGED_IN
    customer = await db(make_customer)()
    assert await refused(path, await db(customer_cookie)(customer)) == CLOSE_FORBIDDEN
    someone = await db(make_user)("someone")
    assert await refused(path, await db(user_cookie)(someone)) == CLOSE_FORBIDDEN


async def test_board_admits_baristas_and_staff_of_an_existing_shop(
    sockets: list[Socket],
) -> None:
    shop = await db(make_shop)()
    barista = await db(make_user)("bea", barista=True)
    staff = await db(make_user)("sam", staff=True)
    for user in (barista, staff):
        socket = await open_socket(sockets, f"/ws/shop/{shop.slug}/board/",
                                   await db(user_cookie)(user))
        snapshot = await socket.receive()
        assert snapshot["type"] == "snapshot"
        assert snapshot["shop"]["slug"] == shop.slug
    assert await refused("/ws/shop/no-such-shop/board/",
                         await db(user_cookie)(barista)) == CLOSE_NOT_FOUND


async def test_board_refuses_a_barista_of_another_shop(sockets: list[Socket]) -> None:
    shop, other = await db(make_shop)(), await db(make_shop)("other-shop")
    mine, theirs = await db(make_user)("bea", barista=True), await db(make_user)("bo", barista=True)
    await db(shop.baristas.add)(mine)
    await db(other.baristas.add)(theirs)
    path = f"/ws/shop/{shop.slug}/board/"
    assert await refused(path, await db(user_cookie)(theirs)) == CLOSE_FORBIDDEN
    socket = await open_socket(sockets, path, await db(user_cookie)(mine))
    assert (await socket.receive())["type"] == "snapshot"


async def test_me_needs_a_customer_session() -> None:
    assert await refused("/ws/me/") == CLOSE_NOT_LOGGED_IN
    barista = await db(make_user)("bea", barista=True)
    assert await refused("/ws/me/", await db(user_cookie)(barista)) == CLOSE_NOT_LOGGED_IN


async def test_public_socket_is_open_to_anyone_and_reveals_only_shop_status(
    sockets: list[Socket],
) -> None:
    shop = await db(make_shop)()
    await db(make_order)(shop, await db(make_customer)("Ada"))
    socket = await open_socket(sockets, f"/ws/shop/{shop.slug}/public/")
    snapshot = await socket.receive()
    assert snapshot["type"] == "snapshot"
    assert set(snapshot["shop"]) == {"slug", "name", "is_open", "closing_at", "config_version",
                                        "version"}
    assert "orders" not in snapshot
    await db(Shop.objects.filter(pk=shop.pk).update)(is_open=False)
    await db(live.push_shop)(shop.slug)
    pushed = await socket.receive()
    assert pushed["type"] == "shop"
    assert pushed["shop"]["is_open"] is False
    assert await refused("/ws/shop/no-such-shop/public/") == CLOSE_NOT_FOUND


# --- snapshot, deltas, resync ---------------------------------------------------------------

async def test_board_snapshot_then_deltas_with_increasing_seq_then_resync(
    sockets: list[Socket],
) -> None:
    shop = await db(make_shop)()
    barista = await db(make_user)("bea", barista=True)
    queued = await db(make_order)(shop, await db(make_customer)("Ada"), number=1)
    await db(live.push_shop)(shop.slug)  # the stream has history before we connect
    socket = await open_socket(sockets, f"/ws/shop/{shop.slug}/board/",
                               await db(user_cookie)(barista))
    snapshot = await socket.receive()
    assert snapshot["seq"] == 1
    assert [o["id"] for o in snapshot["orders"]] == [queued.pk]
    assert snapshot["window"]["remaining"] == shop.drinks_per_window
    assert "code" not in snapshot["window"]

    await db(Order.objects.filter(pk=queued.pk).update)(state=OrderState.IN_PRODUCTION,
                                                       barista=barista)
    await db(live.push_order)(queued.pk)
    second = await db(make_order)(shop, await db(make_customer)("Bo"), number=2)
    await db(live.push_order)(second.pk)
    first_delta, second_delta = await socket.receive(), await socket.receive()
    assert (first_delta["type"], first_delta["seq"]) == ("order", 2)
    assert first_delta["order"]["state"] == OrderState.IN_PRODUCTION
    assert first_delta["order"]["barista"] == "bea"
    assert (second_delta["seq"], second_delta["order"]["number"]) == (3, 2)

    await socket.send({"type": "resync"})
    fresh = await socket.receive()
    assert (fresh["type"], fresh["seq"]) == ("snapshot", 3)
    assert {o["id"] for o in fresh["orders"]} == {queued.pk, second.pk}
    await socket.send({"type": "something else"})
    await socket.assert_silent()


async def test_customer_socket_never_receives_another_customers_order(
    sockets: list[Socket],
) -> None:
    shop = await db(make_shop)()
    ada, bob = await db(make_customer)("Ada"), await db(make_customer)("Bob")
    ada_order = await db(make_order)(shop, ada, number=1)
    bob_order = await db(make_order)(shop, bob, number=2)
    ada_socket = await open_socket(sockets, "/ws/me/", await db(customer_cookie)(ada))
    bob_socket = await open_socket(sockets, "/ws/me/", await db(customer_cookie)(bob))
    ada_snapshot, bob_snapshot = await ada_socket.receive(), await bob_socket.receive()
    assert [o["id"] for o in ada_snapshot["orders"]] == [ada_order.pk]
    assert [o["id"] for o in bob_snapshot["orders"]] == [bob_order.pk]
    assert "Bob" not in json.dumps(ada_snapshot)

    # Pushes for both, interleaved, several times.
    for order in (bob_order, ada_order, bob_order, bob_order, ada_order):
        await db(live.push_order)(order.pk)
    ada_seen = [await ada_socket.receive() for _ in range(2)]
    bob_seen = [await bob_socket.receive() for _ in range(3)]
    assert [m["order"]["id"] for m in ada_seen] == [ada_order.pk, ada_order.pk]
    assert [m["order"]["id"] for m in bob_seen] == [bob_order.pk] * 3
    assert [m["seq"] for m in ada_seen] == [ada_snapshot["seq"] + 1, ada_snapshot["seq"] + 2]
    assert [m["seq"] for m in bob_seen] == [bob_snapshot["seq"] + n for n in (1, 2, 3)]
    await ada_socket.assert_silent()
    await bob_socket.assert_silent()
    assert "Bob" not in json.dumps(ada_seen)


async def test_customer_socket_follows_the_status_of_shops_they_ordered_from(
    sockets: list[Socket],
) -> None:
    shop, elsewhere = await db(make_shop)(), await db(make_shop)("elsewhere", name="Elsewhere")
    ada = await db(make_customer)("Ada")
    await db(make_order)(shop, ada)
    socket = await open_socket(sockets, "/ws/me/", await db(customer_cookie)(ada))
    snapshot = await socket.receive()
    assert list(snapshot["shops"]) == [shop.slug]
    await db(live.push_shop)(elsewhere.slug)
    await socket.assert_silent()
    await db(live.push_shop)(shop.slug)
    assert (await socket.receive())["shop"]["slug"] == shop.slug

    # A first order at another shop: from then on that shop's status comes too.
    new_order = await db(make_order)(elsewhere, ada, state=OrderState.NEW, number=None)
    await db(live.push_order)(new_order.pk)
    assert (await socket.receive())["order"]["id"] == new_order.pk
    await db(live.push_shop)(elsewhere.slug)
    assert (await socket.receive())["shop"]["slug"] == elsewhere.slug


async def test_many_sockets_of_one_customer_all_get_their_pushes(
    sockets: list[Socket],
) -> None:
    shop = await db(make_shop)()
    ada = await db(make_customer)("Ada")
    order = await db(make_order)(shop, ada)
    cookie = await db(customer_cookie)(ada)
    phone, laptop = (await open_socket(sockets, "/ws/me/", cookie),
                     await open_socket(sockets, "/ws/me/", cookie))
    await phone.receive()
    await laptop.receive()
    await db(live.push_order)(order.pk)
    results = await asyncio.gather(phone.receive(), laptop.receive())
    assert {r["order"]["id"] for r in results} == {order.pk}
