"""The live-push path's cost: statements per push, the barista's answer, and the kept event
loop pushes leave on (orders/live_send.py). Real database and Redis channel layer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import live, live_send
from orders.models import Customer, Shop
from orders.services import qr_window_current
from orders.workflow import OrderState
from tests.orders.test_live import Listener
from tests.orders.test_live_support import make_customer, make_order, make_shop, make_user

pytestmark = pytest.mark.django_db


def statements(queries: CaptureQueriesContext) -> list[str]:
    """What the code asked of the database, without the test's savepoints around atomic()."""
    return [query["sql"] for query in queries.captured_queries
            if "SAVEPOINT" not in query["sql"].upper()]


@pytest.mark.parametrize("with_window", [False, True])
def test_a_push_numbers_both_streams_and_reads_the_order_in_three_statements(
        with_window: bool, django_capture_on_commit_callbacks: Any) -> None:
    shop = make_shop()
    customer = make_customer()
    order = make_order(shop, customer, state=OrderState.NEW, number=None,
                       qr_window=qr_window_current(shop=shop))
    board = Listener(live.board_group(shop.slug))
    try:
        with CaptureQueriesContext(connection) as queries, \
                django_capture_on_commit_callbacks(execute=True):
            assert live.push_order(order.pk, with_window=with_window) is True
        assert len(statements(queries)) == 3, statements(queries)
        numbers = [board.receive()["seq"] for _ in range(2 if with_window else 1)]
        assert numbers == ([1, 2] if with_window else [1])
        assert Shop.objects.get(pk=shop.pk).board_seq == numbers[-1]
        assert Customer.objects.get(pk=customer.pk).live_seq == 1
    finally:
        board.close()


def test_a_push_of_an_order_without_a_window_takes_one_board_number(
        django_capture_on_commit_callbacks: Any) -> None:
    shop = make_shop()
    order = make_order(shop, make_customer(), state=OrderState.NEW, number=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert live.push_order(order.pk, with_window=True) is True
    assert Shop.objects.get(pk=shop.pk).board_seq == 1


def test_the_baristas_answer_carries_the_board_number_in_two_statements() -> None:
    shop = make_shop()
    order = make_order(shop, make_customer(), barista=make_user("bea", barista=True),
                       state=OrderState.IN_PRODUCTION)
    Shop.objects.filter(pk=shop.pk).update(board_seq=41)
    with CaptureQueriesContext(connection) as queries:
        answer = live.board_order_now(order_id=order.pk, shop_id=shop.pk)
    assert answer is not None
    seq, shown = answer
    assert (seq, shown["id"], shown["state"], shown["barista"]) == (
        41, order.pk, OrderState.IN_PRODUCTION, "bea")
    assert len(statements(queries)) == 2, statements(queries)
    assert live.board_order_now(order_id="no-such-order", shop_id=shop.pk) is None


def test_pushes_from_many_threads_leave_on_one_kept_loop_and_arrive() -> None:
    listener = Listener("bench-kept-loop")
    try:
        def send(n: int) -> None:
            live_send.group_send_all([("bench-kept-loop", {"type": live.MESSAGE_TYPE,
                                                           "payload": {"n": n}})])

        threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(listener.receive()["n"] for _ in range(8)) == list(range(8))
        first = live_send._loop()
        send(8)
        assert live_send._loop() is first
        assert listener.receive()["n"] == 8
    finally:
        listener.close()


def test_a_send_the_channel_layer_refuses_raises_in_the_caller() -> None:
    with pytest.raises(TypeError):
        live_send.group_send_all([("not a valid group name!", {"type": live.MESSAGE_TYPE})])
