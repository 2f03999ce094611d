"""An `ApplicationError` rendered the one way each door shows it: as JSON for scripts and
fetch(), on a form (on the field it names, else on the form), as an admin message."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, JsonResponse

from routing.errors import ApplicationError


def error_response(error: ApplicationError, **extra: Any) -> JsonResponse:
    """`{"code", "message", "field"?, "details"?}` with the error's HTTP status, plus `extra`."""
    return JsonResponse({**error.as_dict(), **extra}, status=error.http_status)


def form_add_error(form: forms.BaseForm, error: ApplicationError,
                   field: str | None = None) -> None:
    """Shows `error` on `field` (default: the field it names, if the form has one), else on
    the form as a whole: never lost."""
    name = field if field is not None else error.field
    form.add_error(name if name in form.fields else None, error.message)


def admin_error_message(model_admin: admin.ModelAdmin[Any], request: HttpRequest,
                        error: ApplicationError, *, about: str = "") -> None:
    prefix = f"{about}: " if about else ""
    model_admin.message_user(request, f"{prefix}{error.message}", messages.ERROR)
