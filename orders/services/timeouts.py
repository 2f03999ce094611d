"""Time-outs: an order past its wait's deadline ends (by the sweeper, or by the action that
finds it overdue). Deadlines live in the database, so nothing is lost to a restart."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orders.event_details import OrderTimeoutDetail
from orders.events import DetailType, emit
from orders.models import Order
from orders.services.wording import minutes_in_words, order_label
from orders.workflow import OPEN_STATES, OrderError, OrderState, TimeoutCause, timeout_cause_for

TIME_OUT_BATCH = 500


def timeout_message(order: Order, cause: TimeoutCause) -> str:
    shop = order.shop
    if cause == TimeoutCause.CUSTOMER:
        return (f"The order timed out: no drink was chosen within "
                f"{minutes_in_words(shop.customer_timeout_seconds)}. Scan the QR code again to "
                "start over.")
    if cause == TimeoutCause.BARISTA:
        return (f"The order timed out: the baristas did not complete {order_label(order)} "
                f"within {minutes_in_words(shop.barista_timeout_seconds)}. Sorry! Please ask at "
                "the counter or order again.")
    return (f"The order timed out: the shop could not start it within "
            f"{minutes_in_words(shop.customer_timeout_seconds)} (its workers were not running). "
            "Please scan the QR code again.")


def time_out(order: Order, now: datetime) -> bool:
    """Times out one overdue order, if it still holds the wait it was read with (a submit or
    another action that moved it first wins cleanly). Returns whether it timed out."""
    state = OrderState(order.state)
    cause = timeout_cause_for(state)
    with transaction.atomic():
        moved = Order.objects.filter(
            pk=order.pk, state=state, wait_token=order.wait_token, deadline_at__lte=now,
        ).update(state=OrderState.TIMED_OUT, timeout_cause=cause, wait_kind="", wait_token="",
                 deadline_at=None, finished_at=now, updated_at=now)
        if not moved:
            return False
        emit(DetailType.ORDER_TIMEOUT, OrderTimeoutDetail(
            shopId=order.shop.slug, orderId=order.pk, orderNumber=order.order_number,
            userId=str(order.customer_id), cause=cause.value,
            Message=timeout_message(order, cause),
        ))
    order.state, order.timeout_cause = OrderState.TIMED_OUT, cause
    return True


def time_out_if_overdue(order: Order, now: datetime) -> None:
    """An order past its deadline is timed out now (the sweeper would within seconds), and
    the action refused: the deadline is the truth, not the sweeper's timing."""
    if order.deadline_at is None or order.deadline_at > now:
        return
    cause = timeout_cause_for(OrderState(order.state))
    if not time_out(order, now):
        raise OrderError("This order changed a moment ago. Please look at it again.",
                         "stale_token")
    raise OrderError(timeout_message(order, cause), "invalid_state")


def orders_time_out_overdue(*, now: datetime | None = None) -> int:
    """Times out every order whose wait deadline has passed (`OrderProcessor.OrderTimeOut`
    with the cause). Deadlines live in the database, so nothing is lost to a restart."""
    now = now or timezone.now()
    overdue = list(
        Order.objects.filter(state__in=OPEN_STATES, deadline_at__lte=now)
        .select_related("shop").order_by("deadline_at")[:TIME_OUT_BATCH]
    )
    return sum(1 for order in overdue if time_out(order, now))

