import logging
import sys
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views import defaults

from coffeeshop.authorisation import is_staff
from coffeeshop.health import health_report_from_any_thread
from coffeeshop.unavailable import is_database_unavailable, render_unavailable

logger = logging.getLogger(__name__)


async def healthz(request: HttpRequest) -> JsonResponse:
    report = await sync_to_async(health_report_from_any_thread, thread_sensitive=False)()
    response = JsonResponse(report, status=200 if report["healthy"] else 503)
    if not report["healthy"]:
        # Something being down (a worker still starting, say) is what /healthz is for: say so
        # as a warning, not as the ERROR Django's request logger gives every 5xx.
        logger.warning("healthz: down: %s", report.get("errors"))
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """What a browser asks for when a response (JSON, say) names no icon: the site's own."""
    return redirect(static("favicon.svg"), permanent=True)


def home(request: HttpRequest) -> HttpResponse:
    from coffeeshop.demo import DEMO_LOGINS
    from coffeeshop.urls import STAFF_PAGES, public_pages

    # Links that only lead to a refusal are not offered: the operator's pages only to staff.
    staff = is_staff(request.user)
    pages = [(title, path) for title, path in public_pages()
             if path != "/" and (staff or path not in STAFF_PAGES)
             and (settings.DEV_MAIL_PAGE or path != "/dev/mail/")]
    # The demo passwords only mean something on a `make run` laptop (DEBUG), never elsewhere.
    logins = DEMO_LOGINS if settings.DEBUG else ()
    return render(request, "home.html", {"pages": pages, "demo_logins": logins})


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """What django-axes answers a locked-out login with (AXES_LOCKOUT_CALLABLE), on any form."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
        "login_url": request.path if request.path.endswith("/login/") else settings.LOGIN_URL,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so sys.exc_info() is it."""
    error = sys.exc_info()[1]
    if error is not None and is_database_unavailable(error):
        return render_unavailable(request, error)
    if request.path.startswith("/api/"):
        from routing.api.http import internal_failure_response

        return internal_failure_response()
    if request.path.startswith("/aws/"):
        from routing.aws.errors import InternalFailure
        from routing.aws.views import error_response as aws_error_response

        return aws_error_response(InternalFailure("The request failed on the server."),
                                  str(uuid.uuid4()))
    return defaults.server_error(request)
