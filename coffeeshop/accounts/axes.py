"""django-axes and allauth side by side: which username a failed log-in counts against."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The name typed into the form: allauth's `login` field (a username or an email, passed on
    as `username` or `email`), or the admin's `username`."""
    for source in (credentials or {}, getattr(request, "POST", {})):
        for key in ("username", "email", "login"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None
