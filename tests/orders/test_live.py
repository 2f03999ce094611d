"""orders/live.py: what each audience may see, sequence numbers, group isolation, the
`orders.live.push` handler, and the law that a snapshot plus its deltas equals a fresh snapshot.
Pushes go through the real Redis channel layer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from orders import live
from orders.events import PUBLISHER
from orders.models import Customer, Order, Shop
from orders.workflow import OrderState, TimeoutCause
from routing.handlers import PermanentHandlerError, get_handler
from routing.targets.base import DeliveryContext
from routing.timestamps import utc_timestamp
from tests.orders.test_live_support import (
    SECRET_TOKEN,
    make_customer,
    make_order,
    make_shop,
    make_user,
)

pytestmark = pytest.mark.django_db


class Listener:
    """A channel on the real channel layer, subscribed to some groups."""

    def __init__(self, *groups: str) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        self.groups = groups
        for group in groups:
            async_to_sync(self.layer.group_add)(group, self.channel)

    def receive(self, timeout: float = 3.0) -> dict[str, Any]:
        async def get() -> dict[str, Any]:
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        message = async_to_sync(get)()
        assert message["type"] == live.MESSAGE_TYPE
        payload: dict[str, Any] = message["payload"]
        return payload

    def assert_silent(self, wait: float = 0.4) -> None:
        with pytest.raises(TimeoutError):
            self.receive(timeout=wait)

    def close(self) -> None:
        for group in self.groups:
            async_to_sync(self.layer.group_discard)(group, self.channel)


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


@pytest.fixture
def send_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs a push and its after-commit sends (the test's transaction never commits)."""

    def run(function: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def test_group_names_are_valid_channels_names() -> None:
    customer_id = uuid.uuid4()
    for name in (live.board_group("a-shop-1"), live.public_group("a-shop-1"),
                 live.customer_group(customer_id)):
        assert len(name) < 100
        assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in name)
    assert live.customer_group(str(customer_id)) == f"customer-{customer_id}"
    with pytest.raises(ValueError, match="badly formed"):
        live.customer_group("not-a-uuid")


def test_board_shows_first_name_and_barista_but_never_the_token_or_customer_id() -> None:
    shop = make_shop()
    barista = make_user("bea", barista=True)
    barista.first_name = "Bea"
    barista.save(update_fields=["first_name"])
    customer = make_customer("Ada Lovelace")
    order = make_order(shop, customer, state=OrderState.IN_PRODUCTION, barista=barista,
                       claimed_at=timezone.now())
    board = live.order_for_board(order)
    assert board["customer"] == "Ada"
    assert board["barista"] == "Bea"
    assert board["drink"] == "Latte"
    assert board["modifiers"] == [{"group": "Milk", "option": "Oat"}]
    text = json.dumps(board)
    assert SECRET_TOKEN not in text
    assert str(customer.pk) not in text
    assert "Lovelace" not in text


@pytest.mark.parametrize(
    ("fields", "title", "text"),
    [
        ({"state": OrderState.NEW}, "Starting your order…", "moment"),
        ({"state": OrderState.QUEUED}, "You're in the queue", "Order #7 is waiting"),
        ({"state": OrderState.COMPLETED}, "Ready for pickup!", "Collect order #7"),
        ({"state": OrderState.TIMED_OUT, "timeout_cause": TimeoutCause.CUSTOMER},
         "Having trouble deciding?", "time to choose"),
        ({"state": OrderState.TIMED_OUT, "timeout_cause": TimeoutCause.BARISTA},
         "Sorry about that", "Our baristas might have missed your coffee"),
        ({"state": OrderState.SHOP_UNAVAILABLE, "unavailable_reason": "closed"},
         "The shop is closed", "not taking orders"),
        ({"state": OrderState.SHOP_UNAVAILABLE, "unavailable_reason": "busy"},
         "The baristas are too busy", "queue is full"),
        ({"state": OrderState.CANCELLED, "cancelled_by": "barista",
          "cancel_reason": "Out of oat milk"}, "Order #7 was cancelled", "Out of oat milk"),
        ({"state": OrderState.CANCELLED, "cancelled_by": "customer"},
         "Order #7 was cancelled", "You cancelled"),
    ],
)
def test_customer_status_says_what_happened(fields: dict[str, Any], title: str,
                                            text: str) -> None:
    order = make_order(make_shop(), make_customer(), number=7, **fields)
    payload = live.order_for_customer(order)
    assert payload["title"] == title
    assert text in payload["text"]
    assert SECRET_TOKEN not in json.dumps(payload)


def test_customer_sees_who_makes_the_drink_and_may_cancel_only_while_waiting() -> None:
    shop = make_shop()
    barista = make_user("bob", barista=True)
    making = make_order(shop, make_customer(), state=OrderState.IN_PRODUCTION, barista=barista)
    payload = live.order_for_customer(making)
    assert payload["text"] == "Your drink is being made by bob."
    assert payload["can_cancel"] is False
    queued = make_order(shop, make_customer(), number=2)
    assert live.order_for_customer(queued)["can_cancel"] is True


def test_push_order_numbers_each_stream_and_reaches_only_its_customer(
    send_now: Any, listeners: list[Listener]
) -> None:
    shop = make_shop()
    ada, bob = make_customer("Ada"), make_customer("Bob")
    ada_order = make_order(shop, ada, number=1)
    bob_order = make_order(shop, bob, number=2)
    board = Listener(live.board_group(shop.slug))
    ada_socket = Listener(live.customer_group(ada.pk))
    bob_socket = Listener(live.customer_group(bob.pk))
    listeners += [board, ada_socket, bob_socket]

    send_now(live.push_order, bob_order.pk)
    send_now(live.push_order, ada_order.pk)

    first, second = board.receive(), board.receive()
    assert (first["type"], first["seq"], first["order"]["id"]) == ("order", 1, bob_order.pk)
    assert (second["seq"], second["order"]["id"]) == (2, ada_order.pk)
    to_ada = ada_socket.receive()
    assert (to_ada["type"], to_ada["seq"], to_ada["order"]["id"]) == ("order", 1, ada_order.pk)
    to_bob = bob_socket.receive()
    assert to_bob["order"]["id"] == bob_order.pk
    ada_socket.assert_silent()
    bob_socket.assert_silent()
    assert Shop.objects.get(pk=shop.pk).board_seq == 2
    assert Customer.objects.get(pk=ada.pk).live_seq == 1


def test_push_of_a_missing_order_or_shop_sends_nothing(send_now: Any) -> None:
    assert send_now(live.push_order, "no-such-order") is False
    assert send_now(live.push_shop, "no-such-shop") is False


def test_push_shop_reaches_board_and_public_followers(
    send_now: Any, listeners: list[Listener]
) -> None:
    shop = make_shop(is_open=True)
    board = Listener(live.board_group(shop.slug))
    public = Listener(live.public_group(shop.slug))
    listeners += [board, public]
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    send_now(live.push_shop, shop.slug)
    on_board = board.receive()
    assert (on_board["type"], on_board["seq"]) == ("shop", 1)
    assert on_board["shop"]["is_open"] is False
    on_public = public.receive()
    assert on_public == {"type": "shop", "shop": on_board["shop"]}
    assert "seq" not in on_public


def context_for(event_id: str = "") -> DeliveryContext:
    return DeliveryContext(event={}, event_id=event_id or str(uuid.uuid4()),
                           bus_name="Serverlesspresso", rule_name="Publisher", rule_arn="arn",
                           target_id="orders-live-push", delivery_id=str(uuid.uuid4()),
                           attempt=1, publisher=PUBLISHER)


def envelope(detail_type: str, **detail: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "detail-type": detail_type,
            "source": "awsserverlessda.serverlesspresso", "detail": detail}


def test_handler_turns_a_new_order_into_order_and_window_deltas(
    send_now: Any, listeners: list[Listener]
) -> None:
    from orders.services import qr_window_current

    shop = make_shop()
    window = qr_window_current(shop=shop)
    window.redeemed = 3
    window.save(update_fields=["redeemed"])
    customer = make_customer()
    order = make_order(shop, customer, state=OrderState.NEW, number=None, qr_window=window)
    board = Listener(live.board_group(shop.slug))
    mine = Listener(live.customer_group(customer.pk))
    listeners += [board, mine]
    handler = get_handler("orders.live.push")
    # The envelope's userId is not trusted: pushes go to the order's own customer.
    send_now(handler, envelope("Validator.NewOrder", shopId=shop.slug, orderId=order.pk,
                               userId=str(uuid.uuid4()), Message="scanned"), context_for())
    first, second = board.receive(), board.receive()
    assert (first["type"], first["seq"]) == ("order", 1)
    assert (second["type"], second["seq"]) == ("window", 2)
    assert second["window"]["remaining"] == window.capacity - 3
    assert "code" not in second["window"]
    assert mine.receive()["order"]["state"] == OrderState.NEW


def test_handler_pushes_config_changes_and_refuses_what_is_not_an_envelope(
    send_now: Any, listeners: list[Listener]
) -> None:
    shop = make_shop()
    public = Listener(live.public_group(shop.slug))
    listeners.append(public)
    handler = get_handler("orders.live.push")
    send_now(handler, envelope("ConfigService.ConfigChanged", shopId=shop.slug, Message="x"),
             context_for())
    assert public.receive()["shop"]["slug"] == shop.slug
    with pytest.raises(PermanentHandlerError, match="envelope"):
        handler("just text", context_for())
    # A repeated or late event for an order that is gone is not an error.
    send_now(handler, envelope("OrderManager.MakeOrder", shopId=shop.slug, orderId="gone"),
             context_for())


def apply_board_delta(orders: dict[str, dict[str, Any]], delta: dict[str, Any]) -> None:
    """What the barista page does with an order delta."""
    order = delta["order"]
    if order["state"] in live.BOARD_STATES:
        orders[order["id"]] = order
    else:
        orders.pop(order["id"], None)


def test_snapshot_plus_deltas_equals_a_fresh_snapshot(
    send_now: Any, listeners: list[Listener]
) -> None:
    shop = make_shop()
    barista = make_user("bob", barista=True)
    queued = make_order(shop, make_customer("Ada"), number=1)
    making = make_order(shop, make_customer("Cy"), number=2, state=OrderState.IN_PRODUCTION,
                        barista=barista)
    board = Listener(live.board_group(shop.slug))
    listeners.append(board)
    snapshot = live.board_snapshot(shop.slug)
    orders = {order["id"]: order for order in snapshot["orders"]}
    last_seq = snapshot["seq"]

    now = timezone.now()
    Order.objects.filter(pk=queued.pk).update(state=OrderState.IN_PRODUCTION, barista=barista,
                                              claimed_at=now)
    send_now(live.push_order, queued.pk)
    Order.objects.filter(pk=making.pk).update(state=OrderState.COMPLETED, finished_at=now)
    send_now(live.push_order, making.pk)
    new = make_order(shop, make_customer("Di"), number=3)
    send_now(live.push_order, new.pk)
    Order.objects.filter(pk=new.pk).update(state=OrderState.CANCELLED, finished_at=now)
    send_now(live.push_order, new.pk)
    # Delivered twice (at-least-once): harmless.
    send_now(live.push_order, queued.pk)

    for _ in range(5):
        delta = board.receive()
        assert delta["seq"] == last_seq + 1
        last_seq = delta["seq"]
        apply_board_delta(orders, delta)
    fresh = live.board_snapshot(shop.slug)
    assert fresh["seq"] == last_seq
    assert orders == {order["id"]: order for order in fresh["orders"]}


def test_ready_orders_leave_the_board_after_ready_minutes() -> None:
    shop = make_shop()
    long_ago = timezone.now() - timedelta(minutes=live.READY_MINUTES + 1)
    make_order(shop, make_customer(), number=1, state=OrderState.COMPLETED, finished_at=long_ago)
    recent = make_order(shop, make_customer(), number=2, state=OrderState.COMPLETED,
                        finished_at=timezone.now())
    assert [o["id"] for o in live.board_snapshot(shop.slug)["orders"]] == [recent.pk]


def test_customer_snapshot_holds_only_their_orders_and_their_shops() -> None:
    shop, other_shop = make_shop(), make_shop("other-shop", name="Elsewhere")
    ada, bob = make_customer("Ada"), make_customer("Bob")
    mine = make_order(shop, ada)
    make_order(other_shop, bob)
    snapshot = live.customer_snapshot(ada.pk)
    assert [o["id"] for o in snapshot["orders"]] == [mine.pk]
    assert list(snapshot["shops"]) == [shop.slug]
    assert "Bob" not in json.dumps(snapshot)


def test_the_closing_notice_reaches_the_board_and_customers_mid_order(
    send_now: Any, listeners: list[Listener]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    shop = make_shop(is_open=True)
    closes = timezone.now() + timedelta(minutes=10)
    Shop.objects.filter(pk=shop.pk).update(closing_at=closes)
    board = Listener(live.board_group(shop.slug))
    # A customer mid-order follows the shop's public group (live.groups_of_customer).
    public = Listener(live.public_group(shop.slug))
    listeners += [board, public]
    send_now(get_handler("orders.live.push"),
             envelope("ConfigService.ClosingSoon", shopId=shop.slug, Message="closes soon",
                      closesAt=closes.isoformat()), context_for())
    assert board.receive()["shop"]["closing_at"] == utc_timestamp(closes)
    assert public.receive()["shop"]["closing_at"] == utc_timestamp(closes)
    # A closed shop announces no close.
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    assert live.shop_public(Shop.objects.get(pk=shop.pk))["closing_at"] is None
