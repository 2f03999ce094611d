"""The workflow's automatic steps: starting a redeemed order, and announcing a queued one."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import selectors
from orders.event_details import (
    ManagerWaitingCompletionDetail,
    ShopUnavailableDetail,
    WorkflowStartedDetail,
)
from orders.events import DetailType, emit
from orders.models import Order, QrWindow, Shop
from orders.services.timeouts import time_out
from orders.services.transitions import check_move, move_order, reload_order
from orders.services.wording import clock, minutes_in_words
from orders.workflow import (
    BARISTA_QUEUE_STATES,
    Action,
    Actor,
    OrderError,
    OrderState,
    UnavailableReason,
)
from routing.timestamps import utc_timestamp


def order_start(*, order_id: str) -> Order:
    """The workflow's first step (run for `Validator.NewOrder`): a closed or full shop turns
    the order away (SHOP_UNAVAILABLE, saying which); otherwise it waits for the customer's
    drink until a deadline. Idempotent: an order that is no longer NEW is left as it is."""
    now = timezone.now()
    order = Order.objects.select_related("shop", "customer").filter(pk=order_id).first()
    if order is None:
        raise OrderError(f"There is no order {order_id!r} to start.", "not_found", field="order")
    if order.state != OrderState.NEW:
        return order
    if order.deadline_at is not None and order.deadline_at <= now:
        time_out(order, now)
        return reload_order(order)
    with transaction.atomic():
        # Starts of one shop queue up here, so each counts the places the others took.
        shop = Shop.objects.select_for_update().get(pk=order.shop_id)
        order.shop = shop
        open_orders = selectors.shop_open_order_count(shop=shop)
        if not shop.is_open or open_orders >= shop.max_queue:
            reason = UnavailableReason.CLOSED if not shop.is_open else UnavailableReason.BUSY
            try:
                move_order(order, check_move(order, Action.REFUSE, Actor.SYSTEM), now=now,
                      unavailable_reason=reason, finished_at=now)
            except OrderError:
                return reload_order(order)  # another delivery of the same event got here first
            # The shop closed (or filled) between the redemption and this start: the order
            # turned away gives its place back, once (only the move above got here).
            if order.qr_window_id is not None:
                QrWindow.objects.filter(pk=order.qr_window_id, redeemed__gt=0).update(
                    redeemed=F("redeemed") - 1)
            if reason == UnavailableReason.CLOSED:
                message = f"Sorry, {shop.name} is closed right now, so this order cannot go ahead."
            else:
                message = (f"Sorry, the baristas are too busy right now ({open_orders} orders "
                           f"open, the most is {shop.max_queue}). Please try again in a few "
                           "minutes.")
            emit(DetailType.SHOP_UNAVAILABLE, ShopUnavailableDetail(
                shopId=shop.slug, orderId=order.pk, userId=str(order.customer_id),
                reason=reason.value, Message=message,
            ))
            return order
        try:
            move_order(order, check_move(order, Action.START, Actor.SYSTEM), now=now)
        except OrderError:
            return reload_order(order)
        assert order.deadline_at is not None
        emit(DetailType.WORKFLOW_STARTED, WorkflowStartedDetail(
            shopId=shop.slug, orderId=order.pk, userId=str(order.customer_id),
            deadline=utc_timestamp(order.deadline_at),
            Message=f"The order workflow started: choose your drink by "
                    f"{clock(shop, order.deadline_at)} "
                    f"(you have {minutes_in_words(shop.customer_timeout_seconds)}).",
        ))
    return order


def order_announce(*, order_id: str) -> bool:
    """The order store's step for `OrderProcessor.WaitingCompletion`: announces the queued
    order with its drink (`OrderManager.WaitingCompletion`, what the barista and display
    boards add) exactly once, however often it runs. An order that already left the queue
    is not announced. Returns whether it announced now."""
    now = timezone.now()
    with transaction.atomic():
        announced = Order.objects.filter(
            pk=order_id, announced_at__isnull=True, state__in=BARISTA_QUEUE_STATES
        ).update(announced_at=now)
        if not announced:
            return False
        order = Order.objects.select_related("shop", "customer").get(pk=order_id)
        options = [m["option"] for m in order.modifiers]
        choices: dict[str, list[str]] = {}
        for modifier in order.modifiers:
            choices.setdefault(modifier["group"], []).append(modifier["option"])
        with_options = f" ({', '.join(options)})" if options else ""
        emit(DetailType.MANAGER_WAITING_COMPLETION, ManagerWaitingCompletionDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            state=order.state,
            drinkOrder={"drink": order.drink, "modifiers": options, "choices": choices,
                        "icon": order.icon},
            userId=str(order.customer_id), robot=order.robot,
            Message=f"Order #{order.order_number}, {order.drink}{with_options}, is waiting for a "
                    "barista.",
        ))
    return True

