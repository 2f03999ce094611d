"""EventBridge's connection and API destination actions, in its input and output shapes."""

from __future__ import annotations

from typing import Any

from routing.aws import shapes
from routing.aws.actions.common import Action, Output
from routing.aws.auth import AwsCaller
from routing.aws.errors import AccessDenied
from routing.aws.params import Params, decode_next_token, encode_next_token
from routing.models import ApiDestination, Connection
from routing.services.api_destinations import (
    api_destination_create,
    api_destination_delete,
    api_destination_get,
    api_destination_update,
    api_destinations_list,
)
from routing.services.connections import (
    connection_create,
    connection_deauthorize,
    connection_delete,
    connection_get,
    connection_update,
    connections_list,
)
from routing.services.rules import Actor

NO_KMS = "secrets are encrypted with the bus's own Fernet keys, not a KMS key."
NO_PRIVATE = "there are no private APIs (VPC Lattice resource configurations)."


def _actor(caller: AwsCaller) -> Actor:
    """Connections and API destinations belong to no bus: a credential limited to some buses
    may not manage them, as it may not create buses."""
    if caller.bus_names is not None:
        raise AccessDenied("This credential is limited to some event buses: it cannot manage "
                           "connections or API destinations.", field="Name")
    return Actor.for_caller(caller.label, bus_names=caller.bus_names)


def _page(rows: Any, params: Params, action: str, key: str, shape: Any) -> dict[str, Any]:
    after = decode_next_token(params, action)
    limit = params.limit()
    if after is not None:
        rows = rows.filter(name__gt=after)
    items = list(rows[:limit + 1])
    output: dict[str, Any] = {key: [shape(item) for item in items[:limit]]}
    if len(items) > limit:
        output["NextToken"] = encode_next_token(action, items[limit - 1].name)
    return output


# Connections -----------------------------------------------------------------------------------

def _connection_summary(connection: Connection) -> dict[str, Any]:
    return shapes.compact({
        "ConnectionArn": connection.arn,
        "Name": connection.name,
        "ConnectionState": connection.state,
        "StateReason": connection.state_reason,
        "AuthorizationType": connection.authorization_type,
        "CreationTime": shapes.epoch(connection.created_at),
        "LastModifiedTime": shapes.epoch(connection.last_modified_at),
        "LastAuthorizedTime": shapes.epoch(connection.last_authorized_at),
    })


def _connection_state(connection: Connection) -> dict[str, Any]:
    return shapes.compact({
        "ConnectionArn": connection.arn,
        "ConnectionState": connection.state,
        "CreationTime": shapes.epoch(connection.created_at),
        "LastModifiedTime": shapes.epoch(connection.last_modified_at),
        "LastAuthorizedTime": shapes.epoch(connection.last_authorized_at),
    })


def _auth_input(params: Params) -> dict[str, Any] | None:
    parameters = params.structure("AuthParameters")
    return None if parameters is None else dict(parameters.data)


def create_connection(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("InvocationConnectivityParameters", why=NO_PRIVATE)
    params.refuse("Tags", why="tags are not kept on connections.")
    connection = connection_create(
        name=params.required_string("Name"),
        authorization_type=params.required_string("AuthorizationType"),
        auth_parameters=_auth_input(params),
        description=params.string("Description") or "",
        actor=_actor(caller),
    )
    output = _connection_state(connection)
    output.pop("LastAuthorizedTime", None)  # CreateConnection's output has none
    return output


def describe_connection(params: Params, caller: AwsCaller) -> Output:
    _actor(caller)
    connection = connection_get(params.required_string("Name"))
    return shapes.compact({
        **_connection_summary(connection),
        "Description": connection.description,
        "AuthParameters": connection.public_parameters or None,
    })


def update_connection(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("InvocationConnectivityParameters", why=NO_PRIVATE)
    connection = connection_update(
        name=params.required_string("Name"),
        description=params.string("Description"),
        authorization_type=params.string("AuthorizationType"),
        auth_parameters=_auth_input(params),
        actor=_actor(caller),
    )
    return _connection_state(connection)


def delete_connection(params: Params, caller: AwsCaller) -> Output:
    return _connection_state(connection_delete(name=params.required_string("Name"),
                                               actor=_actor(caller)))


def deauthorize_connection(params: Params, caller: AwsCaller) -> Output:
    return _connection_state(connection_deauthorize(name=params.required_string("Name"),
                                                    actor=_actor(caller)))


def list_connections(params: Params, caller: AwsCaller) -> Output:
    _actor(caller)
    rows = connections_list(prefix=params.string("NamePrefix"),
                            state=params.string("ConnectionState"))
    return _page(rows, params, "ListConnections", "Connections", _connection_summary)


# API destinations ------------------------------------------------------------------------------

def _destination_state(destination: ApiDestination) -> dict[str, Any]:
    return {
        "ApiDestinationArn": destination.arn,
        "ApiDestinationState": destination.state,
        "CreationTime": shapes.epoch(destination.created_at),
        "LastModifiedTime": shapes.epoch(destination.last_modified_at),
    }


def _destination_shape(destination: ApiDestination) -> dict[str, Any]:
    return shapes.compact({
        "ApiDestinationArn": destination.arn,
        "Name": destination.name,
        "ApiDestinationState": destination.state,
        "ConnectionArn": destination.connection.arn,
        "InvocationEndpoint": destination.invocation_endpoint,
        "HttpMethod": destination.http_method,
        "InvocationRateLimitPerSecond": destination.invocation_rate_limit_per_second,
        "CreationTime": shapes.epoch(destination.created_at),
        "LastModifiedTime": shapes.epoch(destination.last_modified_at),
    })


def create_api_destination(params: Params, caller: AwsCaller) -> Output:
    destination = api_destination_create(
        name=params.required_string("Name"),
        description=params.string("Description") or "",
        connection_reference=params.required_string("ConnectionArn"),
        invocation_endpoint=params.required_string("InvocationEndpoint"),
        http_method=params.required_string("HttpMethod"),
        invocation_rate_limit_per_second=params.integer("InvocationRateLimitPerSecond",
                                                        minimum=1),
        actor=_actor(caller),
    )
    return _destination_state(destination)


def describe_api_destination(params: Params, caller: AwsCaller) -> Output:
    _actor(caller)
    destination = api_destination_get(params.required_string("Name"))
    return shapes.compact({**_destination_shape(destination),
                           "Description": destination.description})


def update_api_destination(params: Params, caller: AwsCaller) -> Output:
    destination = api_destination_update(
        name=params.required_string("Name"),
        description=params.string("Description"),
        connection_reference=params.string("ConnectionArn"),
        invocation_endpoint=params.string("InvocationEndpoint"),
        http_method=params.string("HttpMethod"),
        invocation_rate_limit_per_second=params.integer("InvocationRateLimitPerSecond",
                                                        minimum=1),
        actor=_actor(caller),
    )
    return _destination_state(destination)


def delete_api_destination(params: Params, caller: AwsCaller) -> Output:
    api_destination_delete(name=params.required_string("Name"), actor=_actor(caller))
    return {}


def list_api_destinations(params: Params, caller: AwsCaller) -> Output:
    _actor(caller)
    rows = api_destinations_list(prefix=params.string("NamePrefix"),
                                 connection_reference=params.string("ConnectionArn"))
    return _page(rows, params, "ListApiDestinations", "ApiDestinations", _destination_shape)


ACTIONS: dict[str, Action] = {
    "CreateConnection": create_connection,
    "DescribeConnection": describe_connection,
    "UpdateConnection": update_connection,
    "DeleteConnection": delete_connection,
    "DeauthorizeConnection": deauthorize_connection,
    "ListConnections": list_connections,
    "CreateApiDestination": create_api_destination,
    "DescribeApiDestination": describe_api_destination,
    "UpdateApiDestination": update_api_destination,
    "DeleteApiDestination": delete_api_destination,
    "ListApiDestinations": list_api_destinations,
}
