"""Who is calling: an API key (`Authorization: Bearer <key>` or `X-Api-Key: <key>`) or a
logged-in staff user. Key callers skip CSRF (no cookie is involved); session callers do not."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from routing.api.errors import NotAuthenticated, PayloadTooLarge, PermissionDenied
from routing.errors import ValidationError
from routing.publishers import Publisher
from routing.services.apikeys import apikey_authenticate
from routing.services.caller_cache import CallerGrant

KEY_HEADERS_HINT = "send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller. `bus_names` limits the buses it may use (None: every bus)."""

    label: str
    publisher: Publisher
    api_key: CallerGrant | None = None
    user: AbstractBaseUser | None = None
    bus_names: frozenset[str] | None = None
    # The sources it may publish (None: any source not reserved; see routing.sources).
    sources: tuple[str, ...] | None = None

    @property
    def uses_session(self) -> bool:
        return self.api_key is None

    def may_use_bus(self, bus_name: str) -> bool:
        return self.bus_names is None or bus_name in self.bus_names

    def require_bus(self, bus_name: str, *, doing: str) -> None:
        if not self.may_use_bus(bus_name):
            raise PermissionDenied(f"This API key may not {doing} event bus {bus_name}.")


def key_from_headers(request: HttpRequest) -> str | None:
    """The API key the request carries, or None; NotAuthenticated if it carries a mangled one."""
    authorization = request.headers.get("Authorization", "").strip()
    header_key = request.headers.get("X-Api-Key", "").strip()
    bearer = ""
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        bearer = credentials.strip()
        if scheme.lower() != "bearer" or not bearer:
            raise NotAuthenticated(
                "The Authorization header must read 'Bearer <API key>'.", field="Authorization"
            )
    if bearer and header_key and bearer != header_key:
        raise NotAuthenticated(
            "Authorization and X-Api-Key carry different keys; send just one.",
            field="X-Api-Key",
        )
    return bearer or header_key or None


def authenticate(request: HttpRequest) -> Caller:
    """The caller, by API key first, else by staff session; raises 401 / 403 errors."""
    raw_key = key_from_headers(request)
    if raw_key is not None:
        key = apikey_authenticate(raw_key)
        if key is None:
            raise NotAuthenticated(
                "The API key is not valid or has been revoked.",
                field="X-Api-Key" if "X-Api-Key" in request.headers else "Authorization",
            )
        return Caller(label=f"api-key:{key.name}", api_key=key, bus_names=key.bus_names,
                      publisher=Publisher.api_key(key_id=key.pk, name=key.name),
                      sources=key.sources)
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated(
            f"Authentication required: {KEY_HEADERS_HINT}, or log in as a staff user.",
            code="MissingAuthenticationTokenException",
            field="Authorization",
        )
    if not user.is_staff:
        raise PermissionDenied(
            f"Only staff users may call the API with a login session; {KEY_HEADERS_HINT}."
        )
    return Caller(label=f"user:{user.get_username()}", user=user,
                  publisher=Publisher.user(user_id=user.pk, username=user.get_username()))


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        raise PermissionDenied(
            f"CSRF check failed: {reason}. A logged-in caller must send the csrftoken cookie's "
            "value in an X-CSRFToken header (or use an API key instead).",
            code="CsrfCheckFailed",
        )


def enforce_csrf(request: HttpRequest) -> None:
    """Django's own CSRF check, for views that are exempt because key callers need no token."""

    def no_response(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the CSRF check never calls the view")

    check = _CsrfCheck(no_response)
    check.process_request(request)
    try:
        check.process_view(request, None, (), {})  # type: ignore[arg-type]
    except RequestDataTooBig:
        # The check reads a form-encoded body for its token, under Django's own size cap.
        raise PayloadTooLarge("The form-encoded request body is too large.",
                              field="body") from None
    except (TooManyFieldsSent, TooManyFilesSent) as error:
        raise ValidationError(f"The form-encoded request body is refused: {error}",
                              field="body") from None
