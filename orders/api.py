"""The order API (JSON, session-authenticated, under /api/): customers read their own orders,
baristas read and act on their shop's. Every refusal has the REST API's one error shape,
`{"code", "message", "field"?, "details"?}`. Documented in routing/api/openapi.json ("orders")."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from orders import live, selectors
from orders.models import Customer, Order, Shop
from orders.permissions import customer_of, runs_shop
from orders.services import order_cancel, order_claim, order_complete, order_unclaim
from orders.workflow import CancelledBy, OrderError, OrderState
from routing.api.auth import enforce_csrf
from routing.errors import RoutingError

BARISTA_ACTIONS = ("claim", "unclaim", "complete", "cancel")
STATES = tuple(state.value for state in OrderState)
LIST_LIMIT = 200

ApiView = Callable[..., JsonResponse]


def error(message: str, code: str, status: int, field: str | None = None) -> JsonResponse:
    return JsonResponse(OrderError(message, code, field).as_dict(), status=status)


def _order_error(failure: OrderError) -> JsonResponse:
    return JsonResponse(failure.as_dict(), status=failure.http_status)


def api_view(*methods: str) -> Callable[[ApiView], ApiView]:
    """The method, a signed-in session (or a guest's), and CSRF on writes; refusals as JSON."""

    def decorate(view: ApiView) -> ApiView:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                response = error(f"Use {' or '.join(methods)} here.", "MethodNotAllowed", 405)
                response["Allow"] = ", ".join(methods)
                return response
            if request.method == "POST":
                try:
                    enforce_csrf(request)
                except RoutingError as refused:
                    return JsonResponse(refused.as_dict(), status=refused.http_status)
            try:
                return view(request, *args, **kwargs)
            except OrderError as failure:
                return _order_error(failure)

        wrapped.allowed_methods = set(methods)  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _customer(request: HttpRequest) -> Customer | None:
    return customer_of(request.user, request.session)


def _not_signed_in() -> JsonResponse:
    return error("Please sign in first.", "not_logged_in", 401)


def _shop_run_by(request: HttpRequest, slug: str) -> Shop | JsonResponse:
    """The shop, if the request's user runs it: 401 for anonymous callers, 403 for others."""
    if not request.user.is_authenticated:
        return _not_signed_in()
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        return error("There is no such shop.", "not_found", 404, "slug")
    if not runs_shop(request.user, shop):
        return error(f"Only the baristas of {shop.name} can do this.", "forbidden", 403)
    return shop


def _for_barista(order: Order) -> dict[str, Any]:
    return {**live.order_for_board(order), "shop": order.shop.slug}


@api_view("GET")
def my_orders(request: HttpRequest) -> JsonResponse:
    customer = _customer(request)
    if customer is None:
        if not request.user.is_authenticated:
            return _not_signed_in()
        return JsonResponse({"orders": []})
    return JsonResponse({"orders": [live.order_for_customer(order)
                                    for order in selectors.customer_history(customer=customer)]})


@api_view("GET")
def shop_orders(request: HttpRequest, slug: str) -> JsonResponse:
    shop = _shop_run_by(request, slug)
    if isinstance(shop, JsonResponse):
        return shop
    states = [state for raw in request.GET.getlist("state") for state in raw.split(",") if state]
    unknown = [state for state in states if state not in STATES]
    if unknown:
        return error(f"Unknown state {unknown[0]!r}: use one of {', '.join(STATES)}.",
                     "invalid_filter", 400, "state")
    orders = Order.objects.filter(shop=shop).select_related("shop", "customer", "barista")
    if states:
        orders = orders.filter(state__in=states)
    found = list(orders.order_by("-created_at")[:LIST_LIMIT])
    return JsonResponse({"shop": shop.slug, "states": states,
                         "orders": [_for_barista(order) for order in found]})


@api_view("GET")
def order_detail(request: HttpRequest, order_id: str) -> JsonResponse:
    """One order with its journey: to its own customer, or to a barista of its shop. Anyone
    else gets the 404 a missing order gets, so an order id reveals nothing."""
    order = Order.objects.select_related("shop", "customer", "barista").filter(pk=order_id).first()
    customer = _customer(request)
    if order is not None and customer is not None and order.customer_id == customer.pk:
        body = live.order_for_customer(order)
    elif order is not None and runs_shop(request.user, order.shop):
        body = _for_barista(order)
    elif customer is None and not request.user.is_authenticated:
        return _not_signed_in()
    else:
        return error("There is no such order.", "not_found", 404, "order_id")
    return JsonResponse({"order": body, "journey": selectors.order_journey(order=order)})


@api_view("POST")
def barista_action(request: HttpRequest, slug: str, order_id: str, action: str) -> JsonResponse:
    shop = _shop_run_by(request, slug)
    if isinstance(shop, JsonResponse):
        return shop
    if action not in BARISTA_ACTIONS:
        return error(f"Unknown action {action!r}: use one of {', '.join(BARISTA_ACTIONS)}.",
                     "unknown_action", 404, "action")
    order = Order.objects.filter(pk=order_id, shop=shop).select_related("shop").first()
    if order is None:
        return error("There is no such order in this shop.", "not_found", 404, "order_id")
    user = request.user
    if action == "claim":
        order_claim(order=order, barista=user)
    elif action == "unclaim":
        order_unclaim(order=order, barista=user)
    elif action == "complete":
        order_complete(order=order, barista=user)
    else:
        reason = str(request.POST.get("reason", "")).strip()
        order_cancel(order=order, by=CancelledBy.BARISTA, barista=user, reason=reason)
    order = Order.objects.select_related("shop", "customer", "barista").get(pk=order.pk)
    return JsonResponse({"order": _for_barista(order)})
