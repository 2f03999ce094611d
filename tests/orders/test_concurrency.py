"""The shop's guarantees under real concurrency, on PostgreSQL (row locks, READ COMMITTED):

- a QR window never accepts more than its capacity, however many redeem at once;
- one customer redeeming many times at once gets no more than the daily limit;
- submits at once get distinct, consecutive order numbers;
- a time-out racing a submit: exactly one of them wins, and only its event exists;
- two baristas claiming at once: one wins; starts at once never overfill the queue;
- concurrent first requests for a window all get the same window.

Run them with DATABASE_URL=postgres://... (CI runs the suite on both databases)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections
from django.utils import timezone

from orders.events import DetailType
from orders.models import Customer, Order, OrderCounter, QrWindow, Shop
from orders.services import (
    OrderError,
    order_claim,
    order_redeem,
    order_start,
    order_submit,
    orders_time_out_overdue,
    qr_window_current,
    shop_set_open,
)
from orders.workflow import OrderState
from tests.orders.conftest import (
    make_barista,
    make_customer,
    make_shop,
    queued,
    redeem,
    shop_events,
    started,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency guarantees rest on PostgreSQL's row locks; SQLite runs one writer "
               "at a time (run with DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]

T = TypeVar("T")


def run_at_once(calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Runs every call in its own thread (own database connection), released together."""
    barrier = threading.Barrier(len(calls))
    results: list[T | Exception] = [RuntimeError("did not run")] * len(calls)

    def run(position: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[position] = call()
        except Exception as error:  # collected: the test looks at every outcome
            results[position] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def errors_of(results: Sequence[Any]) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


def test_a_window_never_accepts_more_than_its_capacity(db: None) -> None:
    shop = make_shop(drinks_per_window=5)
    window = qr_window_current(shop=shop)
    customers = [make_customer(f"C{n}") for n in range(20)]
    results = run_at_once([
        (lambda c=c: order_redeem(shop=shop, code=window.code, customer=c)) for c in customers
    ])
    orders = [r for r in results if isinstance(r, Order)]
    refused = errors_of(results)
    assert len(orders) == 5
    assert len(refused) == 15
    assert all(isinstance(e, OrderError) and e.code == "window_exhausted" for e in refused)
    window.refresh_from_db()
    assert window.redeemed == 5
    assert Order.objects.filter(qr_window=window).count() == 5
    assert len(shop_events(DetailType.NEW_ORDER)) == 5
    assert sorted(e.detail["window"]["remaining"] for e in shop_events(DetailType.NEW_ORDER)) \
        == [0, 1, 2, 3, 4]


def test_one_customer_at_once_gets_no_more_than_the_daily_limit(db: None) -> None:
    shop = make_shop(max_orders_per_customer_per_day=2)
    window = qr_window_current(shop=shop)
    customer = make_customer("Greedy")
    results = run_at_once([
        (lambda: order_redeem(shop=shop, code=window.code, customer=customer))
        for _ in range(10)
    ])
    assert len([r for r in results if isinstance(r, Order)]) == 2
    assert all(isinstance(e, OrderError) and e.code == "daily_limit" for e in errors_of(results))
    window.refresh_from_db()
    assert window.redeemed == 2


def test_submits_at_once_get_distinct_consecutive_numbers(db: None) -> None:
    shop = make_shop(max_queue=50, drinks_per_window=50)
    pairs = []
    for n in range(15):
        customer = make_customer(f"C{n}")
        pairs.append((started(shop, customer), customer))
    results = run_at_once([
        (lambda o=order, c=customer: order_submit(order=o, customer=c, drink_name="Espresso",
                                                  choices={}))
        for order, customer in pairs
    ])
    assert not errors_of(results)
    numbers = sorted(Order.objects.filter(shop=shop).values_list("order_number", flat=True))
    assert numbers == list(range(1, 16))
    assert OrderCounter.objects.get(shop=shop).value == 15


def test_a_time_out_racing_a_submit_one_wins(db: None) -> None:
    shop = make_shop(max_queue=50, drinks_per_window=50)
    pairs = []
    for n in range(15):
        customer = make_customer(f"C{n}")
        pairs.append((started(shop, customer), customer))
    later = timezone.now() + timedelta(hours=1)
    submits: list[Callable[[], Any]] = [
        (lambda o=order, c=customer: order_submit(order=o, customer=c, drink_name="Espresso",
                                                  choices={}))
        for order, customer in pairs
    ]
    results = run_at_once([*submits, lambda: orders_time_out_overdue(now=later)])
    *submitted, timed_out = results
    assert isinstance(timed_out, int)
    outcomes = {"submit": 0, "time-out": 0}
    for (order, _), result in zip(pairs, submitted, strict=True):
        row = Order.objects.get(pk=order.pk)
        types = [e.detail_type for e in shop_events(order_id=order.pk)]
        if isinstance(result, Order):
            outcomes["submit"] += 1
            assert row.state == OrderState.QUEUED
            assert DetailType.PROCESSOR_WAITING_COMPLETION in types
            assert DetailType.ORDER_TIMEOUT not in types
        else:
            outcomes["time-out"] += 1
            assert isinstance(result, OrderError)
            assert result.code in {"stale_token", "invalid_state"}
            assert (row.state, row.timeout_cause) == (OrderState.TIMED_OUT, "Customer timedout")
            assert row.order_number is None
            assert types.count(DetailType.ORDER_TIMEOUT) == 1
            assert DetailType.PROCESSOR_WAITING_COMPLETION not in types
    assert outcomes["time-out"] == timed_out
    assert sum(outcomes.values()) == 15
    numbers = sorted(n for n in Order.objects.values_list("order_number", flat=True) if n)
    assert numbers == list(range(1, outcomes["submit"] + 1))


def test_two_baristas_claiming_at_once_one_wins(db: None) -> None:
    shop = make_shop()
    order = queued(shop, make_customer("Ada"))
    baristas: list[User] = [make_barista(f"b{n}") for n in range(6)]
    results = run_at_once([(lambda b=b: order_claim(order=order, barista=b)) for b in baristas])
    winners = [r for r in results if isinstance(r, Order)]
    assert len(winners) == 1
    assert all(isinstance(e, OrderError) and e.code in {"stale_token", "invalid_state"}
               for e in errors_of(results))
    row = Order.objects.get(pk=order.pk)
    assert row.barista_id == winners[0].barista_id
    assert len(shop_events(DetailType.MAKE_ORDER)) == 1


def test_starts_at_once_never_overfill_the_queue(db: None) -> None:
    shop = make_shop(max_queue=12, drinks_per_window=20)
    orders = [redeem(shop, make_customer(f"C{n}")) for n in range(12)]
    # The queue shrinks after the codes were accepted: the starts settle who goes ahead.
    Shop.objects.filter(pk=shop.pk).update(max_queue=3)
    results = run_at_once([(lambda o=o: order_start(order_id=o.pk)) for o in orders])
    assert not errors_of(results)
    states = list(Order.objects.values_list("state", flat=True))
    assert states.count(OrderState.WAITING_FOR_DRINK) == 3
    assert states.count(OrderState.SHOP_UNAVAILABLE) == 9
    assert set(Order.objects.filter(state=OrderState.SHOP_UNAVAILABLE)
               .values_list("unavailable_reason", flat=True)) == {"busy"}
    # Each order turned away gave its place back, once.
    assert qr_window_current(shop=shop).redeemed == 3


# Places only for accepted orders ------------------------------------------------------------

def test_redemptions_at_once_at_a_closed_shop_take_no_place(db: None) -> None:
    shop = make_shop(is_open=False, drinks_per_window=10)
    window = qr_window_current(shop=shop)
    customers = [make_customer(f"C{n}") for n in range(10)]
    results = run_at_once([
        (lambda c=c: order_redeem(shop=shop, code=window.code, customer=c)) for c in customers
    ])
    assert all(isinstance(r, OrderError) and r.code == "shop_closed" for r in results), results
    window.refresh_from_db()
    assert window.redeemed == 0
    assert not Order.objects.exists()
    assert not shop_events(DetailType.NEW_ORDER)


def test_redemptions_at_once_at_a_full_queue_take_only_the_free_places(db: None) -> None:
    shop = make_shop(max_queue=4, drinks_per_window=20)
    started(shop, make_customer("Early"))  # one place of the queue is taken already
    window = qr_window_current(shop=shop)
    before = window.redeemed
    customers = [make_customer(f"C{n}") for n in range(12)]
    results = run_at_once([
        (lambda c=c: order_redeem(shop=shop, code=window.code, customer=c)) for c in customers
    ])
    accepted = [r for r in results if isinstance(r, Order)]
    assert len(accepted) == 3
    assert all(isinstance(e, OrderError) and e.code == "shop_busy" for e in errors_of(results))
    window.refresh_from_db()
    assert window.redeemed == before + 3
    assert Order.objects.filter(qr_window=window).count() == window.redeemed


def test_a_shop_closing_among_redemptions_leaves_places_only_to_accepted_orders(
    db: None,
) -> None:
    shop = make_shop(drinks_per_window=30, max_queue=30)
    barista = make_barista("closer")
    window = qr_window_current(shop=shop)
    customers = [make_customer(f"C{n}") for n in range(12)]
    calls: list[Callable[[], object]] = [
        (lambda c=c: order_redeem(shop=shop, code=window.code, customer=c)) for c in customers
    ]
    calls.insert(6, lambda: shop_set_open(shop=shop, is_open=False, user=barista))
    results = run_at_once(calls)
    refused = errors_of(results)
    assert all(isinstance(e, OrderError) and e.code == "shop_closed" for e in refused)
    window.refresh_from_db()
    accepted = Order.objects.filter(qr_window=window).count()
    assert window.redeemed == accepted == len(customers) - len(refused)


def test_first_requests_at_once_get_one_window(db: None) -> None:
    shop: Shop = make_shop()
    moment = timezone.now() + timedelta(hours=2)
    results = run_at_once([(lambda: qr_window_current(shop=shop, now=moment))
                           for _ in range(10)])
    assert not errors_of(results)
    assert len({window.pk for window in results if isinstance(window, QrWindow)}) == 1
    assert QrWindow.objects.filter(shop=shop).count() == 1
    assert Customer.objects.count() == 0
