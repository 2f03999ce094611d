"""Who may use the operator dashboard: active staff. Pages send anyone else to the login page
(anonymous) or answer 403 (signed in, not staff). The pages' fetch() endpoints answer in JSON
instead, so a script can say what happened rather than parse a login page, and any
RoutingError a view raises is rendered as the API renders it ({"code", "message", "field"})
with its HTTP status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

from coffeeshop.authorisation import is_staff
from coffeeshop.error_rendering import error_response
from routing.errors import RoutingError

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]

STAFF_ONLY = "The operations dashboard is for staff."


def staff_page(view: View[P]) -> View[P]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff(request.user):
            raise PermissionDenied(STAFF_ONLY)
        return view(request, *args, **kwargs)

    return wrapper


def error_json(error: RoutingError, **extra: Any) -> JsonResponse:
    """A refusal as every JSON endpoint renders one ({"code", "message", "field"}), plus
    `extra`."""
    return error_response(error, **extra)


def _staff_json(view: View[P], *, post_only: bool) -> View[P]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse(
                {"code": "NotAuthenticated",
                 "message": "Your session has ended: reload the page and log in again."},
                status=401,
            )
        if not is_staff(request.user):
            return JsonResponse({"code": "AccessDenied", "message": STAFF_ONLY}, status=403)
        if post_only and request.method != "POST":
            response = JsonResponse({"code": "MethodNotAllowed", "message": "Use POST."},
                                    status=405)
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except RoutingError as error:
            return error_json(error)

    return wrapper


def staff_json(view: View[P]) -> View[P]:
    """For fetch() endpoints that read or act with any method."""
    return _staff_json(view, post_only=False)


def staff_json_post(view: View[P]) -> View[P]:
    """For fetch() endpoints that only act (POST)."""
    return _staff_json(view, post_only=True)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
