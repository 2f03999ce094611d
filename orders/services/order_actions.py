"""The customer's and the baristas' actions on an order: submit a drink, claim, hand back,
complete, cancel. Each checks who acts, moves the order (orders/services/transitions.py) and
emits its events in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import selectors
from orders.event_details import (
    MakeOrderDetail,
    OrderCancelledDetail,
    OrderCompletedDetail,
    OrderFinishedDetail,
    ProcessorWaitingCompletionDetail,
)
from orders.events import DetailType, emit
from orders.models import Customer, Order, OrderCounter
from orders.permissions import ActingUser, is_staff, require_barista
from orders.services.timeouts import time_out_if_overdue
from orders.services.transitions import check_move, move_order, reload_order
from orders.services.wording import minutes_in_words, order_label, person_name
from orders.workflow import (
    CUSTOMER_CANCEL_REASONS,
    Action,
    Actor,
    CancelledBy,
    InvalidDrinkChoice,
    OrderError,
    OrderState,
    validate_drink_choice,
)

REASON_MAX_LENGTH = 200


def _normalise_choices(choices: Any) -> dict[str, list[str]]:
    if choices is None:
        return {}
    if not isinstance(choices, Mapping):
        raise OrderError("The drink's options were not understood.", "invalid_drink",
                         field="choices")
    normalised: dict[str, list[str]] = {}
    for group, options in choices.items():
        if isinstance(options, str):
            options = [options]
        if not isinstance(group, str) or not isinstance(options, list | tuple) or not all(
            isinstance(option, str) for option in options
        ):
            raise OrderError(f"The {group} options were not understood.", "invalid_drink",
                             field=str(group))
        normalised[group] = [option.strip() for option in options if option.strip()]
    return normalised


def order_submit(
    *, order: Order, customer: Customer, drink_name: str, choices: dict[str, list[str]]
) -> Order:
    """The customer's drink: checked at once against the shop's current menu (nothing is
    stored if it is not valid), then the customer's wait token is used up, the order gets the
    next number of the shop's day and waits for the baristas (`OrderProcessor.
    WaitingCompletion`)."""
    now = timezone.now()
    order = reload_order(order)
    if order.customer_id != customer.pk:
        raise OrderError("This is not your order.", "forbidden")
    transition = check_move(order, Action.SUBMIT, Actor.CUSTOMER)
    time_out_if_overdue(order, now)
    drink_name = drink_name.strip() if isinstance(drink_name, str) else ""
    found = selectors.menu_drink(shop=order.shop, name=drink_name) if drink_name else None
    try:
        modifiers = validate_drink_choice(found[0] if found else None,
                                          _normalise_choices(choices))
    except InvalidDrinkChoice as invalid:
        raise OrderError(invalid.message, "invalid_drink", field=invalid.field) from None
    assert found is not None
    drink = found[1]
    with transaction.atomic():
        move_order(order, transition, now=now, drink=drink.name, icon=drink.icon,
              modifiers=modifiers, submitted_at=now)
        order.order_number = _next_order_number(order, now)
        Order.objects.filter(pk=order.pk).update(order_number=order.order_number)
        options = ", ".join(m["option"] for m in modifiers)
        emit(DetailType.PROCESSOR_WAITING_COMPLETION, ProcessorWaitingCompletionDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            userId=str(customer.pk),
            Message=f"The customer ordered a {drink.name}"
                    f"{f' ({options})' if options else ''}: it is order #{order.order_number}, "
                    f"and the baristas have {minutes_in_words(order.shop.barista_timeout_seconds)} "
                    "to make it.",
        ))
    return order


def _next_order_number(order: Order, now: datetime) -> int:
    """The next number of the shop's day. The counter row stays locked by the UPDATE until
    commit, so concurrent submits get distinct, consecutive numbers in commit order."""
    counter, _ = OrderCounter.objects.get_or_create(shop_id=order.shop_id,
                                                    business_date=order.business_date)
    OrderCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    return OrderCounter.objects.values_list("value", flat=True).get(pk=counter.pk)


def order_claim(*, order: Order, barista: ActingUser) -> Order:
    """A barista starts making a queued order (`OrderManager.MakeOrder`)."""
    barista = require_barista(barista, "start making orders")
    now = timezone.now()
    order = reload_order(order)
    if order.state == OrderState.IN_PRODUCTION and order.barista_id is not None:
        who = "You are" if order.barista_id == barista.pk else f"{person_name(order.barista)} is"
        raise OrderError(f"{who} already making this order.", "invalid_state")
    transition = check_move(order, Action.CLAIM, Actor.BARISTA)
    time_out_if_overdue(order, now)
    with transaction.atomic():
        move_order(order, transition, now=now, barista=barista, claimed_at=now)
        emit(DetailType.MAKE_ORDER, MakeOrderDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            baristaUserId=str(barista.pk), baristaName=person_name(barista),
            userId=str(order.customer_id),
            Message=f"{person_name(barista)} is making {order_label(order)} ({order.drink}).",
        ))
    return order


def _require_claimer_or_staff(order: Order, barista: User, doing: str) -> None:
    if (order.state == OrderState.IN_PRODUCTION and order.barista_id is not None
            and order.barista_id != barista.pk and not is_staff(barista)):
        raise OrderError(
            f"{person_name(order.barista)} is making this order: only they or a shop manager can "
            f"{doing} it.",
            "forbidden",
        )


def order_unclaim(*, order: Order, barista: ActingUser) -> Order:
    """Hands an order being made back to the queue (only its barista, or staff)."""
    barista = require_barista(barista, "hand orders back")
    now = timezone.now()
    order = reload_order(order)
    transition = check_move(order, Action.UNCLAIM, Actor.BARISTA)
    _require_claimer_or_staff(order, barista, "hand back")
    time_out_if_overdue(order, now)
    with transaction.atomic():
        move_order(order, transition, now=now, barista=None, claimed_at=None)
        emit(DetailType.MAKE_ORDER, MakeOrderDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            baristaUserId="", baristaName="", userId=str(order.customer_id),
            Message=f"{person_name(barista)} handed {order_label(order)} ({order.drink}) back to "
                    "the queue.",
        ))
    return order


def _emit_finished(order: Order, outcome: Literal["completed", "cancelled"],
                   message: str) -> None:
    emit(DetailType.ORDER_FINISHED, OrderFinishedDetail(
        shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
        userId=str(order.customer_id), outcome=outcome, Message=message,
    ))


def order_complete(*, order: Order, barista: ActingUser) -> Order:
    """The drink is ready for pickup (`OrderManager.OrderCompleted`, then the workflow's
    `OrderProcessor.orderFinished` with outcome "completed")."""
    barista = require_barista(barista, "complete orders")
    now = timezone.now()
    order = reload_order(order)
    transition = check_move(order, Action.COMPLETE, Actor.BARISTA)
    _require_claimer_or_staff(order, barista, "complete")
    time_out_if_overdue(order, now)
    maker = order.barista or barista
    with transaction.atomic():
        move_order(order, transition, now=now, barista=maker, finished_at=now)
        wait = (now - order.submitted_at).total_seconds() if order.submitted_at else None
        emit(DetailType.ORDER_COMPLETED, OrderCompletedDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            userId=str(order.customer_id), baristaUserId=str(maker.pk),
            baristaName=person_name(maker), drink=order.drink,
            waitSeconds=round(wait, 3) if wait is not None else None,
            Message=f"{order.drink} is ready for pickup ({order_label(order)}).",
        ))
        _emit_finished(order, "completed",
                       "The order workflow finished: the order was completed.")
    return order


def order_cancel(
    *,
    order: Order,
    by: CancelledBy | str,
    customer: Customer | None = None,
    barista: ActingUser = None,
    reason: str = "",
) -> Order:
    """Cancels an order: its customer while it waits (choosing, or queued), a barista until
    it is ready (an order being made: its barista or staff). Emits `OrderManager.
    OrderCancelled`, then `OrderProcessor.orderFinished` with outcome "cancelled"."""
    try:
        by = CancelledBy(by)
    except ValueError:
        raise OrderError("An order is cancelled by its customer or by a barista.", "forbidden",
                         field="by") from None
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if len(reason) > REASON_MAX_LENGTH:
        raise OrderError(f"Please keep the reason under {REASON_MAX_LENGTH} characters "
                         f"(this one has {len(reason)}).", "invalid_reason", field="reason")
    if by == CancelledBy.CUSTOMER and reason and reason not in CUSTOMER_CANCEL_REASONS:
        # The reason goes into the immutable event: a customer picks one, never types one.
        raise OrderError(f"Please pick one of the reasons: {', '.join(CUSTOMER_CANCEL_REASONS)}.",
                         "invalid_reason", field="reason")
    now = timezone.now()
    order = reload_order(order)
    if by == CancelledBy.CUSTOMER:
        if customer is None or order.customer_id != customer.pk:
            raise OrderError("You can only cancel your own order.", "forbidden")
        transition = check_move(order, Action.CANCEL, Actor.CUSTOMER)
        who = "The customer"
    else:
        barista = require_barista(barista, "cancel orders")
        transition = check_move(order, Action.CANCEL, Actor.BARISTA)
        _require_claimer_or_staff(order, barista, "cancel")
        who = f"{person_name(barista)} (barista)"
    time_out_if_overdue(order, now)
    with transaction.atomic():
        move_order(order, transition, now=now, cancelled_by=by, cancel_reason=reason,
              finished_at=now)
        because = f": {reason}" if reason else "."
        emit(DetailType.ORDER_CANCELLED, OrderCancelledDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            userId=str(order.customer_id), cancelledBy=by.value, reason=reason,
            Message=f"{who} cancelled {order_label(order)}{because}",
        ))
        _emit_finished(order, "cancelled",
                       f"The order workflow finished: the order was cancelled by the {by.value}.")
    return order

