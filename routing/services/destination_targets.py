"""What a target pointing at an API destination must hold: an existing destination, and path
parameter values for each of its endpoint's `*` wildcards."""

from __future__ import annotations

from typing import Any

from routing.errors import ValidationError
from routing.models import ApiDestination


def api_destination_target_validate(name: str, http_parameters: dict[str, Any] | None) -> None:
    destination = ApiDestination.objects.filter(name=name).first()
    if destination is None:
        raise ValidationError(f"API destination {name} does not exist.", field="Arn")
    wildcards = destination.invocation_endpoint.count("*")
    values = (http_parameters or {}).get("PathParameterValues", [])
    if len(values) != wildcards:
        raise ValidationError(
            f"API destination {name}'s endpoint has {wildcards} '*' path parameter(s); "
            f"HttpParameters.PathParameterValues gives {len(values)}.",
            field="HttpParameters.PathParameterValues")
