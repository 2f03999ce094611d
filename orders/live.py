"""Live pages: snapshots and sequenced deltas pushed to websocket groups, and the
`orders.live.push` subscriber that turns bus events into those pushes.

Three streams, each a Channels group:

- `shop-<slug>-board` (baristas and staff: the barista and display pages): every order the
  baristas deal with, the shop's status and the current QR window. Numbered by `Shop.board_seq`.
- `customer-<uuid>` (one customer's own socket): that customer's orders, nothing else. Numbered
  by `Customer.live_seq`.
- `shop-<slug>-public` (anyone): whether the shop is open and its menu version. Each message is
  the whole public state with a `version`, so it needs no sequence.

A delta carries the full current state of what changed, read from the database after its
sequence number was taken, so applying one twice is harmless and a higher number never carries
older state. A client that sees a gap (seq > last + 1) asks for a fresh snapshot. The channel
layer is at-most-once: the database is the truth, and pushes leave only after commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from orders import selectors
from orders.events import shop_published
from orders.live_messages import (
    BoardOrder,
    BoardSnapshot,
    CustomerOrder,
    CustomerSnapshot,
    LiveMessage,
    PublicSnapshot,
    ShopPublic,
    WindowPublic,
)
from orders.live_send import group_send_all
from orders.models import Customer, Order, QrWindow, Shop
from orders.services import qr_window_current
from orders.workflow import (
    CUSTOMER_CANCELLABLE,
    FINAL_STATES,
    OrderState,
    TimeoutCause,
    UnavailableReason,
)
from routing.handlers import HandlerContext, PermanentHandlerError, register_handler
from routing.sockets import LIVE_MESSAGE_TYPE
from routing.timestamps import utc_timestamp

logger = logging.getLogger(__name__)

# The channel layer message type every live group carries; consumers forward its payload.
MESSAGE_TYPE = LIVE_MESSAGE_TYPE
# Completed orders stay on the "Ready" columns this long.
READY_MINUTES = 10
# A customer's socket snapshot holds their orders of this period (their pages show one order).
CUSTOMER_SNAPSHOT_HOURS = 24
CUSTOMER_SNAPSHOT_LIMIT = 20
BOARD_STATES = (OrderState.QUEUED, OrderState.IN_PRODUCTION, OrderState.COMPLETED)


# --- group names (ASCII letters, digits, '-', '_', '.'; under 100 characters) ---------------

def board_group(shop_slug: str) -> str:
    return f"shop-{shop_slug}-board"


def public_group(shop_slug: str) -> str:
    return f"shop-{shop_slug}-public"


def customer_group(customer_id: uuid.UUID | str) -> str:
    return f"customer-{uuid.UUID(str(customer_id))}"


# --- what each audience may see ------------------------------------------------------------

def first_name(name: str) -> str:
    parts = name.strip().split()
    return parts[0][:20] if parts else ""


def staff_name(user: Any) -> str:
    """How a barista is named to customers and colleagues: their first name, else username."""
    if user is None:
        return ""
    return (user.first_name or "").strip() or user.get_username()


def shop_public(shop: Shop) -> ShopPublic:
    return {
        "slug": shop.slug,
        "name": shop.name,
        "is_open": shop.is_open,
        # The coming close, once the "closing soon" notice went out (orders/opening.py).
        "closing_at": utc_timestamp(shop.closing_at) if shop.is_open else None,
        "config_version": shop.config_version,
        # Orders public messages; the board's sequence only ever grows.
        "version": shop.board_seq,
    }


def window_public(window: QrWindow) -> WindowPublic:
    """A QR window without its code (the code only travels with the display's QR image)."""
    return {
        "id": window.pk,
        "starts_at": utc_timestamp(window.starts_at),
        "ends_at": utc_timestamp(window.ends_at),
        "capacity": window.capacity,
        "remaining": window.remaining,
    }


def order_for_board(order: Order) -> BoardOrder:
    """An order as baristas and the display see it: no token, no customer id, and only the
    customer's first name (what a barista calls out)."""
    return {
        "id": order.pk,
        "number": order.order_number,
        "state": order.state,
        "state_label": OrderState(order.state).label,
        "drink": order.drink,
        "icon": order.icon or "cup",
        "modifiers": list(order.modifiers or []),
        "customer": first_name(order.customer.name),
        "barista": staff_name(order.barista) if order.barista_id else "",
        "barista_id": order.barista_id,
        "robot": order.robot,
        "submitted_at": utc_timestamp(order.submitted_at),
        "claimed_at": utc_timestamp(order.claimed_at),
        "finished_at": utc_timestamp(order.finished_at),
    }


def customer_status(order: Order) -> tuple[str, str]:
    """The headline and the sentence under it that a customer reads about their order."""
    state = OrderState(order.state)
    number = f"Order #{order.order_number}" if order.order_number else "Your order"
    barista = staff_name(order.barista) if order.barista_id else ""
    if state == OrderState.NEW:
        return "Starting your order…", "We are getting your order ready. This takes a moment."
    if state == OrderState.WAITING_FOR_DRINK:
        return "Choose your drink", "Pick a drink and how you like it before the time runs out."
    if state == OrderState.QUEUED:
        return "You're in the queue", (
            f"{number} is waiting for a barista. Look out for your number on the big screen.")
    if state == OrderState.IN_PRODUCTION:
        return "Being made", f"Your drink is being made by {barista or 'a barista'}."
    if state == OrderState.COMPLETED:
        collect = f"order #{order.order_number}" if order.order_number else "your drink"
        return "Ready for pickup!", f"Collect {collect} at the counter. Enjoy!"
    if state == OrderState.CANCELLED:
        if order.cancelled_by == "barista":
            reason = f" They said: “{order.cancel_reason}”" if order.cancel_reason else ""
            return f"{number} was cancelled", f"A barista cancelled your order.{reason}"
        return f"{number} was cancelled", "You cancelled this order."
    if state == OrderState.TIMED_OUT:
        if order.timeout_cause == TimeoutCause.CUSTOMER:
            return ("Having trouble deciding?",
                    "The time to choose a drink ran out. Scan the QR code again to start over.")
        if order.timeout_cause == TimeoutCause.WORKFLOW:
            return ("We couldn't start your order",
                    "Our ordering system did not get to your order in time. Please scan the "
                    "QR code again; sorry for the wait.")
        return ("Sorry about that",
                "Our baristas might have missed your coffee. Please order again and let us know.")
    if order.unavailable_reason == UnavailableReason.BUSY:
        return ("The baristas are too busy",
                "The queue is full right now. Please try again in a few minutes.")
    return "The shop is closed", "The shop is not taking orders right now. Please come back later."


def order_for_customer(order: Order) -> dict[str, Any]:
    """`customer_order` as the order API's untyped JSON body (orders/api.py) takes it."""
    return dict(customer_order(order))


def customer_order(order: Order) -> CustomerOrder:
    """An order as its own customer sees it (never the workflow's token)."""
    title, text = customer_status(order)
    return {
        "id": order.pk,
        "shop": order.shop.slug,
        "shop_name": order.shop.name,
        "number": order.order_number,
        "state": order.state,
        "state_label": OrderState(order.state).label,
        "title": title,
        "text": text,
        "final": order.state in FINAL_STATES,
        "can_cancel": order.state in CUSTOMER_CANCELLABLE,
        "drink": order.drink,
        "icon": order.icon or "cup",
        "modifiers": list(order.modifiers or []),
        "barista": staff_name(order.barista) if order.barista_id else "",
        "deadline_at": utc_timestamp(order.deadline_at),
        "unavailable_reason": order.unavailable_reason,
        "timeout_cause": order.timeout_cause,
        "cancelled_by": order.cancelled_by,
        "cancel_reason": order.cancel_reason,
        "created_at": utc_timestamp(order.created_at),
        "submitted_at": utc_timestamp(order.submitted_at),
        "finished_at": utc_timestamp(order.finished_at),
        "url": reverse("orders:order", args=[order.pk]),
        "journey_url": reverse("orders:journey", args=[order.pk]),
    }


# --- snapshots ------------------------------------------------------------------------------

def board_orders(shop: Shop, *, now: datetime | None = None) -> list[Order]:
    return selectors.shop_board(shop=shop, now=now, ready_minutes=READY_MINUTES).orders()


def board_snapshot(shop_slug: str) -> BoardSnapshot:
    """Everything the barista and display pages show, with the stream's sequence number.

    The number is read first: state read after it is at least as new, and deltas numbered
    after it are applied on top (each carries full state, so a repeat is harmless)."""
    shop = Shop.objects.get(slug=shop_slug)
    seq = shop.board_seq
    now = timezone.now()
    window = qr_window_current(shop=shop, now=now)
    return {
        "type": "snapshot",
        "seq": seq,
        "server_time": utc_timestamp(now),
        "ready_minutes": READY_MINUTES,
        "shop": shop_public(shop),
        "window": window_public(window),
        "orders": [order_for_board(order) for order in board_orders(shop, now=now)],
    }


def customer_orders(customer: Customer, *, now: datetime | None = None) -> list[Order]:
    since = (now or timezone.now()) - timedelta(hours=CUSTOMER_SNAPSHOT_HOURS)
    return list(
        Order.objects.filter(customer=customer, created_at__gte=since)
        .select_related("shop", "barista")
        .order_by("-created_at")[:CUSTOMER_SNAPSHOT_LIMIT]
    )


def customer_shops(customer: Customer) -> list[Shop]:
    """The shops a customer has ordered from: their socket follows those shops' status."""
    return list(Shop.objects.filter(orders__customer=customer).distinct())


def customer_snapshot(customer_id: uuid.UUID | str) -> CustomerSnapshot:
    customer = Customer.objects.get(pk=customer_id)
    seq = customer.live_seq
    now = timezone.now()
    return {
        "type": "snapshot",
        "seq": seq,
        "server_time": utc_timestamp(now),
        "orders": [customer_order(order) for order in customer_orders(customer, now=now)],
        "shops": {shop.slug: shop_public(shop) for shop in customer_shops(customer)},
    }


def public_snapshot(shop_slug: str) -> PublicSnapshot:
    shop = Shop.objects.get(slug=shop_slug)
    return {"type": "snapshot", "server_time": utc_timestamp(timezone.now()),
            "shop": shop_public(shop)}


def board_order_now(*, order_id: str, shop_id: int) -> tuple[int, BoardOrder] | None:
    """An order as the board shows it, with the board number it is at least as new as: what a
    barista's own action answers with, so their screen moves before the push arrives.

    The shop row is locked while the order is read: a push that took its number earlier has
    committed (its state is no newer than this read), and one that takes a later number reads
    after this one. So the numbers order replies and pushes alike; at an equal number this
    read is the newer. None if the order is gone."""
    with transaction.atomic():
        seq = Shop.objects.select_for_update().values_list("board_seq", flat=True).get(pk=shop_id)
        order = Order.objects.select_related("customer", "barista").filter(pk=order_id).first()
        return None if order is None else (seq, order_for_board(order))


# --- pushes ---------------------------------------------------------------------------------

def _send_on_commit(sends: list[tuple[str, LiveMessage]]) -> None:
    messages = [(group, {"type": MESSAGE_TYPE, "payload": payload}) for group, payload in sends]
    transaction.on_commit(lambda: group_send_all(messages))


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _take_numbers(model: type[Shop] | type[Customer], column: str, *, count_sql: str,
                  where_sql: str, params: list[Any]) -> int | None:
    """`UPDATE … SET column = column + (count_sql) WHERE id = (where_sql) RETURNING column`:
    takes numbers of a stream and says the last one in one statement (PostgreSQL; SQLite since
    3.35), None if no row matched. Must run in a transaction: the row stays locked until commit,
    so numbers follow commit order. `params` fill `count_sql`, then `where_sql`."""
    table, name = _quoted(model._meta.db_table), _quoted(column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {name} = {name} + ({count_sql}) "  # noqa: S608
                       f"WHERE id = ({where_sql}) RETURNING {name}", params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _bump_customer(customer_id: uuid.UUID) -> int | None:
    """Takes the customer's next number; None if the customer is gone."""
    pk = Customer._meta.pk.get_db_prep_value(customer_id, connection)
    return _take_numbers(Customer, "live_seq", count_sql="1", where_sql="%s", params=[pk])


def push_order(order_id: str, *, with_window: bool = False) -> bool:
    """Pushes an order's current state to the shop's board and to its own customer (only).
    With `with_window`, the board also gets its QR window's remaining count. Returns False if
    the order is gone. Three statements: the board's numbers, the order read with what it
    shows, the customer's number."""
    orders = _quoted(Order._meta.db_table)
    # Two numbers when the board also gets the order's QR window (when it has one).
    count_sql = (f"SELECT CASE WHEN qr_window_id IS NULL THEN 1 ELSE 2 END FROM {orders} "  # noqa: S608
                 "WHERE id = %s") if with_window else "1"
    with transaction.atomic():
        board_last = _take_numbers(
            Shop, "board_seq", count_sql=count_sql,
            where_sql=f"SELECT shop_id FROM {orders} WHERE id = %s",  # noqa: S608
            params=[order_id, order_id] if with_window else [order_id])
        if board_last is None:
            return False
        # Read after taking the numbers: a later number never carries older state.
        related = ("shop", "customer", "barista", "qr_window") if with_window else (
            "shop", "customer", "barista")
        order = Order.objects.select_related(*related).get(pk=order_id)
        with_window = with_window and order.qr_window_id is not None
        customer_seq = _bump_customer(order.customer_id)
        if customer_seq is None:  # the order is PROTECTed from its customer's deletion
            raise Customer.DoesNotExist(f"order {order_id} has no customer")
        slug = order.shop.slug
        sends: list[tuple[str, LiveMessage]] = [(
            board_group(slug),
            {"type": "order", "seq": board_last - (1 if with_window else 0),
             "order": order_for_board(order)},
        )]
        if with_window and order.qr_window is not None:
            sends.append((board_group(slug), {"type": "window", "seq": board_last,
                                              "window": window_public(order.qr_window)}))
        sends.append((customer_group(order.customer_id),
                      {"type": "order", "seq": customer_seq, "order": customer_order(order)}))
        _send_on_commit(sends)
    return True


def push_shop(shop_slug: str) -> bool:
    """Pushes a shop's status to its board and to everyone following it (landing pages and
    customers who ordered there). Returns False if the shop is gone."""
    with transaction.atomic():
        seq = _take_numbers(Shop, "board_seq", count_sql="1",
                            where_sql=f"SELECT id FROM {_quoted(Shop._meta.db_table)} "  # noqa: S608
                                      "WHERE slug = %s", params=[shop_slug])
        if seq is None:
            return False
        shop = Shop.objects.get(slug=shop_slug)
        public = shop_public(shop)
        _send_on_commit([
            (board_group(shop.slug), {"type": "shop", "seq": seq, "shop": public}),
            (public_group(shop.slug), {"type": "shop", "shop": public}),
        ])
    return True


def push_customer_snapshot(customer_id: uuid.UUID | str) -> bool:
    """Sends a customer a whole fresh snapshot (for an event that names them but no order)."""
    with transaction.atomic():
        if _bump_customer(uuid.UUID(str(customer_id))) is None:
            return False
        snapshot = customer_snapshot(customer_id)
        _send_on_commit([(customer_group(customer_id), snapshot)])
    return True


# --- the subscriber -------------------------------------------------------------------------

def _detail(payload: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("detail"), dict):
        raise PermanentHandlerError(
            "orders.live.push expects a whole event envelope with a 'detail' object."
        )
    return str(payload.get("detail-type") or ""), payload["detail"]


@register_handler("orders.live.push")
def push(payload: Any, context: HandlerContext) -> None:
    """Turns one shop event into pushes. Idempotent: each push re-reads the database and sends
    full state, so a repeated delivery (or a replayed copy) only sends the same state again
    with new numbers. Acts only on events the shop published (see orders.subscribers)."""
    if not shop_published(context.publisher):
        raise PermanentHandlerError(
            f"orders.live.push acts only on events the shop published; event "
            f"{context.event_id} was published by {context.publisher.label or 'nobody known'}."
        )
    detail_type, detail = _detail(payload)
    shop_slug = detail.get("shopId")
    order_id = detail.get("orderId")
    if detail_type.startswith("ConfigService."):
        if isinstance(shop_slug, str) and not push_shop(shop_slug):
            logger.info("live push: shop %r of event %s is gone", shop_slug, context.event_id)
        return
    if isinstance(order_id, str) and order_id:
        pushed = push_order(order_id, with_window=detail_type == "Validator.NewOrder")
        if not pushed:
            logger.info("live push: order %r of event %s is gone", order_id, context.event_id)
        return
    user_id = detail.get("userId")
    if isinstance(user_id, str) and _is_uuid(user_id):
        push_customer_snapshot(user_id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def groups_of_customer(customer: Customer) -> Iterable[str]:
    yield customer_group(customer.pk)
    for shop in customer_shops(customer):
        yield public_group(shop.slug)
