"""Connections: how calls to an API destination are authorized (EventBridge's CreateConnection
and friends). The whole AuthParameters, secrets included, is kept encrypted with the AWS
credentials' Fernet keys (routing.aws.credentials); what is shown is a copy without any secret.

States as EventBridge reports them: API_KEY and BASIC connections are AUTHORIZED at once; an
OAuth connection is AUTHORIZING until its first token is fetched (a task, after commit), then
AUTHORIZED, or DEAUTHORIZED with the reason if the token endpoint refused. DeauthorizeConnection
removes every secret: the connection is DEAUTHORIZED until UpdateConnection gives new ones.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from routing.aws.credentials import decrypt_secret, encrypt_secret
from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import AuthorizationType, Connection, ConnectionState
from routing.services.rules import Actor

NAME_RE = re.compile(r"[\.\-_A-Za-z0-9]{1,64}")
# EventBridge's pattern for header values, user names, client ids...: no control characters.
PRINTABLE_RE = re.compile(r"[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*")
HEADER_KEY_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
MAX_HTTP_PARAMETERS = 100
OAUTH_METHODS = ("GET", "POST", "PUT")
AUTH_BLOCKS = {
    AuthorizationType.API_KEY: "ApiKeyAuthParameters",
    AuthorizationType.BASIC: "BasicAuthParameters",
    AuthorizationType.OAUTH_CLIENT_CREDENTIALS: "OAuthParameters",
}
# Secret members of each block: kept encrypted, never shown.
_SECRETS = {"ApiKeyAuthParameters": ("ApiKeyValue",), "BasicAuthParameters": ("Password",)}


def name_check(name: str, *, what: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise ValidationError(
            f"1 validation error detected: Value '{name[:100]}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ "
            f"(and be 1 to 64 characters long): {what} names are letters, digits, '.', '-', "
            "'_'.",
            field="Name",
        )


def _text(block: Mapping[str, Any], member: str, where: str, *, required: bool = True,
          maximum: int = 512, pattern: re.Pattern[str] | None = PRINTABLE_RE) -> str | None:
    value = block.get(member)
    if value is None:
        if required:
            raise ValidationError(f"{where}.{member} is required.", field=f"{where}.{member}")
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= maximum:
        raise ValidationError(f"{where}.{member} must be text of 1 to {maximum} characters.",
                              field=f"{where}.{member}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ValidationError(f"{where}.{member} holds characters that are not allowed "
                              "(control characters or ':').", field=f"{where}.{member}")
    return value


def _block(parameters: Mapping[str, Any], name: str, where: str) -> dict[str, Any] | None:
    value = parameters.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}.{name} must be an object.", field=f"{where}.{name}")
    return dict(value)


def http_parameters_check(value: Any, where: str) -> dict[str, list[dict[str, Any]]]:
    """EventBridge's ConnectionHttpParameters: header, query string and body parameters, each
    {Key, Value, IsValueSecret}."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be an object.", field=where)
    checked: dict[str, list[dict[str, Any]]] = {}
    for member in ("HeaderParameters", "QueryStringParameters", "BodyParameters"):
        items = value.get(member)
        if items is None:
            continue
        if not isinstance(items, list) or len(items) > MAX_HTTP_PARAMETERS:
            raise ValidationError(f"{where}.{member} must be a list of at most "
                                  f"{MAX_HTTP_PARAMETERS} parameters.", field=f"{where}.{member}")
        out = []
        for position, item in enumerate(items, start=1):
            spot = f"{where}.{member}.{position}"
            if not isinstance(item, Mapping):
                raise ValidationError(f"{spot} must be an object.", field=spot)
            key = _text(item, "Key", spot, pattern=HEADER_KEY_RE if member == "HeaderParameters"
                        else None)
            text = _text(item, "Value", spot, maximum=512,
                         pattern=PRINTABLE_RE if member == "HeaderParameters" else None)
            secret = item.get("IsValueSecret", False)
            if not isinstance(secret, bool):
                raise ValidationError(f"{spot}.IsValueSecret must be true or false.",
                                      field=f"{spot}.IsValueSecret")
            out.append({"Key": key, "Value": text, "IsValueSecret": secret})
        checked[member] = out
    return checked


def _auth_block_check(kind: str, block: dict[str, Any], where: str) -> dict[str, Any]:
    if kind == AuthorizationType.API_KEY:
        return {"ApiKeyName": _text(block, "ApiKeyName", where, pattern=HEADER_KEY_RE),
                "ApiKeyValue": _text(block, "ApiKeyValue", where)}
    if kind == AuthorizationType.BASIC:
        return {"Username": _text(block, "Username", where),
                "Password": _text(block, "Password", where)}
    client = _block(block, "ClientParameters", where)
    if client is None:
        raise ValidationError(f"{where}.ClientParameters is required.",
                              field=f"{where}.ClientParameters")
    method = block.get("HttpMethod")
    if method not in OAUTH_METHODS:
        raise ValidationError(f"{where}.HttpMethod must be one of {', '.join(OAUTH_METHODS)}.",
                              field=f"{where}.HttpMethod")
    endpoint = _text(block, "AuthorizationEndpoint", where, maximum=2048, pattern=None)
    assert endpoint is not None
    from routing.services.rules import outbound_url_validate

    outbound_url_validate(endpoint, field=f"{where}.AuthorizationEndpoint",
                          what="The authorization endpoint")
    checked: dict[str, Any] = {
        "ClientParameters": {
            "ClientID": _text(client, "ClientID", f"{where}.ClientParameters"),
            "ClientSecret": _text(client, "ClientSecret", f"{where}.ClientParameters"),
        },
        "AuthorizationEndpoint": endpoint,
        "HttpMethod": method,
    }
    if block.get("OAuthHttpParameters") is not None:
        checked["OAuthHttpParameters"] = http_parameters_check(
            block["OAuthHttpParameters"], f"{where}.OAuthHttpParameters")
    return checked


def auth_parameters_check(kind: str, parameters: Any) -> dict[str, Any]:
    """The AuthParameters of a connection of this AuthorizationType, checked and normalised."""
    if kind not in AuthorizationType.values:
        raise ValidationError(
            f"AuthorizationType must be one of {', '.join(AuthorizationType.values)}.",
            field="AuthorizationType")
    if not isinstance(parameters, Mapping):
        raise ValidationError("AuthParameters is required.", field="AuthParameters")
    parameters = dict(parameters)
    if parameters.get("ConnectivityParameters") is not None:
        raise ValidationError("AuthParameters.ConnectivityParameters is not supported by this "
                              "event bus: there are no private APIs (VPC Lattice).",
                              field="AuthParameters.ConnectivityParameters")
    wanted = AUTH_BLOCKS[AuthorizationType(kind)]
    others = [name for name in AUTH_BLOCKS.values() if name != wanted and parameters.get(name)]
    if others:
        raise ValidationError(f"AuthorizationType {kind} takes AuthParameters.{wanted}, not "
                              f"{', '.join(others)}.", field=f"AuthParameters.{others[0]}")
    block = _block(parameters, wanted, "AuthParameters")
    if block is None:
        raise ValidationError(f"AuthorizationType {kind} needs AuthParameters.{wanted}.",
                              field=f"AuthParameters.{wanted}")
    checked = {wanted: _auth_block_check(kind, block, f"AuthParameters.{wanted}")}
    if parameters.get("InvocationHttpParameters") is not None:
        checked["InvocationHttpParameters"] = http_parameters_check(
            parameters["InvocationHttpParameters"], "AuthParameters.InvocationHttpParameters")
    return checked


def _redacted_http(parameters: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {member: [{key: value for key, value in item.items()
                      if not (key == "Value" and item.get("IsValueSecret"))} for item in items]
            for member, items in parameters.items()}


def public_parameters_of(parameters: dict[str, Any]) -> dict[str, Any]:
    """AuthParameters as DescribeConnection shows them: no password, key value, client secret
    or secret parameter value."""
    shown = copy.deepcopy(parameters)
    for block, secrets in _SECRETS.items():
        for secret in secrets:
            shown.get(block, {}).pop(secret, None)
    oauth = shown.get("OAuthParameters")
    if oauth is not None:
        oauth.get("ClientParameters", {}).pop("ClientSecret", None)
        if "OAuthHttpParameters" in oauth:
            oauth["OAuthHttpParameters"] = _redacted_http(oauth["OAuthHttpParameters"])
    if "InvocationHttpParameters" in shown:
        shown["InvocationHttpParameters"] = _redacted_http(shown["InvocationHttpParameters"])
    return shown


def connection_parameters(connection: Connection) -> dict[str, Any] | None:
    """The whole AuthParameters, secrets included; None once deauthorized."""
    if not connection.parameters_encrypted:
        return None
    parameters: dict[str, Any] = json.loads(decrypt_secret(connection.parameters_encrypted))
    return parameters


def _store(connection: Connection, kind: str, parameters: dict[str, Any]) -> None:
    connection.authorization_type = kind
    connection.parameters_encrypted = encrypt_secret(json.dumps(parameters))
    connection.public_parameters = public_parameters_of(parameters)
    connection.token_encrypted = ""
    connection.token_expires_at = None
    if kind == AuthorizationType.OAUTH_CLIENT_CREDENTIALS:
        connection.state, connection.state_reason = ConnectionState.AUTHORIZING, ""
    else:
        connection.state, connection.state_reason = ConnectionState.AUTHORIZED, ""
        connection.last_authorized_at = timezone.now()


def _authorize_on_commit(connection: Connection) -> None:
    if connection.state == ConnectionState.AUTHORIZING:
        from routing import dispatch

        dispatch.authorize_connection_on_commit(connection.pk)


def _description_check(description: str) -> None:
    if len(description) > 512:
        raise ValidationError("Description is longer than 512 characters.", field="Description")


def connection_get(name: str) -> Connection:
    try:
        return Connection.objects.get(name=name)
    except Connection.DoesNotExist:
        raise NotFound(f"Failed to describe the connection(s). Connection '{name}' does not "
                       "exist.", field="Name") from None


def connection_get_by_reference(reference: str) -> Connection:
    """By name or by ARN (arn:...:connection/NAME/UUID)."""
    if reference.startswith("arn:"):
        _, _, rest = reference.partition(":connection/")
        name, _, uid = rest.partition("/")
        connection = connection_get(name)
        if uid and str(connection.uid) != uid:
            raise NotFound(f"Connection {reference} does not exist.", field="ConnectionArn")
        return connection
    return connection_get(reference)


def connection_create(*, name: str, authorization_type: str, auth_parameters: Any,
                      description: str = "", actor: Actor) -> Connection:
    name_check(name, what="Connection")
    _description_check(description)
    parameters = auth_parameters_check(authorization_type, auth_parameters)
    connection = Connection(name=name, description=description)
    _store(connection, authorization_type, parameters)
    try:
        with transaction.atomic():
            connection.save()
            _authorize_on_commit(connection)
    except IntegrityError:
        raise AlreadyExists(f"Connection {name} already exists.", field="Name") from None
    return connection


def _merged(old: dict[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateConnection's AuthParameters: given members replace the stored ones, one level
    into each block (so a new password alone keeps the user name)."""
    merged = copy.deepcopy(old or {})
    for block, value in update.items():
        if value is None:
            continue
        if (isinstance(value, Mapping) and isinstance(merged.get(block), dict)
                and block != "InvocationHttpParameters"):
            for member, inner in value.items():
                if (isinstance(inner, Mapping) and isinstance(merged[block].get(member), dict)
                        and member == "ClientParameters"):
                    merged[block][member].update(inner)
                elif inner is not None:
                    merged[block][member] = inner
        else:
            merged[block] = value
    return merged


def connection_update(*, name: str, actor: Actor, description: str | None = None,
                      authorization_type: str | None = None,
                      auth_parameters: Any = None) -> Connection:
    with transaction.atomic():
        connection = connection_get(name)
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        if description is not None:
            _description_check(description)
            connection.description = description
        if authorization_type is not None or auth_parameters is not None:
            kind = authorization_type or connection.authorization_type
            if auth_parameters is not None and not isinstance(auth_parameters, Mapping):
                raise ValidationError("AuthParameters must be an object.",
                                      field="AuthParameters")
            old = connection_parameters(connection) if kind == connection.authorization_type \
                else {}
            parameters = auth_parameters_check(kind, _merged(old, auth_parameters or {}))
            _store(connection, kind, parameters)
            _authorize_on_commit(connection)
        connection.save()
    return connection


def connection_deauthorize(*, name: str, actor: Actor) -> Connection:
    """Removes every secret (and the OAuth token): calls through it fail until an update."""
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection_get(name).pk)
        connection.parameters_encrypted = ""
        connection.token_encrypted = ""
        connection.token_expires_at = None
        connection.state = ConnectionState.DEAUTHORIZED
        connection.state_reason = "Deauthorized by DeauthorizeConnection."
        connection.save()
    return connection


def connection_delete(*, name: str, actor: Actor) -> Connection:
    connection = connection_get(name)
    users = list(connection.api_destinations.values_list("name", flat=True)[:5])
    if users:
        raise ValidationError(
            f"Connection {name} is used by API destination(s) {', '.join(users)}: delete them "
            "or point them at another connection first.", field="Name")
    connection.delete()
    connection.state = ConnectionState.DELETING
    return connection


def connections_list(*, prefix: str | None = None, state: str | None = None
                     ) -> QuerySet[Connection]:
    rows = Connection.objects.order_by("name")
    if prefix:
        rows = rows.filter(name__startswith=prefix)
    if state:
        if state not in ConnectionState.values:
            raise ValidationError(
                f"ConnectionState must be one of {', '.join(ConnectionState.values)}.",
                field="ConnectionState")
        rows = rows.filter(state=state)
    return rows
