"""Who may see and do what on the shop's pages and sockets.

Staff and members of the baristas group run the shop (barista and display pages, the board
socket). A customer is a signed-in account's customer, or (in a shop that allows guests) a
guest's name kept in their browser session: they see their own orders and nothing else — anyone
else asking for an order gets a 404, not a 403, so an order id reveals nothing."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.http import Http404, HttpRequest

from coffeeshop.authorisation import in_group, is_staff
from orders.models import Customer, Order, Shop
from orders.workflow import OrderError

# The Django group whose members run the shop (see `is_barista`).
BARISTAS_GROUP = "baristas"
SESSION_CUSTOMER_KEY = "orders.customer_id"

# Whoever a page or the admin acts for: `request.user`, possibly anonymous.
ActingUser = User | AnonymousUser | None


def is_barista(user: Any) -> bool:
    """Staff, or a member of the baristas group: may run the shop's screens and actions."""
    return is_staff(user) or in_group(user, BARISTAS_GROUP)


def runs_shop(user: Any, shop: Shop) -> bool:
    """Whether `user` runs `shop`: staff do; a barista does unless the shop names its own
    baristas and they are not among them."""
    if is_staff(user):
        return True
    if not is_barista(user):
        return False
    named = shop.baristas.all()
    return not named.exists() or named.filter(pk=user.pk).exists()


def require_barista(user: ActingUser, doing: str) -> User:
    """The user, if they are a barista (or staff); else the refusal."""
    if not is_barista(user) or not isinstance(user, User):
        raise OrderError(f"Only baristas can {doing}.", "forbidden")
    return user


def require_staff(user: ActingUser, doing: str) -> User:
    """The user, if they are a shop manager (staff); else the refusal."""
    if not is_staff(user) or not isinstance(user, User):
        raise OrderError(f"Only shop managers (staff) can {doing}.", "forbidden")
    return user


def session_customer_id(session: SessionBase | Any) -> uuid.UUID | None:
    raw = session.get(SESSION_CUSTOMER_KEY) if session is not None else None
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def session_customer(session: SessionBase | Any) -> Customer | None:
    """The customer this browser session belongs to, if it has given a name."""
    customer_id = session_customer_id(session)
    if customer_id is None:
        return None
    return Customer.objects.filter(pk=customer_id).first()


def customer_of(user: Any, session: SessionBase | Any) -> Customer | None:
    """Who is ordering: a signed-in account's customer (None before its first order), else the
    guest customer of this browser session, if any."""
    if user is not None and getattr(user, "is_authenticated", False):
        return Customer.objects.filter(user_id=user.pk).first()
    return session_customer(session)


def remember_customer(session: SessionBase, customer: Customer) -> None:
    # A new identity gets a new session key, as a login does (no session fixation).
    session.cycle_key()
    session[SESSION_CUSTOMER_KEY] = str(customer.pk)


def customer_order_or_404(request: HttpRequest, order_id: str) -> tuple[Customer, Order]:
    """The request's customer and their order `order_id`; 404 for anyone else's order."""
    customer = customer_of(request.user, request.session)
    if customer is None:
        raise Http404("No such order.")
    order = (
        Order.objects.select_related("shop", "barista")
        .filter(pk=order_id, customer=customer)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return customer, order
