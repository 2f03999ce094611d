"""The shop's services that react to events: each is a handler registered by name, and rules
(stored as data on the Serverlesspresso bus, see orders/rules.py) route events to them. The
workflow never calls them directly.

They trust a publisher, not a source string: each acts only on events the shop's own service
published (or replays of them); anything else is dead-lettered untouched, visible in the
dashboard. Delivery is at-least-once and replays deliver copies, so each is idempotent per
ORIGINAL event (`context.original_event_id`: a replayed copy counts as the event it copies):
the workflow and the order store through conditional updates of the order (a second delivery
finds nothing left to do), metrics through a ProcessedEvent row written in the same
transaction as the counts, the journey through the unique event id of its entries. A handler
raises PermanentHandlerError for an event it can never handle (dead-lettered at once); anything
else it raises is retried by the target's policy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from orders.events import DetailType, shop_published
from orders.metrics import Counter, counter_name
from orders.models import DailyMetric, JourneyEntry, Order, ProcessedEvent, Shop
from orders.services import order_announce, order_start
from orders.workflow import OrderError
from routing.handlers import HandlerContext, PermanentHandlerError, register_handler
from routing.models import Event

logger = logging.getLogger(__name__)


def _detail(payload: Any, handler: str, context: HandlerContext) -> dict[str, Any]:
    """The event's detail, once the event is known to be the shop's own."""
    if not shop_published(context.publisher):
        raise PermanentHandlerError(
            f"{handler} acts only on events the shop published; event {context.event_id} was "
            f"published by {context.publisher.label or 'an unknown publisher'}: ignored."
        )
    if not isinstance(payload, dict) or not isinstance(payload.get("detail"), dict):
        raise PermanentHandlerError(f"{handler} expects a whole event envelope with a detail.")
    detail: dict[str, Any] = payload["detail"]
    return detail


def _order_id(detail: dict[str, Any], handler: str) -> str:
    order_id = detail.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise PermanentHandlerError(f"{handler} needs detail.orderId (a string).")
    return order_id


@register_handler("orders.workflow.start")
def start_workflow(payload: Any, context: HandlerContext) -> None:
    """Validator.NewOrder → the workflow's first step (open? room in the queue?)."""
    handler = "orders.workflow.start"
    order_id = _order_id(_detail(payload, handler, context), handler)
    try:
        order_start(order_id=order_id)
    except OrderError as error:
        raise PermanentHandlerError(error.message) from None


@register_handler("orders.store.waiting_completion")
def announce_waiting_order(payload: Any, context: HandlerContext) -> None:
    """OrderProcessor.WaitingCompletion → OrderManager.WaitingCompletion, once per order."""
    handler = "orders.store.waiting_completion"
    order_id = _order_id(_detail(payload, handler, context), handler)
    if not Order.objects.filter(pk=order_id).exists():
        raise PermanentHandlerError(f"There is no order {order_id!r} to announce.")
    if not order_announce(order_id=order_id):
        logger.info("order %s: already announced or no longer queued (event %s)", order_id,
                    context.event_id)


# Metrics -------------------------------------------------------------------------------------

def metric_increments(detail_type: str, detail: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """The (counter name, quantity) pairs one event adds to; each adds 1 to its count and the
    quantity to its total. orders/metrics.py reads them back."""
    match detail_type:
        case DetailType.NEW_ORDER:
            yield counter_name(Counter.ORDERS, "started"), 0
        case DetailType.SHOP_UNAVAILABLE:
            yield counter_name(Counter.ORDERS, "unavailable"), 0
            if isinstance(detail.get("reason"), str):
                yield counter_name(Counter.ORDERS, "unavailable", detail["reason"]), 0
        case DetailType.PROCESSOR_WAITING_COMPLETION:
            yield counter_name(Counter.ORDERS, "submitted"), 0
        case DetailType.MANAGER_WAITING_COMPLETION:
            drink_order = detail.get("drinkOrder") or {}
            if isinstance(drink_order.get("drink"), str):
                yield counter_name(Counter.DRINK, drink_order["drink"]), 0
            for option in drink_order.get("modifiers") or []:
                if isinstance(option, str):
                    yield counter_name(Counter.MODIFIER, option), 0
        case DetailType.ORDER_COMPLETED:
            yield counter_name(Counter.ORDERS, "completed"), 0
            wait = detail.get("waitSeconds")
            if isinstance(detail.get("drink"), str) and isinstance(wait, int | float):
                yield counter_name(Counter.WAIT, detail["drink"]), float(wait)
        case DetailType.ORDER_CANCELLED:
            yield counter_name(Counter.ORDERS, "cancelled"), 0
            if isinstance(detail.get("cancelledBy"), str):
                yield counter_name(Counter.ORDERS, "cancelled", detail["cancelledBy"]), 0
        case DetailType.ORDER_TIMEOUT:
            yield counter_name(Counter.ORDERS, "timed_out"), 0
        case _:
            return


@register_handler("orders.metrics.record")
def record_metrics(payload: Any, context: HandlerContext) -> None:
    """Counts the shop's day: orders started, submitted, completed, cancelled, timed out and
    turned away, drinks and modifiers ordered, and the wait from submit to pickup per drink."""
    detail = _detail(payload, "orders.metrics.record", context)
    increments = list(metric_increments(str(payload.get("detail-type")), detail))
    if not increments:
        return
    shop = Shop.objects.filter(slug=detail.get("shopId")).first()
    if shop is None:
        logger.info("metrics: event %s names no known shop (%r); not counted", context.event_id,
                    detail.get("shopId"))
        return
    day = shop.business_date(_event_time(context))
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProcessedEvent.objects.create(subscriber="orders.metrics",
                                              event_id=context.original_event_id)
        except IntegrityError:
            return  # counted by an earlier delivery of this event, or of the one it replays
        for name, quantity in increments:
            metric, _ = DailyMetric.objects.get_or_create(shop=shop, business_date=day,
                                                          name=name)
            DailyMetric.objects.filter(pk=metric.pk).update(count=F("count") + 1,
                                                            total=F("total") + quantity)


def _event_time(context: HandlerContext) -> datetime:
    """The event's own time (the envelope's is rounded to the second)."""
    moment = Event.objects.filter(pk=context.event_id).values_list("time", flat=True).first()
    return moment or timezone.now()


# Journey -------------------------------------------------------------------------------------

@register_handler("orders.journey.record")
def record_journey(payload: Any, context: HandlerContext) -> None:
    """One journey entry per event of an order: what the order's journey page lists."""
    detail = _detail(payload, "orders.journey.record", context)
    order_id = detail.get("orderId")
    if not isinstance(order_id, str) or not Order.objects.filter(pk=order_id).exists():
        # An order since deleted, or a shop event naming none: nothing to record.
        logger.info("journey: event %s names no known order (%r)", context.event_id, order_id)
        return
    JourneyEntry.objects.get_or_create(
        event_id=context.original_event_id,
        defaults={
            "order_id": order_id,
            "detail_type": str(payload.get("detail-type", ""))[:128],
            "message": str(detail.get("Message", "")),
            "detail": detail,
            "time": _event_time(context),
        },
    )
