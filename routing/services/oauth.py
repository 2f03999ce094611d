"""OAuth client credentials for connections: the access token fetched from the connection's
authorization endpoint, kept (encrypted) on the connection until shortly before it expires, and
fetched again when it is about to expire or an API answers 401 or 407, as EventBridge does.

The token request sends the client id and secret as HTTP Basic credentials (RFC 6749 §2.3.1),
`grant_type=client_credentials` (unless the connection's OAuthHttpParameters say otherwise), the
body parameters form-encoded (POST, PUT) and the query and header parameters as given. It goes
through the same checked outbound sending as every webhook (routing.targets.outbound)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from routing.aws.credentials import CredentialUnreadable, decrypt_secret, encrypt_secret
from routing.models import AuthorizationType, Connection, ConnectionState
from routing.services.connections import connection_parameters
from routing.targets.base import AttemptFailure
from routing.targets.outbound import checked_url, send_checked

logger = logging.getLogger(__name__)

TOKEN_TIMEOUT_SECONDS = 5.0
# A token this close to its expiry is fetched again before use (EventBridge: 60 s).
REFRESH_MARGIN = timedelta(seconds=60)


def _pairs(parameters: dict[str, Any], member: str) -> list[tuple[str, str]]:
    return [(item["Key"], item["Value"]) for item in parameters.get(member, [])]


def _fetch_token(oauth: dict[str, Any]) -> tuple[str, int | None]:
    client = oauth["ClientParameters"]
    extra = oauth.get("OAuthHttpParameters", {})
    url = checked_url(oauth["AuthorizationEndpoint"], what="authorization endpoint")
    query = _pairs(extra, "QueryStringParameters")
    if query:
        url = url.copy_merge_params(dict(query))
    credentials = base64.b64encode(
        f"{client['ClientID']}:{client['ClientSecret']}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json",
               **dict(_pairs(extra, "HeaderParameters"))}
    body = dict(_pairs(extra, "BodyParameters"))
    body.setdefault("grant_type", "client_credentials")
    content = b""
    method = oauth["HttpMethod"]
    if method in {"POST", "PUT"}:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        content = urlencode(body).encode()
    else:
        url = url.copy_merge_params(body)
    response = send_checked(method, url, headers=headers, content=content,
                            timeout=TOKEN_TIMEOUT_SECONDS, what="authorization endpoint")
    if not 200 <= response.status_code < 300:
        raise AttemptFailure(
            "AUTHORIZATION_FAILED",
            f"The authorization endpoint answered HTTP {response.status_code}: "
            f"{response.text[:200]}",
            retryable=response.status_code == 429 or response.status_code >= 500,
            response_status=response.status_code,
        )
    try:
        answer = json.loads(response.content)
        token = answer["access_token"]
        expires_in = answer.get("expires_in")
        if not isinstance(token, str) or not token:
            raise TypeError("access_token is not text")
        lifetime = int(expires_in) if expires_in is not None else None
    except (ValueError, TypeError, KeyError):
        raise AttemptFailure("AUTHORIZATION_FAILED",
                             "The authorization endpoint's answer holds no access_token.",
                             retryable=False) from None
    return token, lifetime


def _mark(connection: Connection, **values: Any) -> None:
    Connection.objects.filter(pk=connection.pk).update(**values)
    for key, value in values.items():
        setattr(connection, key, value)


def connection_token_refresh(connection: Connection) -> str:
    """Fetches a new token and keeps it; on refusal the connection is DEAUTHORIZED with the
    reason (its secrets stay, so the next call may try again)."""
    parameters = connection_parameters(connection)
    if parameters is None or "OAuthParameters" not in parameters:
        raise AttemptFailure("CONNECTION_DEAUTHORIZED",
                             f"Connection {connection.name} is deauthorized: update it with "
                             "new authorization parameters.", retryable=False)
    try:
        token, lifetime = _fetch_token(parameters["OAuthParameters"])
    except AttemptFailure as failure:
        _mark(connection, state=ConnectionState.DEAUTHORIZED,
              state_reason=f"Failed to authorize: {failure.message}"[:512],
              token_encrypted="", token_expires_at=None)
        raise
    now = timezone.now()
    _mark(connection, token_encrypted=encrypt_secret(token),
          token_expires_at=now + timedelta(seconds=lifetime) if lifetime is not None else None,
          state=ConnectionState.AUTHORIZED, state_reason="", last_authorized_at=now)
    return token


def _cached_token(connection: Connection) -> str | None:
    if not connection.token_encrypted:
        return None
    expires = connection.token_expires_at
    if expires is not None and expires - REFRESH_MARGIN <= timezone.now():
        return None
    try:
        return decrypt_secret(connection.token_encrypted)
    except CredentialUnreadable:
        return None


def connection_authorization_headers(connection: Connection, *, refresh: bool = False
                                     ) -> dict[str, str]:
    """The headers that authorize one call through the connection (never logged)."""
    if connection.state == ConnectionState.DEAUTHORIZED and not connection.parameters_encrypted:
        raise AttemptFailure("CONNECTION_DEAUTHORIZED",
                             f"Connection {connection.name} is deauthorized.", retryable=False)
    try:
        parameters = connection_parameters(connection)
    except CredentialUnreadable as error:
        raise AttemptFailure("CONNECTION_UNREADABLE", str(error), retryable=False) from None
    assert parameters is not None
    if connection.authorization_type == AuthorizationType.API_KEY:
        block = parameters["ApiKeyAuthParameters"]
        return {block["ApiKeyName"]: block["ApiKeyValue"]}
    if connection.authorization_type == AuthorizationType.BASIC:
        block = parameters["BasicAuthParameters"]
        pair = f"{block['Username']}:{block['Password']}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    token = None if refresh else _cached_token(connection)
    if token is None:
        token = connection_token_refresh(connection)
    return {"Authorization": f"Bearer {token}"}


def connection_authorize(connection_id: int) -> str:
    """The task after an OAuth connection is created or updated: its first token. Returns the
    state it ends in ("missing" if the connection is gone)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "missing"
    if connection.state != ConnectionState.AUTHORIZING:
        return connection.state
    try:
        connection_token_refresh(connection)
    except AttemptFailure as failure:
        logger.warning("connection %s could not be authorized: %s", connection.name,
                       failure.message)
    return connection.state
