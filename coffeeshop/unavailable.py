"""The one place that decides "the database is unavailable, answer 503 and say when to retry".

Every door answers it in its own shape: the REST API as JSON, the AWS endpoint as AWS's
`ServiceUnavailable`, pages as the styled "back in a moment" page; `render_unavailable` picks
the shape from the path. Nothing here touches the database, which is the point.
"""

from __future__ import annotations

import logging
import sqlite3

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

logger = logging.getLogger(__name__)

# Long enough for a PostgreSQL restart, short enough that a publisher does not wait in vain.
RETRY_AFTER_SECONDS = 5

# SQLite reports schema mistakes as OperationalError too: those are bugs, not an outage.
_SQLITE_BUGS = ("no such table", "no such column", "syntax error", "has no column")


def is_database_unavailable(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) says the database cannot be reached or used now:
    a refused or dropped connection, a pool with no connection to give within its time-out."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, InterfaceError):
            return True
        if isinstance(error, OperationalError):
            cause = error.__cause__
            if isinstance(cause, sqlite3.OperationalError):
                return not any(bug in str(cause).lower() for bug in _SQLITE_BUGS)
            return True
        error = error.__cause__ or error.__context__
    return False


def _html_unavailable() -> HttpResponse:
    # Rendered without the request: the context processors would reach for the session and
    # the user, both of which live in the database that is down.
    body = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(body, status=503)


def render_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    from routing.api.http import unavailable_response as api_unavailable
    from routing.aws.views import unavailable_response as aws_unavailable

    logger.warning("database unavailable while serving %s %s: %s: %s", request.method,
                   request.path, type(error).__name__, error)
    if request.path.startswith("/api/"):
        response: HttpResponse = api_unavailable(RETRY_AFTER_SECONDS)
    elif request.path.startswith("/aws/"):
        response = aws_unavailable(RETRY_AFTER_SECONDS)
    else:
        response = _html_unavailable()
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Logged once above as a warning: an outage is not a 5xx bug for Django's request logger.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turns a database outage met by any view into a 503 in the door's own shape (in DEBUG
    too); outages met outside views (a session save, say) reach `coffeeshop.views.server_error`."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return render_unavailable(request, exception)
        return None
