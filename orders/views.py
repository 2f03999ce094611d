"""The shop's pages: the customer's (phone), the barista's (tablet) and the display (big screen).

Views are thin: they authorise, call one service or selector, and render. Errors a person can
cause arrive as `OrderError` (the project's `ApplicationError`) and are shown as they are: in
the page for customers, on the form, and for the barista's actions as the JSON every endpoint
of both apps answers with, `{"code", "message", "field"?}` (coffeeshop/error_rendering.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffeeshop.error_rendering import error_response, form_add_error
from orders import live, selectors
from orders.forms import OpeningHoursForm
from orders.hours import WEEKDAYS
from orders.models import Customer, Order, Shop
from orders.opening import shop_hours_summary
from orders.permissions import (
    customer_of,
    customer_order_or_404,
    is_barista,
    remember_customer,
    runs_shop,
)
from orders.privacy import customer_erase, retention_days
from orders.qr import window_for_display
from orders.services import (
    OrderError,
    customer_create,
    customer_for_account,
    customer_set_name,
    order_cancel,
    order_claim,
    order_complete,
    order_redeem,
    order_redeem_check,
    order_submit,
    order_unclaim,
    qr_window_current,
    shop_set_open,
)
from orders.workflow import CUSTOMER_CANCEL_REASONS, FINAL_STATES, CancelledBy
from routing.errors import ApplicationError
from routing.timestamps import utc_timestamp

# --- customer pages -------------------------------------------------------------------------

def _shop(slug: str) -> Shop:
    return get_object_or_404(Shop, slug=slug)


@require_GET
def shop_home(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _shop(slug)
    customer = customer_of(request.user, request.session)
    active = (selectors.customer_active_order(customer=customer, shop=shop)
              if customer is not None else None)
    return render(request, "orders/shop.html", {
        "shop": shop,
        "customer": customer,
        "active_order": active,
        "snapshot": live.public_snapshot(shop.slug),
    })


def _refused(request: HttpRequest, context: dict[str, Any], error: OrderError,
             customer: Customer | None) -> HttpResponse:
    context["error"] = error
    active_id = error.details.get("activeOrderId")
    if (active_id and customer is not None
            and Order.objects.filter(pk=active_id, customer=customer).exists()):
        context["active_order_url"] = reverse("orders:order", args=[active_id])
    return render(request, "orders/scan.html", context, status=error.http_status)


def _sign_in_first(request: HttpRequest, code: str) -> HttpResponse:
    """To the sign-in code page, and back to this scan (with its code) once signed in."""
    back = f"{request.path}?{urlencode({'code': code})}"
    return redirect_to_login(back, reverse("account_request_login_code"))


@require_http_methods(["GET", "POST"])
def shop_order(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the QR code leads: scan → sign in (unless signed in, or a guest where the shop
    allows it) → the name, once → the order. A closed shop, a stale code and a customer at
    their daily limit are refused first, before any of those steps."""
    shop = _shop(slug)
    signed_in = request.user.is_authenticated
    customer = customer_of(request.user, request.session)
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("code", "").strip()
    context: dict[str, Any] = {"shop": shop, "customer": customer, "code": code,
                               "guest": not signed_in}
    if not code:
        context["error"] = OrderError(
            "This link has no code: scan the QR code on the shop's display to order.",
            "invalid_code", field="code")
        return render(request, "orders/scan.html", context, status=400)
    try:
        order_redeem_check(shop=shop, code=code, customer=customer)
    except OrderError as error:
        return _refused(request, context, error, customer)
    if not signed_in and not shop.guest_orders:
        return _sign_in_first(request, code)
    if request.method == "GET":
        return render(request, "orders/scan.html", context)

    if customer is None or not customer.name:
        name = " ".join(request.POST.get("name", "").split())
        context["name"] = name
        try:
            if isinstance(request.user, User):
                customer = customer_set_name(customer=customer_for_account(user=request.user),
                                             name=name)
            else:
                customer = customer_create(name=name)
                remember_customer(request.session, customer)
        except OrderError as error:
            context["name_error"] = error.message
            return render(request, "orders/scan.html", context, status=error.http_status)
        context["customer"] = customer
    try:
        order = order_redeem(shop=shop, code=code, customer=customer)
    except OrderError as error:
        return _refused(request, context, error, customer)
    return redirect("orders:order", order.pk)


def option_field(drink: str, group: str) -> str:
    """The form field of a drink's modifier group (one per drink, so that without JavaScript
    the radios of two drinks' "Milk" groups stay apart)."""
    return f"m:{drink}:{group}"


def _menu(shop: Shop, chosen: dict[str, Any]) -> list[dict[str, Any]]:
    """The drinks on the menu, with what the customer had chosen (after a refused submit)."""
    picked: set[str] = chosen.get("options", set())
    menu = []
    for drink in selectors.shop_menu(shop=shop, available_only=True):
        is_chosen = chosen.get("drink") == drink["name"]
        groups = []
        for group in drink["groups"]:
            options = [
                {"name": option, "checked": is_chosen and f"{group['name']}:{option}" in picked}
                for option in group["options"]
            ]
            groups.append({
                **group, "field": option_field(drink["name"], group["name"]),
                "options": options,
                # An optional single choice can be left empty: its "None" radio.
                "offer_none": not group["multiple"] and not group["required"],
                "none_checked": not any(option["checked"] for option in options),
            })
        menu.append({"name": drink["name"], "icon": drink["icon"] or "cup",
                     "checked": is_chosen, "groups": groups})
    return menu


def _render_order(request: HttpRequest, order: Order, *, status: int = 200,
                  error: OrderError | None = None, chosen: dict[str, Any] | None = None,
                  ) -> HttpResponse:
    payload = live.customer_order(order)
    return render(request, "orders/order.html", {
        "order": order,
        "shop": order.shop,
        "payload": payload,
        "menu": _menu(order.shop, chosen or {}) if order.state not in FINAL_STATES else [],
        "error": error,
        "cancel_reasons": CANCEL_REASONS,
    }, status=status)


CANCEL_REASONS = CUSTOMER_CANCEL_REASONS


@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    _customer, order = customer_order_or_404(request, order_id)
    return _render_order(request, order)


def _choices_from_post(request: HttpRequest, shop: Shop, drink_name: str,
                       ) -> dict[str, list[str]]:
    """The options posted for the chosen drink's groups (the service validates them)."""
    drink = next((d for d in selectors.shop_menu(shop=shop) if d["name"] == drink_name), None)
    if drink is None:
        return {}
    choices: dict[str, list[str]] = {}
    for group in drink["groups"]:
        field = option_field(drink_name, group["name"])
        picked = [value for value in request.POST.getlist(field) if value]
        if picked:
            choices[group["name"]] = picked
    return choices


@require_POST
def order_submit_view(request: HttpRequest, order_id: str) -> HttpResponse:
    customer, order = customer_order_or_404(request, order_id)
    drink_name = request.POST.get("drink", "")
    choices = _choices_from_post(request, order.shop, drink_name)
    chosen = {"drink": drink_name,
              "options": {f"{g}:{o}" for g, options in choices.items() for o in options}}
    try:
        order = order_submit(order=order, customer=customer, drink_name=drink_name,
                             choices=choices)
    except OrderError as error:
        order.refresh_from_db()
        return _render_order(request, order, status=error.http_status, error=error,
                             chosen=chosen)
    return redirect("orders:order", order.pk)


@require_POST
def order_cancel_view(request: HttpRequest, order_id: str) -> HttpResponse:
    customer, order = customer_order_or_404(request, order_id)
    reason = request.POST.get("reason", "").strip()[:200]
    try:
        order_cancel(order=order, by=CancelledBy.CUSTOMER, customer=customer, reason=reason)
    except OrderError as error:
        order.refresh_from_db()
        return _render_order(request, order, status=error.http_status, error=error)
    return redirect("orders:order", order.pk)


@require_GET
def order_journey(request: HttpRequest, order_id: str) -> HttpResponse:
    _customer, order = customer_order_or_404(request, order_id)
    entries = [
        {**entry, "time": datetime.fromisoformat(entry["time"]),
         "service": entry["detailType"].split(".", 1)[0]}
        for entry in selectors.order_journey(order=order)
    ]
    return render(request, "orders/journey.html", {
        "order": order, "shop": order.shop, "entries": entries,
        "payload": live.customer_order(order),
    })


@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    customer = customer_of(request.user, request.session)
    orders = []
    if customer is not None:
        orders = [
            {"order": order, "payload": live.customer_order(order)}
            for order in selectors.customer_history(customer=customer)
        ]
    return render(request, "orders/my_orders.html", {"customer": customer, "orders": orders,
                                                      "retention_days": retention_days()})


@require_http_methods(["GET", "POST"])
def erase_my_data(request: HttpRequest) -> HttpResponse:
    """The confirmation page (GET) and the erasure (POST, confirmed) of the request's own
    customer, signed in or a guest of this browser."""
    customer = customer_of(request.user, request.session)
    context: dict[str, Any] = {"customer": customer, "erased": False,
                               "retention_days": retention_days()}
    if request.method == "POST" and customer is not None:
        if request.POST.get("confirm") != "yes":
            return render(request, "orders/erase.html", context, status=400)
        customer_erase(customer=customer)
        context["erased"] = True
    return render(request, "orders/erase.html", context)


# --- barista and display --------------------------------------------------------------------

def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/forbidden.html", status=403)


def barista_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in baristas and staff only: others log in first, or get a 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_barista(request.user):
            return _forbidden(request)
        return view(request, *args, **kwargs)

    return wrapped


def barista_json(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Barista actions: every refusal (never a login redirect) is an `ApplicationError` the view
    or a service raised, answered as JSON in the one shape."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            if not request.user.is_authenticated:
                raise OrderError("Please log in as a barista first.", "not_logged_in", None, 401)
            if not is_barista(request.user):
                raise OrderError("Only baristas and staff can do this.", "forbidden")
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return error_response(error)

    return wrapped


def _shop_run_by(user: Any, slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise OrderError("There is no such shop.", "not_found")
    if not runs_shop(user, shop):
        raise OrderError(f"Only the baristas of {shop.name} can do this.", "forbidden")
    return shop


@require_GET
@barista_page
def barista(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _shop(slug)
    if not runs_shop(request.user, shop):
        return _forbidden(request)
    return render(request, "orders/barista.html", {
        "shop": shop, "snapshot": live.board_snapshot(shop.slug),
        "me": {"id": request.user.pk, "name": live.staff_name(request.user)},
        "hours": shop_hours_summary(shop),
    })


BARISTA_ACTIONS = ("claim", "unclaim", "complete", "cancel")


@require_POST
@barista_json
def barista_action(request: HttpRequest, slug: str, order_id: str, action: str) -> JsonResponse:
    if action not in BARISTA_ACTIONS:
        raise OrderError(f"Unknown action {action!r}: use one of {', '.join(BARISTA_ACTIONS)}.",
                         "unknown_action", "action", 404)
    order = Order.objects.filter(pk=order_id, shop__slug=slug).select_related("shop").first()
    if order is None:
        raise OrderError("There is no such order in this shop.", "not_found")
    if not runs_shop(request.user, order.shop):
        raise OrderError(f"Only the baristas of {order.shop.name} can do this.", "forbidden")
    user = request.user
    if action == "claim":
        order_claim(order=order, barista=user)
    elif action == "unclaim":
        order_unclaim(order=order, barista=user)
    elif action == "complete":
        order_complete(order=order, barista=user)
    else:
        reason = request.POST.get("reason", "").strip()[:200]
        order_cancel(order=order, by=CancelledBy.BARISTA, barista=user, reason=reason)
    now = live.board_order_now(order_id=order.pk, shop_id=order.shop_id)
    if now is None:
        raise OrderError("There is no such order in this shop.", "not_found")
    seq, board_order = now
    # The barista's page applies this at once; `seq` orders it against the board's pushes.
    return JsonResponse({"ok": True, "seq": seq, "order": board_order})


@require_POST
@barista_json
def barista_shop_open(request: HttpRequest, slug: str) -> JsonResponse:
    shop = _shop_run_by(request.user, slug)
    raw = request.POST.get("is_open", "")
    if raw not in ("true", "false"):
        raise OrderError("Say is_open=true to open the shop or is_open=false to close it.",
                         "invalid", "is_open")
    shop_set_open(shop=shop, is_open=raw == "true", user=request.user)
    shop.refresh_from_db()
    return JsonResponse({"ok": True, "shop": live.shop_public(shop)})


@require_http_methods(["GET", "POST"])
@barista_page
def barista_hours(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's opening hours, which it may open and close by (baristas and staff)."""
    shop = _shop(slug)
    if not runs_shop(request.user, shop):
        return _forbidden(request)
    form = OpeningHoursForm(request.POST or None, shop=shop)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(user=request.user)
        except OrderError as error:
            form_add_error(form, error)
        else:
            messages.success(request, "Opening hours saved.")
            return redirect("orders:barista-hours", slug=shop.slug)
    shop.refresh_from_db()
    return render(request, "orders/hours.html", {
        "shop": shop, "form": form, "summary": shop_hours_summary(shop),
        "days": [form[name.lower()] for name in WEEKDAYS],
    }, status=400 if form.is_bound and form.errors else 200)


@require_GET
@barista_page
def display(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _shop(slug)
    if not runs_shop(request.user, shop):
        return _forbidden(request)
    return render(request, "orders/display.html", {
        "shop": shop,
        "snapshot": live.board_snapshot(shop.slug),
        "window": _window_if_open(request, shop),
    })


def _window_if_open(request: HttpRequest, shop: Shop) -> dict[str, Any] | None:
    """The QR code to show, only while the shop is open: a closed shop serves no code."""
    if not shop.is_open:
        return None
    return window_for_display(request, qr_window_current(shop=shop))


@require_GET
@barista_json
def display_window(request: HttpRequest, slug: str) -> JsonResponse:
    """The current QR window with its image, for the display at each rollover; `null` while
    the shop is closed."""
    shop = _shop_run_by(request.user, slug)
    return JsonResponse({"window": _window_if_open(request, shop), "is_open": shop.is_open,
                         "server_time": utc_timestamp(timezone.now())})
