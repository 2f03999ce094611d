"""API destinations: an HTTP endpoint (with `*` path wildcards), its method and its invocation
rate limit, called through a connection. A target of kind `api_destination` names one."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import ApiDestination, Connection, HttpMethod
from routing.services.connections import connection_get_by_reference, name_check
from routing.services.rules import Actor, outbound_url_validate

MAX_RATE_PER_SECOND = 300
DEFAULT_RATE_PER_SECOND = 300


def api_destination_get(name: str) -> ApiDestination:
    try:
        return ApiDestination.objects.select_related("connection").get(name=name)
    except ApiDestination.DoesNotExist:
        raise NotFound(f"Failed to describe the api-destination(s). An api-destination "
                       f"'{name}' does not exist.", field="Name") from None


def _endpoint_check(endpoint: str) -> None:
    if not 1 <= len(endpoint) <= 2048:
        raise ValidationError("InvocationEndpoint must be 1 to 2048 characters.",
                              field="InvocationEndpoint")
    outbound_url_validate(endpoint, field="InvocationEndpoint", what="InvocationEndpoint")


def _method_check(method: str) -> None:
    if method not in HttpMethod.values:
        raise ValidationError(f"HttpMethod must be one of {', '.join(HttpMethod.values)}.",
                              field="HttpMethod")


def _rate_check(rate: int) -> None:
    if not 1 <= rate <= MAX_RATE_PER_SECOND:
        raise ValidationError(
            f"1 validation error detected: Value '{rate}' at 'invocationRateLimitPerSecond' "
            f"failed to satisfy constraint: Member must be between 1 and {MAX_RATE_PER_SECOND}",
            field="InvocationRateLimitPerSecond")


def _description_check(description: str) -> None:
    if len(description) > 512:
        raise ValidationError("Description is longer than 512 characters.", field="Description")


def api_destination_create(*, name: str, connection_reference: str, invocation_endpoint: str,
                           http_method: str, actor: Actor, description: str = "",
                           invocation_rate_limit_per_second: int | None = None
                           ) -> ApiDestination:
    name_check(name, what="API destination")
    _description_check(description)
    _endpoint_check(invocation_endpoint)
    _method_check(http_method)
    rate = (DEFAULT_RATE_PER_SECOND if invocation_rate_limit_per_second is None
            else invocation_rate_limit_per_second)
    _rate_check(rate)
    connection: Connection = connection_get_by_reference(connection_reference)
    try:
        with transaction.atomic():
            return ApiDestination.objects.create(
                name=name, description=description, connection=connection,
                invocation_endpoint=invocation_endpoint, http_method=http_method,
                invocation_rate_limit_per_second=rate)
    except IntegrityError:
        raise AlreadyExists(f"An api-destination '{name}' already exists.", field="Name") \
            from None


def api_destination_update(*, name: str, actor: Actor, description: str | None = None,
                           connection_reference: str | None = None,
                           invocation_endpoint: str | None = None,
                           http_method: str | None = None,
                           invocation_rate_limit_per_second: int | None = None
                           ) -> ApiDestination:
    destination = api_destination_get(name)
    fields: list[str] = ["last_modified_at"]
    if description is not None:
        _description_check(description)
        destination.description = description
        fields.append("description")
    if invocation_endpoint is not None:
        _endpoint_check(invocation_endpoint)
        destination.invocation_endpoint = invocation_endpoint
        fields.append("invocation_endpoint")
    if http_method is not None:
        _method_check(http_method)
        destination.http_method = http_method
        fields.append("http_method")
    if invocation_rate_limit_per_second is not None:
        _rate_check(invocation_rate_limit_per_second)
        destination.invocation_rate_limit_per_second = invocation_rate_limit_per_second
        fields.append("invocation_rate_limit_per_second")
    if connection_reference is not None:
        destination.connection = connection_get_by_reference(connection_reference)
        fields.append("connection")
    destination.save(update_fields=fields)
    return destination


def api_destination_delete(*, name: str, actor: Actor) -> None:
    """Targets that name it stay; their deliveries fail (NO_RESOURCE), as in EventBridge."""
    api_destination_get(name).delete()


def api_destinations_list(*, prefix: str | None = None, connection_reference: str | None = None
                          ) -> QuerySet[ApiDestination]:
    rows = ApiDestination.objects.select_related("connection").order_by("name")
    if prefix:
        rows = rows.filter(name__startswith=prefix)
    if connection_reference:
        rows = rows.filter(connection=connection_get_by_reference(connection_reference))
    return rows
