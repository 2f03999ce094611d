"""Who may use the rule editor: staff. Pages send anyone else to the login page (anonymous) or
answer 403 (signed in, not staff); the editor's JSON endpoints answer in JSON instead, so the
page's script can say what happened rather than parse a login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

from routing.errors import RoutingError

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def staff_page(view: View[P]) -> View[P]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("The rule editor is for staff.")
        return view(request, *args, **kwargs)

    return wrapper


def error_json(error: RoutingError, **extra: Any) -> JsonResponse:
    """A refusal as the API renders one ({"code", "message", "field"}), plus `extra`."""
    return JsonResponse({**error.as_dict(), **extra}, status=error.http_status)


def staff_json(view: View[P]) -> View[P]:
    """For the editor's fetch() endpoints: POST only, staff only, and any RoutingError the view
    raises rendered as JSON with its HTTP status."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse(
                {"code": "NotAuthenticated",
                 "message": "Your session has ended: reload the page and log in again."},
                status=401,
            )
        if not request.user.is_staff:
            return JsonResponse(
                {"code": "AccessDenied", "message": "The rule editor is for staff."}, status=403
            )
        if request.method != "POST":
            response = JsonResponse({"code": "MethodNotAllowed", "message": "Use POST."},
                                    status=405)
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except RoutingError as error:
            return error_json(error)

    return wrapper
