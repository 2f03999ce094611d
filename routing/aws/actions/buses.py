"""The EventBridge actions CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus."""

from __future__ import annotations

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    NO_KMS,
    NO_TAGS,
    Output,
    actor_of,
    bus_name_param,
    page_output,
)
from routing.aws.auth import AwsCaller
from routing.aws.errors import AccessDenied
from routing.aws.params import Params, decode_next_token
from routing.services import (
    bus_create,
    bus_delete,
    bus_get,
)


def create_event_bus(params: Params, caller: AwsCaller) -> Output:
    params.refuse("EventSourceName", why="there are no partner event sources.")
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("DeadLetterConfig", why="dead letters are set per target (see PutTargets).")
    params.refuse("LogConfig", why="the bus keeps every delivery attempt itself.")
    params.refuse("Tags", why=NO_TAGS)
    if caller.bus_names is not None:
        raise AccessDenied("This credential is limited to some event buses: it cannot create "
                           "new ones.", field="Name")
    bus = bus_create(name=params.required_string("Name"),
                     description=params.string("Description") or "", actor=actor_of(caller))
    return shapes.compact({"EventBusArn": bus.arn, "Description": bus.description})


def describe_event_bus(params: Params, caller: AwsCaller) -> Output:
    name = bus_name_param(params, "Name")
    caller.require_bus(name)
    return shapes.bus_shape(bus_get(name))


def list_event_buses(params: Params, caller: AwsCaller) -> Output:
    page = selectors.buses_page(prefix=params.string("NamePrefix"), allowed=caller.bus_names,
                                after=decode_next_token(params, "ListEventBuses"),
                                limit=params.limit())
    return page_output("EventBuses", [shapes.bus_shape(bus) for bus in page.items],
                        "ListEventBuses", page.next_after)


def delete_event_bus(params: Params, caller: AwsCaller) -> Output:
    name = params.required_string("Name")
    caller.require_bus(name)
    bus_delete(name=name, actor=actor_of(caller))
    return None
