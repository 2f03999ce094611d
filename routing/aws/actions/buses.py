"""The EventBridge actions on buses: Create, Describe, List, Update and DeleteEventBus."""

from __future__ import annotations

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    NO_KMS,
    Output,
    actor_of,
    bus_name_param,
    page_output,
    tags_param,
)
from routing.aws.arns import DEAD_LETTER_ARN
from routing.aws.auth import AwsCaller
from routing.aws.errors import AccessDenied
from routing.aws.params import BUS_NAME_PATTERN, Params, decode_next_token
from routing.errors import ValidationError
from routing.services import bus_create, bus_delete, bus_get, bus_update
from routing.services.publish import bus_name_from_reference

NO_LOG_CONFIG = "the bus keeps every delivery attempt itself."


def _dead_letter_param(params: Params) -> bool | None:
    """A bus's DeadLetterConfig maps onto the bus's own dead-letter store, as a target's does:
    `{"Arn": DEAD_LETTER_ARN}` keeps every target's dead letters, `{}` stops doing so."""
    config = params.structure("DeadLetterConfig")
    if config is None:
        return None
    arn = config.string("Arn")
    if arn is None:
        return False
    if arn != DEAD_LETTER_ARN:
        raise ValidationError(
            f"DeadLetterConfig.Arn must be {DEAD_LETTER_ARN}, the bus's own dead-letter store "
            "(dead letters stay in the bus and can be redriven); queues such as SQS are not "
            "supported. Send DeadLetterConfig {} to stop keeping them.",
            field="DeadLetterConfig.Arn")
    return True


def create_event_bus(params: Params, caller: AwsCaller) -> Output:
    params.refuse("EventSourceName", why="there are no partner event sources.")
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("LogConfig", why=NO_LOG_CONFIG)
    name = params.name("Name", pattern=BUS_NAME_PATTERN, max_length=256)
    assert name is not None
    tags = tags_param(params)
    dead_letter = _dead_letter_param(params)
    if caller.bus_names is not None:
        raise AccessDenied("This credential is limited to some event buses: it cannot create "
                           "new ones.", field="Name")
    actor = actor_of(caller)
    bus = bus_create(name=name, description=params.string("Description") or "", actor=actor,
                     tags=tags)
    if dead_letter:
        bus = bus_update(name=bus.name, dead_letter_enabled=True, actor=actor)
    return shapes.compact({"EventBusArn": bus.arn, "Description": bus.description,
                           "DeadLetterConfig": shapes.bus_dead_letter_shape(bus)})


def describe_event_bus(params: Params, caller: AwsCaller) -> Output:
    name = bus_name_param(params, "Name")
    caller.require_bus(name)
    return shapes.bus_shape(bus_get(name))


def update_event_bus(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("LogConfig", why=NO_LOG_CONFIG)
    name = bus_name_param(params, "Name")
    caller.require_bus(name)
    bus = bus_update(name=name, description=params.string("Description"),
                     dead_letter_enabled=_dead_letter_param(params), actor=actor_of(caller))
    return shapes.compact({"Arn": bus.arn, "Name": bus.name, "Description": bus.description,
                           "DeadLetterConfig": shapes.bus_dead_letter_shape(bus)})


def list_event_buses(params: Params, caller: AwsCaller) -> Output:
    page = selectors.buses_page(prefix=params.string("NamePrefix"), allowed=caller.bus_names,
                                after=decode_next_token(params, "ListEventBuses"),
                                limit=params.limit())
    return page_output("EventBuses", [shapes.bus_shape(bus) for bus in page.items],
                       "ListEventBuses", page.next_after)


def delete_event_bus(params: Params, caller: AwsCaller) -> Output:
    # As at AWS, deleting a bus that is not there succeeds.
    name = bus_name_from_reference(params.required_string("Name"))
    caller.require_bus(name)
    bus_delete(name=name, actor=actor_of(caller))
    return None
