"""Connections and API destinations: EventBridge's way to target an HTTP API.

A connection holds how to authorize calls (an API key header, basic auth, or OAuth client
credentials); its secrets are kept encrypted (Fernet, routing.services.secrets) and are never
returned. An API destination is an endpoint, a method and a rate limit, behind a connection; a
target whose kind is `api_destination` names one. Imported by routing.models, so these are
models of the routing app."""

from __future__ import annotations

import uuid

from django.db import models

from routing.models import ACCOUNT_ID, region


class AuthorizationType(models.TextChoices):
    API_KEY = "API_KEY", "API key"
    BASIC = "BASIC", "Basic"
    OAUTH_CLIENT_CREDENTIALS = "OAUTH_CLIENT_CREDENTIALS", "OAuth client credentials"


class ConnectionState(models.TextChoices):
    CREATING = "CREATING", "Creating"
    UPDATING = "UPDATING", "Updating"
    DELETING = "DELETING", "Deleting"
    AUTHORIZED = "AUTHORIZED", "Authorized"
    DEAUTHORIZED = "DEAUTHORIZED", "Deauthorized"
    AUTHORIZING = "AUTHORIZING", "Authorizing"
    DEAUTHORIZING = "DEAUTHORIZING", "Deauthorizing"


class Connection(models.Model):
    name = models.CharField(max_length=64, unique=True)
    # The ARN's last part, as AWS's (connection/NAME/UUID): a connection made again under the
    # same name is another connection.
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    description = models.CharField(max_length=512, blank=True)
    authorization_type = models.CharField(max_length=32, choices=AuthorizationType.choices)
    state = models.CharField(max_length=16, choices=ConnectionState.choices)
    state_reason = models.CharField(max_length=512, blank=True)
    # AuthParameters without any secret (what Describe shows) ...
    public_parameters = models.JSONField(default=dict, blank=True)
    # ... and the whole AuthParameters, secrets included, encrypted.
    parameters_encrypted = models.TextField(blank=True)
    # The OAuth access token last fetched (encrypted) and when it stops being valid.
    token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified_at = models.DateTimeField(auto_now=True)
    last_authorized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:connection/{self.name}/{self.uid}"


class HttpMethod(models.TextChoices):
    POST = "POST"
    GET = "GET"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class ApiDestinationState(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"


class ApiDestination(models.Model):
    name = models.CharField(max_length=64, unique=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    description = models.CharField(max_length=512, blank=True)
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT,
                                   related_name="api_destinations")
    # May hold `*` path wildcards, filled from a target's HttpParameters.PathParameterValues.
    invocation_endpoint = models.CharField(max_length=2048)
    http_method = models.CharField(max_length=8, choices=HttpMethod.choices)
    invocation_rate_limit_per_second = models.PositiveIntegerField(default=300)
    state = models.CharField(max_length=8, choices=ApiDestinationState.choices,
                             default=ApiDestinationState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API destination"

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:api-destination/{self.name}/{self.uid}"
