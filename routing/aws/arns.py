"""Targets as EventBridge sees them (an `Arn` and its options) and as the bus stores them (a kind,
an address and a TargetSpec), both ways, so that ListTargetsByRule gives back what PutTargets got.

| Arn                                           | kind     | address            |
|-----------------------------------------------|----------|--------------------|
| `https://…` or `http://…`                     | webhook  | the URL            |
| `arn:aws:events:REGION:ACCOUNT:event-bus/BUS` | bus      | BUS                |
| `arn:coffeeshop:handler:::NAME`               | handler  | NAME               |
| `arn:coffeeshop:channels:::GROUP-TEMPLATE`    | channels | the group template |
| `arn:aws:events:REGION:ACCOUNT:api-destination/NAME/UUID` | api_destination | NAME |

`DeadLetterConfig.Arn` can only be DEAD_LETTER_ARN, the bus's own dead-letter store (deliveries
kept as dead letters, redrivable from the admin and the HTTP API); without a DeadLetterConfig an
exhausted delivery is dropped, as in EventBridge.
"""

from __future__ import annotations

from typing import Any

from routing.aws.params import Params
from routing.errors import ValidationError
from routing.models import ACCOUNT_ID, ApiDestination, EventBus, Target, TargetKind, region
from routing.services import TargetSpec
from routing.services.publish import bus_name_from_reference
from routing.services.rules import target_input_of
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import TargetInput

HANDLER_ARN_PREFIX = "arn:coffeeshop:handler:::"
CHANNELS_ARN_PREFIX = "arn:coffeeshop:channels:::"
BUS_ARN_PREFIX = "arn:aws:events:"
DEAD_LETTER_ARN = "arn:coffeeshop:dead-letters:::bus"
DEFAULT_MAX_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE_SECONDS = 86400

# Target members for AWS services this bus cannot deliver to.
UNSUPPORTED_TARGET_MEMBERS = (
    "KinesisParameters", "RunCommandParameters", "EcsParameters", "BatchParameters",
    "SqsParameters", "RedshiftDataParameters", "SageMakerPipelineParameters",
    "AppSyncParameters",
)
SUPPORTED_ARNS_HINT = (
    "use an http(s):// URL (webhook), arn:aws:events:REGION:ACCOUNT:event-bus/NAME (another "
    "bus), arn:aws:events:REGION:ACCOUNT:api-destination/NAME/UUID (an API destination), "
    f"{HANDLER_ARN_PREFIX}NAME (a registered handler) or {CHANNELS_ARN_PREFIX}GROUP "
    "(a Channels group template)."
)


def target_from_arn(arn: str) -> tuple[str, str]:
    """(kind, address) of a target Arn; ValidationError for an Arn this bus cannot deliver to."""
    if arn.startswith(("https://", "http://")):
        return TargetKind.WEBHOOK, arn
    if arn.startswith(HANDLER_ARN_PREFIX) and len(arn) > len(HANDLER_ARN_PREFIX):
        return TargetKind.HANDLER, arn[len(HANDLER_ARN_PREFIX):]
    if arn.startswith(CHANNELS_ARN_PREFIX) and len(arn) > len(CHANNELS_ARN_PREFIX):
        return TargetKind.CHANNELS, arn[len(CHANNELS_ARN_PREFIX):]
    if arn.startswith(BUS_ARN_PREFIX) and ":api-destination/" in arn:
        name = arn.split(":api-destination/", 1)[1].split("/", 1)[0]
        if name:
            return TargetKind.API_DESTINATION, name
    if arn.startswith(BUS_ARN_PREFIX) and ":event-bus/" in arn:
        return TargetKind.BUS, bus_name_from_reference(arn)
    raise ValidationError(
        f"Target Arn {arn[:200]} is not something this event bus can deliver to: "
        f"{SUPPORTED_ARNS_HINT}",
        field="Arn",
    )


def target_arn(kind: str, address: str) -> str:
    if kind == TargetKind.WEBHOOK:
        return address
    if kind == TargetKind.HANDLER:
        return HANDLER_ARN_PREFIX + address
    if kind == TargetKind.CHANNELS:
        return CHANNELS_ARN_PREFIX + address
    if kind == TargetKind.BUS:
        return EventBus(name=address).arn
    if kind == TargetKind.API_DESTINATION:
        destination = ApiDestination.objects.filter(name=address).first()
        return (destination.arn if destination is not None
                else f"{BUS_ARN_PREFIX}{region()}:{ACCOUNT_ID}:api-destination/{address}")
    raise ValueError(f"no ARN form for target kind {kind!r}")


def target_spec_from_aws(target: Params) -> TargetSpec:
    """One PutTargets entry as a TargetSpec; ValidationError says what is wrong with it."""
    target_id = target.required_string("Id")
    kind, address = target_from_arn(target.required_string("Arn"))
    target.refuse(*UNSUPPORTED_TARGET_MEMBERS,
                  why="the bus delivers to webhooks, API destinations, handlers, Channels "
                      "groups and other buses.")
    http_parameters = http_parameters_from_aws(target.structure("HttpParameters"))
    try:
        target_input = TargetInput.from_aws(target.data)
    except InvalidTargetInputError as error:
        raise ValidationError(str(error), field=error.field) from None
    retry = target.structure("RetryPolicy") or Params({}, "RetryPolicy")
    attempts = retry.integer("MaximumRetryAttempts")
    age = retry.integer("MaximumEventAgeInSeconds")
    dead_letter = target.structure("DeadLetterConfig")
    dead_letter_arn = dead_letter.string("Arn") if dead_letter is not None else None
    if dead_letter_arn is not None and dead_letter_arn != DEAD_LETTER_ARN:
        raise ValidationError(
            f"DeadLetterConfig.Arn must be {DEAD_LETTER_ARN}, the bus's own dead-letter store "
            "(dead letters stay in the bus and can be redriven); queues such as SQS are not "
            "supported. Leave DeadLetterConfig out to drop events whose retries run out.",
            field="DeadLetterConfig.Arn",
        )
    return TargetSpec(
        target_id=target_id,
        kind=kind,
        address=address,
        target_input=target_input,
        max_retry_attempts=DEFAULT_MAX_RETRY_ATTEMPTS if attempts is None else attempts,
        max_event_age_seconds=DEFAULT_MAX_EVENT_AGE_SECONDS if age is None else age,
        dead_letter_enabled=dead_letter_arn is not None,
        role_arn=target.string("RoleArn") or "",
        http_parameters=http_parameters,
    )


def http_parameters_from_aws(http: Params | None) -> dict[str, Any] | None:
    """A target's HttpParameters: PathParameterValues (a list of text) and HeaderParameters,
    QueryStringParameters (maps of text to text); each value fixed text or a JSON path."""
    if http is None:
        return None
    checked: dict[str, Any] = {}
    paths = http.string_list("PathParameterValues", max_items=20)
    if paths is not None:
        checked["PathParameterValues"] = paths
    for member in ("HeaderParameters", "QueryStringParameters"):
        values = http.structure(member)
        if values is None:
            continue
        if not all(isinstance(key, str) and isinstance(value, str)
                   for key, value in values.data.items()):
            raise ValidationError(f"{values.path} must map text to text.", field=values.path)
        checked[member] = dict(values.data)
    return checked


def target_to_aws(target: Target) -> dict[str, Any]:
    """A stored target in EventBridge's Target shape (ListTargetsByRule)."""
    shape: dict[str, Any] = {
        "Id": target.target_id,
        "Arn": target_arn(target.kind, target.address),
        **target_input_of(target).to_aws(),
        "RetryPolicy": {
            "MaximumRetryAttempts": target.max_retry_attempts,
            "MaximumEventAgeInSeconds": target.max_event_age_seconds,
        },
    }
    if target.dead_letter_enabled:
        shape["DeadLetterConfig"] = {"Arn": DEAD_LETTER_ARN}
    if target.role_arn:
        shape["RoleArn"] = target.role_arn
    if target.http_parameters:
        shape["HttpParameters"] = target.http_parameters
    return shape
