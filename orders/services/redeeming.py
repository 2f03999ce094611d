"""QR windows and redeeming a code: the scan page's checks and the new order they let in."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import selectors
from orders.event_details import NewOrderDetail
from orders.events import DetailType, emit
from orders.models import Customer, Order, QrWindow, Shop
from orders.services.wording import clock, drinks_in_words, in_words, minutes_in_words
from orders.workflow import OrderError, OrderState
from routing.timestamps import utc_timestamp


def qr_window_current(*, shop: Shop, now: datetime | None = None) -> QrWindow:
    """The shop's QR window for `now`: fixed wall-clock slots of `shop.window_seconds` (…:00,
    :05, :10 for five minutes), created on first use. Concurrent first requests all get the
    same row: the (shop, slot) unique constraint lets one insert win and the others read it."""
    now = now or timezone.now()
    length = shop.window_seconds
    starts_at = datetime.fromtimestamp(int(now.timestamp()) // length * length, tz=UTC)
    window, _ = QrWindow.objects.get_or_create(
        shop=shop,
        starts_at=starts_at,
        defaults={"ends_at": starts_at + timedelta(seconds=length),
                  "capacity": shop.drinks_per_window},
    )
    return window


def _refuse_code(shop: Shop, code: str, now: datetime) -> OrderError:
    known = QrWindow.objects.filter(shop=shop, code=code).first()
    if known is not None and known.ends_at <= now:
        return OrderError(
            "This QR code has expired: the code changes every "
            f"{minutes_in_words(shop.window_seconds)}. Scan the code on the display again.",
            "window_expired", field="code",
        )
    return OrderError(
        f"This is not a valid code for {shop.name}. Scan the QR code on the shop's display.",
        "invalid_code", field="code",
    )


def _check_daily_limit(shop: Shop, customer: Customer, now: datetime) -> None:
    allowance = selectors.customer_daily_allowance(shop=shop, customer=customer, now=now)
    if allowance.remaining > 0:
        return
    resets_at = allowance.resets_at
    message = (
        f"Each customer can order {drinks_in_words(allowance.limit)} a day at {shop.name}, "
        "and you have reached that today."
    )
    if allowance.active_order_id:
        message += " Your order in progress counts too: if it is cancelled, you can order again."
    message += (f" You can order again tomorrow from {clock(shop, resets_at)} "
                f"({in_words(resets_at - now)}).")
    raise OrderError(message, "daily_limit", details={
        "retryAt": utc_timestamp(resets_at), "activeOrderId": allowance.active_order_id,
        "limit": allowance.limit,
    })


def _closed(shop: Shop) -> OrderError:
    return OrderError(f"Sorry, {shop.name} is closed right now: no orders until it opens again.",
                      "shop_closed")


def _busy(shop: Shop, open_orders: int) -> OrderError:
    return OrderError(
        f"Sorry, the baristas are too busy right now ({open_orders} orders open, the most is "
        f"{shop.max_queue}). Please try again in a few minutes.",
        "shop_busy",
    )


def _check_code(shop: Shop, code: str, now: datetime) -> tuple[str, QrWindow]:
    code = code.strip() if isinstance(code, str) else ""
    if not code:
        raise OrderError("Scan the QR code on the shop's display to order.", "invalid_code",
                         field="code")
    window = qr_window_current(shop=shop, now=now)
    if not secrets.compare_digest(code, window.code):
        raise _refuse_code(shop, code, now)
    return code, window


def _check_may_order(shop: Shop, customer: Customer) -> None:
    if customer.is_guest and not customer.robot and not shop.guest_orders:
        raise OrderError(f"Please sign in to order at {shop.name}.", "sign_in_required")
    if not customer.name:
        raise OrderError("Please tell us your name, so the barista can call you.",
                         "invalid_name", field="name")


def order_redeem_check(*, shop: Shop, code: str, customer: Customer | None) -> None:
    """What the scan page asks before anything else (before signing in, the name and the menu):
    is the shop open, is the code the current one, and has this customer (if known yet) still
    an order left today? Raises the refusal; changes nothing."""
    now = timezone.now()
    if not shop.is_open:
        raise _closed(shop)
    _check_code(shop, code, now)
    if customer is not None:
        _check_daily_limit(shop, customer, now)


def order_redeem(*, shop: Shop, code: str, customer: Customer) -> Order:
    """Redeems the code of the shop's current QR window: a new order (state NEW) whose workflow
    the `Validator.NewOrder` event starts. A place of the window is taken only by an order that
    is accepted: with the shop's row locked, the shop must be open, its queue (orders not yet
    started count too) below `max_queue`, and the customer under their daily limit; then one
    conditional UPDATE takes the place. A refusal leaves the window as it was."""
    now = timezone.now()
    _check_may_order(shop, customer)
    # Outside the transaction: a window created here must outlive a refused redemption.
    code, window = _check_code(shop, code, now)
    with transaction.atomic():
        # Redemptions of one shop queue up on its row (as starts do), so each sees the orders
        # the others accepted, and a shop closing meanwhile is seen by every one after it.
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        if not shop.is_open:
            raise _closed(shop)
        open_orders = selectors.shop_open_order_count(shop=shop, including_new=True)
        if open_orders >= shop.max_queue:
            raise _busy(shop, open_orders)
        # One redemption at a time per customer, so two at once cannot both pass the limit.
        list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
        _check_daily_limit(shop, customer, now)
        taken = QrWindow.objects.filter(pk=window.pk, redeemed__lt=F("capacity")).update(
            redeemed=F("redeemed") + 1
        )
        if not taken:
            raise OrderError(
                f"All {window.capacity} drinks for this QR code have been ordered. A new code "
                f"appears on the display at {clock(shop, window.ends_at)} "
                f"({in_words(window.ends_at - now)}).",
                "window_exhausted", field="code",
                details={"retryAt": utc_timestamp(window.ends_at)},
            )
        window.refresh_from_db(fields=["redeemed"])
        order = Order.objects.create(
            shop=shop,
            customer=customer,
            qr_window=window,
            state=OrderState.NEW,
            business_date=shop.business_date(now),
            robot=customer.robot,
            created_at=now,
            # If no worker starts the workflow by then, the time-out sweeper ends the order.
            deadline_at=now + timedelta(seconds=shop.customer_timeout_seconds),
        )
        emit(DetailType.NEW_ORDER, NewOrderDetail(
            shopId=shop.slug, orderId=order.pk, userId=str(customer.pk),
            window={"remaining": window.remaining, "endsAt": utc_timestamp(window.ends_at)},
            Message=f"A customer scanned the QR code: a new order was created "
                    f"({window.remaining} left for this code).",
        ))
    return order

