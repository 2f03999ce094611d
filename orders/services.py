"""Every write of the coffee shop. Pages, sockets, admin, subscribers, tasks and the simulator
call these; each one validates, checks who may act, applies a transition of the pure workflow
(orders/workflow.py) and emits its events in the same transaction, so an event exists exactly
when its change does.

An order moves with one conditional UPDATE on the state, wait token and barista it was read
with: of two concurrent actions (a submit and a time-out, two baristas claiming) exactly one
matches the row, and the other is refused with a clear message instead of overwriting it. A
wait token is single-use and never leaves the server. Errors a person can cause are raised as
`OrderError` (see orders/workflow.py), to be shown as they are."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import selectors
from orders.events import DetailType, emit
from orders.models import Customer, Order, OrderCounter, QrWindow, Shop
from orders.permissions import is_barista
from orders.workflow import (
    BARISTA_QUEUE_STATES,
    CUSTOMER_CANCEL_REASONS,
    OPEN_STATES,
    Action,
    Actor,
    CancelledBy,
    InvalidDrinkChoice,
    OrderError,
    OrderState,
    TimeoutCause,
    Transition,
    TransitionRefused,
    UnavailableReason,
    WaitKind,
    check_transition,
    describe_state,
    timeout_cause_for,
    validate_drink_choice,
)
from routing.timestamps import utc_timestamp

__all__ = [
    "CONFIG_FIELDS",
    "OrderError",
    "customer_create",
    "customer_for_account",
    "customer_set_name",
    "order_announce",
    "order_cancel",
    "order_claim",
    "order_complete",
    "order_redeem",
    "order_redeem_check",
    "order_start",
    "order_submit",
    "order_unclaim",
    "orders_time_out_overdue",
    "person_name",
    "qr_window_current",
    "require_barista",
    "shop_config_publish",
    "shop_create",
    "shop_menu_changed",
    "shop_set_open",
    "shop_update_config",
]

logger = logging.getLogger(__name__)

# Whoever a page or the admin acts for: `request.user`, possibly anonymous.
ActingUser = User | AnonymousUser | None

NAME_MAX_LENGTH = 40
REASON_MAX_LENGTH = 200
TIME_OUT_BATCH = 500


# Small helpers -------------------------------------------------------------------------------

def _in_words(delta: timedelta) -> str:
    """A rough duration a person reads: "in 40 seconds", "in 3 minutes", "in 7 h 12 min"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"


def _clock(shop: Shop, moment: datetime) -> str:
    return moment.astimezone(shop.tz).strftime("%H:%M")


def _minutes(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} seconds"
    return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"


def _drinks(count: int) -> str:
    return "one drink" if count == 1 else f"{count} drinks"


def _order_label(order: Order) -> str:
    return f"order #{order.order_number}" if order.order_number else "the order"


def person_name(user: User | None) -> str:
    if user is None:
        return ""
    return (user.first_name or "").strip() or user.get_username()


def _is_staff(user: ActingUser) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.is_staff)


def require_barista(user: ActingUser, doing: str) -> User:
    """The user, if they are a barista (or staff); else the refusal."""
    if not is_barista(user) or not isinstance(user, User):
        raise OrderError(f"Only baristas can {doing}.", "forbidden")
    return user


def _require_staff(user: ActingUser, doing: str) -> User:
    if not _is_staff(user) or not isinstance(user, User):
        raise OrderError(f"Only shop managers (staff) can {doing}.", "forbidden")
    return user


def _reload(order: Order) -> Order:
    """The order as it is now (callers may hold an old copy)."""
    fresh = Order.objects.select_related("shop", "customer", "barista").filter(
        pk=order.pk
    ).first()
    if fresh is None:
        raise OrderError("There is no such order.", "not_found", field="order")
    return fresh


def _check(order: Order, action: Action, actor: Actor) -> Transition:
    try:
        return check_transition(OrderState(order.state), action, actor)
    except TransitionRefused as refused:
        raise OrderError(refused.message, refused.code) from None


def _deadline(shop: Shop, wait: WaitKind, now: datetime) -> datetime:
    seconds = (shop.customer_timeout_seconds if wait == WaitKind.CUSTOMER
               else shop.barista_timeout_seconds)
    return now + timedelta(seconds=seconds)


def _move(order: Order, transition: Transition, *, now: datetime, **changes: Any) -> Order:
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


# Customers -----------------------------------------------------------------------------------

def _clean_name(name: str) -> str:
    """A name the barista can call out: trimmed, 1-40 printable characters."""
    cleaned = " ".join(name.split()) if isinstance(name, str) else ""
    if not cleaned:
        raise OrderError("Please tell us your name, so the barista can call you.",
                         "invalid_name", field="name")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise OrderError(
            f"Please use at most {NAME_MAX_LENGTH} characters for your name "
            f"(this one has {len(cleaned)}).",
            "invalid_name", field="name",
        )
    if not cleaned.isprintable():
        raise OrderError("Your name can only contain letters, digits, spaces and punctuation.",
                         "invalid_name", field="name")
    return cleaned


def customer_create(*, name: str, user: User | None = None, robot: bool = False) -> Customer:
    """A customer: a signed-in account's (one per account) or a guest's, with a name."""
    return Customer.objects.create(name=_clean_name(name), user=user, robot=robot)


def customer_for_account(*, user: User) -> Customer:
    """The signed-in account's customer, made on its first order (its name still to be told).
    Concurrent first requests get the one row the unique `user` allows."""
    customer, _ = Customer.objects.get_or_create(user=user)
    return customer


def customer_set_name(*, customer: Customer, name: str) -> Customer:
    customer.name = _clean_name(name)
    customer.save(update_fields=["name"])
    return customer


# QR windows and redeeming --------------------------------------------------------------------

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
            f"This QR code has expired: the code changes every {_minutes(shop.window_seconds)}. "
            "Scan the code on the display again.",
            "window_expired", field="code",
        )
    return OrderError(
        f"This is not a valid code for {shop.name}. Scan the QR code on the shop's display.",
        "invalid_code", field="code",
    )


def _check_daily_limit(shop: Shop, customer: Customer, now: datetime) -> None:
    allowance = selectors.customer_daily_allowance(shop=shop, customer=customer, now=now)
    if allowance["remaining"] > 0:
        return
    resets_at: datetime = allowance["resetsAt"]
    message = (
        f"Each customer can order {_drinks(allowance['limit'])} a day at {shop.name}, and you "
        "have reached that today."
    )
    if allowance["activeOrderId"]:
        message += " Your order in progress counts too: if it is cancelled, you can order again."
    message += (f" You can order again tomorrow from {_clock(shop, resets_at)} "
                f"({_in_words(resets_at - now)}).")
    raise OrderError(message, "daily_limit", details={
        "retryAt": utc_timestamp(resets_at), "activeOrderId": allowance["activeOrderId"],
        "limit": allowance["limit"],
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
                f"appears on the display at {_clock(shop, window.ends_at)} "
                f"({_in_words(window.ends_at - now)}).",
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
        emit(
            DetailType.NEW_ORDER, shop_slug=shop.slug,
            message=f"A customer scanned the QR code: a new order was created "
                    f"({window.remaining} left for this code).",
            orderId=order.pk, userId=str(customer.pk),
            window={"remaining": window.remaining, "endsAt": utc_timestamp(window.ends_at)},
        )
    return order


# The workflow's automatic steps --------------------------------------------------------------

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
        _time_out(order, now)
        return _reload(order)
    with transaction.atomic():
        # Starts of one shop queue up here, so each counts the places the others took.
        shop = Shop.objects.select_for_update().get(pk=order.shop_id)
        order.shop = shop
        open_orders = selectors.shop_open_order_count(shop=shop)
        if not shop.is_open or open_orders >= shop.max_queue:
            reason = UnavailableReason.CLOSED if not shop.is_open else UnavailableReason.BUSY
            try:
                _move(order, _check(order, Action.REFUSE, Actor.SYSTEM), now=now,
                      unavailable_reason=reason, finished_at=now)
            except OrderError:
                return _reload(order)  # another delivery of the same event got here first
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
            emit(DetailType.SHOP_UNAVAILABLE, shop_slug=shop.slug, message=message,
                 orderId=order.pk, userId=str(order.customer_id), reason=reason.value)
            return order
        try:
            _move(order, _check(order, Action.START, Actor.SYSTEM), now=now)
        except OrderError:
            return _reload(order)
        assert order.deadline_at is not None
        emit(
            DetailType.WORKFLOW_STARTED, shop_slug=shop.slug,
            message=f"The order workflow started: choose your drink by "
                    f"{_clock(shop, order.deadline_at)} "
                    f"(you have {_minutes(shop.customer_timeout_seconds)}).",
            orderId=order.pk, userId=str(order.customer_id),
            deadline=utc_timestamp(order.deadline_at),
        )
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
        emit(
            DetailType.MANAGER_WAITING_COMPLETION, shop_slug=order.shop.slug,
            message=f"Order #{order.order_number}, {order.drink}{with_options}, is waiting for a "
                    "barista.",
            orderId=order.pk, orderNumber=order.order_number, state=order.state,
            drinkOrder={"drink": order.drink, "modifiers": options, "choices": choices,
                        "icon": order.icon},
            userId=str(order.customer_id), robot=order.robot,
        )
    return True


def _timeout_message(order: Order, cause: TimeoutCause) -> str:
    shop = order.shop
    if cause == TimeoutCause.CUSTOMER:
        return (f"The order timed out: no drink was chosen within "
                f"{_minutes(shop.customer_timeout_seconds)}. Scan the QR code again to start "
                "over.")
    if cause == TimeoutCause.BARISTA:
        return (f"The order timed out: the baristas did not complete {_order_label(order)} "
                f"within {_minutes(shop.barista_timeout_seconds)}. Sorry! Please ask at the "
                "counter or order again.")
    return (f"The order timed out: the shop could not start it within "
            f"{_minutes(shop.customer_timeout_seconds)} (its workers were not running). "
            "Please scan the QR code again.")


def _time_out(order: Order, now: datetime) -> bool:
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
        emit(DetailType.ORDER_TIMEOUT, shop_slug=order.shop.slug,
             message=_timeout_message(order, cause), orderId=order.pk,
             orderNumber=order.order_number, userId=str(order.customer_id), cause=cause.value)
    order.state, order.timeout_cause = OrderState.TIMED_OUT, cause
    return True


def _time_out_if_overdue(order: Order, now: datetime) -> None:
    """An order past its deadline is timed out now (the sweeper would within seconds), and
    the action refused: the deadline is the truth, not the sweeper's timing."""
    if order.deadline_at is None or order.deadline_at > now:
        return
    cause = timeout_cause_for(OrderState(order.state))
    if not _time_out(order, now):
        raise OrderError("This order changed a moment ago. Please look at it again.",
                         "stale_token")
    raise OrderError(_timeout_message(order, cause), "invalid_state")


def orders_time_out_overdue(*, now: datetime | None = None) -> int:
    """Times out every order whose wait deadline has passed (`OrderProcessor.OrderTimeOut`
    with the cause). Deadlines live in the database, so nothing is lost to a restart."""
    now = now or timezone.now()
    overdue = list(
        Order.objects.filter(state__in=OPEN_STATES, deadline_at__lte=now)
        .select_related("shop").order_by("deadline_at")[:TIME_OUT_BATCH]
    )
    return sum(1 for order in overdue if _time_out(order, now))


# The customer's and the baristas' actions ----------------------------------------------------

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
    order = _reload(order)
    if order.customer_id != customer.pk:
        raise OrderError("This is not your order.", "forbidden")
    transition = _check(order, Action.SUBMIT, Actor.CUSTOMER)
    _time_out_if_overdue(order, now)
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
        _move(order, transition, now=now, drink=drink.name, icon=drink.icon,
              modifiers=modifiers, submitted_at=now)
        order.order_number = _next_order_number(order, now)
        Order.objects.filter(pk=order.pk).update(order_number=order.order_number)
        options = ", ".join(m["option"] for m in modifiers)
        emit(
            DetailType.PROCESSOR_WAITING_COMPLETION, shop_slug=order.shop.slug,
            message=f"The customer ordered a {drink.name}"
                    f"{f' ({options})' if options else ''}: it is order #{order.order_number}, "
                    f"and the baristas have {_minutes(order.shop.barista_timeout_seconds)} "
                    "to make it.",
            orderId=order.pk, orderNumber=order.order_number, userId=str(customer.pk),
        )
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
    order = _reload(order)
    if order.state == OrderState.IN_PRODUCTION and order.barista_id is not None:
        who = "You are" if order.barista_id == barista.pk else f"{person_name(order.barista)} is"
        raise OrderError(f"{who} already making this order.", "invalid_state")
    transition = _check(order, Action.CLAIM, Actor.BARISTA)
    _time_out_if_overdue(order, now)
    with transaction.atomic():
        _move(order, transition, now=now, barista=barista, claimed_at=now)
        emit(
            DetailType.MAKE_ORDER, shop_slug=order.shop.slug,
            message=f"{person_name(barista)} is making {_order_label(order)} ({order.drink}).",
            orderId=order.pk, orderNumber=order.order_number, baristaUserId=str(barista.pk),
            baristaName=person_name(barista), userId=str(order.customer_id),
        )
    return order


def _require_claimer_or_staff(order: Order, barista: User, doing: str) -> None:
    if (order.state == OrderState.IN_PRODUCTION and order.barista_id is not None
            and order.barista_id != barista.pk and not _is_staff(barista)):
        raise OrderError(
            f"{person_name(order.barista)} is making this order: only they or a shop manager can "
            f"{doing} it.",
            "forbidden",
        )


def order_unclaim(*, order: Order, barista: ActingUser) -> Order:
    """Hands an order being made back to the queue (only its barista, or staff)."""
    barista = require_barista(barista, "hand orders back")
    now = timezone.now()
    order = _reload(order)
    transition = _check(order, Action.UNCLAIM, Actor.BARISTA)
    _require_claimer_or_staff(order, barista, "hand back")
    _time_out_if_overdue(order, now)
    with transaction.atomic():
        _move(order, transition, now=now, barista=None, claimed_at=None)
        emit(
            DetailType.MAKE_ORDER, shop_slug=order.shop.slug,
            message=f"{person_name(barista)} handed {_order_label(order)} ({order.drink}) back to "
                    "the queue.",
            orderId=order.pk, orderNumber=order.order_number, baristaUserId="",
            baristaName="", userId=str(order.customer_id),
        )
    return order


def _emit_finished(order: Order, outcome: str, message: str) -> None:
    emit(DetailType.ORDER_FINISHED, shop_slug=order.shop.slug, message=message,
         orderId=order.pk, orderNumber=order.order_number, userId=str(order.customer_id),
         outcome=outcome)


def order_complete(*, order: Order, barista: ActingUser) -> Order:
    """The drink is ready for pickup (`OrderManager.OrderCompleted`, then the workflow's
    `OrderProcessor.orderFinished` with outcome "completed")."""
    barista = require_barista(barista, "complete orders")
    now = timezone.now()
    order = _reload(order)
    transition = _check(order, Action.COMPLETE, Actor.BARISTA)
    _require_claimer_or_staff(order, barista, "complete")
    _time_out_if_overdue(order, now)
    maker = order.barista or barista
    with transaction.atomic():
        _move(order, transition, now=now, barista=maker, finished_at=now)
        wait = (now - order.submitted_at).total_seconds() if order.submitted_at else None
        emit(
            DetailType.ORDER_COMPLETED, shop_slug=order.shop.slug,
            message=f"{order.drink} is ready for pickup "
                    f"({_order_label(order)}).",
            orderId=order.pk, orderNumber=order.order_number, userId=str(order.customer_id),
            baristaUserId=str(maker.pk), baristaName=person_name(maker), drink=order.drink,
            waitSeconds=round(wait, 3) if wait is not None else None,
        )
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
    order = _reload(order)
    if by == CancelledBy.CUSTOMER:
        if customer is None or order.customer_id != customer.pk:
            raise OrderError("You can only cancel your own order.", "forbidden")
        transition = _check(order, Action.CANCEL, Actor.CUSTOMER)
        who = "The customer"
    else:
        barista = require_barista(barista, "cancel orders")
        transition = _check(order, Action.CANCEL, Actor.BARISTA)
        _require_claimer_or_staff(order, barista, "cancel")
        who = f"{person_name(barista)} (barista)"
    _time_out_if_overdue(order, now)
    with transaction.atomic():
        _move(order, transition, now=now, cancelled_by=by, cancel_reason=reason,
              finished_at=now)
        because = f": {reason}" if reason else "."
        emit(
            DetailType.ORDER_CANCELLED, shop_slug=order.shop.slug,
            message=f"{who} cancelled {_order_label(order)}{because}",
            orderId=order.pk, orderNumber=order.order_number, userId=str(order.customer_id),
            cancelledBy=by.value, reason=reason,
        )
        _emit_finished(order, "cancelled",
                       f"The order workflow finished: the order was cancelled by the {by.value}.")
    return order


# Shop settings and menu ----------------------------------------------------------------------

CONFIG_FIELDS = (
    "name", "is_open", "max_queue", "max_orders_per_customer_per_day", "guest_orders",
    "customer_timeout_seconds", "barista_timeout_seconds", "drinks_per_window",
    "window_seconds", "timezone",
)


def shop_config_publish(*, shop: Shop, message: str) -> Shop:
    """Bumps the shop's config version and emits `ConfigService.ConfigChanged` with the whole
    new configuration and menu. Runs inside the change's transaction. The checked services
    below call it; call it directly only for system changes (the demo seed)."""
    Shop.objects.filter(pk=shop.pk).update(config_version=F("config_version") + 1)
    shop.refresh_from_db(fields=["config_version"])
    emit(DetailType.CONFIG_CHANGED, shop_slug=shop.slug, message=message,
         config=selectors.shop_settings(shop=shop), menuVersion=shop.config_version,
         menu=selectors.shop_menu(shop=shop))
    return shop


def _label(field_name: str) -> str:
    return field_name.replace("_", " ")


def _clean(shop: Shop, fields: Mapping[str, Any]) -> list[str]:
    """Sets and validates `fields` on `shop`; returns the names whose value changed."""
    unknown = [name for name in fields if name not in CONFIG_FIELDS]
    if unknown:
        raise OrderError(f"{unknown[0]!r} is not a shop setting (settings: "
                         f"{', '.join(CONFIG_FIELDS)}).", "invalid_config", field=unknown[0])
    before = {name: getattr(shop, name) for name in fields}
    for name, value in fields.items():
        setattr(shop, name, value)
    others = [f.name for f in Shop._meta.fields if f.name not in fields]
    try:
        shop.clean_fields(exclude=others)
    except ValidationError as invalid:
        name, messages = next(iter(invalid.message_dict.items()))
        raise OrderError(f"{_label(name).capitalize()}: {' '.join(messages)}", "invalid_config",
                         field=name) from None
    return [name for name in fields if getattr(shop, name) != before[name]]


def shop_create(*, slug: str, name: str, user: ActingUser, **fields: Any) -> Shop:
    """A new shop (staff only), closed unless `is_open` is given, with an empty menu."""
    user = _require_staff(user, "create shops")
    shop = Shop(slug=slug.strip() if isinstance(slug, str) else "")
    _clean(shop, {"name": name, **fields})
    try:
        shop.clean_fields(exclude=[f.name for f in Shop._meta.fields if f.name != "slug"])
        shop.validate_unique()
    except ValidationError as invalid:
        raise OrderError(" ".join(invalid.messages), "invalid_config", field="slug") from None
    with transaction.atomic():
        shop.save()
        shop_config_publish(shop=shop, message=f"The shop {shop.name} was created.")
    return shop


def shop_set_open(*, shop: Shop, is_open: bool, user: ActingUser) -> Shop:
    """Opens or closes the shop (baristas and staff). Orders already going carry on; new
    ones are turned away as "closed" while it is shut."""
    user = require_barista(user, "open or close the shop")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        if shop.is_open == bool(is_open):
            return shop
        shop.is_open = bool(is_open)
        # A "closing soon" notice is over once someone opens or closes by hand, and the hours'
        # changes until now (one applied late, after an outage) never undo the hand.
        shop.closing_at = None
        shop.hours_started_at = timezone.now() if shop.follows_hours else None
        shop.save(update_fields=["is_open", "closing_at", "hours_started_at"])
        verb = "opened" if is_open else "closed"
        shop_config_publish(shop=shop, message=f"{person_name(user)} {verb} {shop.name}.")
    return shop


def shop_update_config(*, shop: Shop, user: ActingUser, **fields: Any) -> Shop:
    """Changes shop settings (staff only); each is validated, and a change is announced."""
    user = _require_staff(user, "change the shop's settings")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        before = {name: getattr(shop, name) for name in fields if name in CONFIG_FIELDS}
        changed = _clean(shop, fields)
        if not changed:
            return shop
        saved = list(changed)
        if "is_open" in changed:  # by hand, as shop_set_open: the hours do not undo it
            shop.closing_at = None
            shop.hours_started_at = timezone.now() if shop.follows_hours else None
            saved += ["closing_at", "hours_started_at"]
        shop.save(update_fields=saved)
        summary = "; ".join(
            f"{_label(name)} {before[name]} → {getattr(shop, name)}"
            for name in changed
        )
        shop_config_publish(
            shop=shop,
            message=f"{person_name(user)} changed the settings of {shop.name}: {summary}.",
        )
    return shop


def shop_menu_changed(*, shop: Shop, user: ActingUser, change: str) -> Shop:
    """Announces a menu change made through the admin (staff only): bumps the version and
    emits the new menu. Call it in the transaction that changed the menu."""
    user = _require_staff(user, "change the menu")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        return shop_config_publish(
            shop=shop, message=f"{person_name(user)} changed the menu of {shop.name}: {change}."
        )
