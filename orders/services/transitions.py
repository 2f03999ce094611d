"""How an order moves: re-read, checked against the pure workflow, then one conditional UPDATE
on the state, wait token and barista it was read with. Of two concurrent actions exactly one
matches the row; the other is refused with a clear message instead of overwriting it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from orders.models import Order, Shop
from orders.workflow import (
    Action,
    Actor,
    OrderError,
    OrderState,
    Transition,
    TransitionRefused,
    WaitKind,
    check_transition,
    describe_state,
)


def reload_order(order: Order) -> Order:
    """The order as it is now (callers may hold an old copy)."""
    fresh = Order.objects.select_related("shop", "customer", "barista").filter(
        pk=order.pk
    ).first()
    if fresh is None:
        raise OrderError("There is no such order.", "not_found", field="order")
    return fresh


def check_move(order: Order, action: Action, actor: Actor) -> Transition:
    try:
        return check_transition(OrderState(order.state), action, actor)
    except TransitionRefused as refused:
        raise OrderError(refused.message, refused.code) from None


def _deadline(shop: Shop, wait: WaitKind, now: datetime) -> datetime:
    seconds = (shop.customer_timeout_seconds if wait == WaitKind.CUSTOMER
               else shop.barista_timeout_seconds)
    return now + timedelta(seconds=seconds)


def move_order(order: Order, transition: Transition, *, now: datetime, **changes: Any) -> Order:
    """Applies `transition` with one conditional UPDATE on what the order was read with (state,
    wait token, barista): if anything moved it meanwhile, nothing is written and the caller is
    told. A new wait gets a fresh single-use token and deadline; an unchanged one keeps both."""
    values: dict[str, Any] = {"state": transition.target, "updated_at": now, **changes}
    wait = transition.then_waits_for
    if wait is None:
        values.update(wait_kind="", wait_token="", deadline_at=None)
    elif wait != order.wait_kind:
        values.update(wait_kind=wait, wait_token=secrets.token_urlsafe(24),
                      deadline_at=_deadline(order.shop, wait, now))
    moved = Order.objects.filter(
        pk=order.pk, state=order.state, wait_token=order.wait_token, barista_id=order.barista_id
    ).update(**values)
    if not moved:
        current = Order.objects.filter(pk=order.pk).values_list("state", flat=True).first()
        now_in = describe_state(OrderState(current)) if current else "no longer exists"
        raise OrderError(
            f"This order changed a moment ago (it {now_in}). Please look at it again.",
            "stale_token",
        )
    for name, value in values.items():
        setattr(order, name, value)
    return order

