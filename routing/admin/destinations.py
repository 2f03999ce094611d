"""Connections and API destinations in the admin: read-only (they are made with the AWS
protocol's actions), with no secret shown, and a Deauthorize action that goes through the
service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from routing.admin.base import ReadOnlyAdmin, json_block, link
from routing.models import ApiDestination, Connection
from routing.services.connections import connection_deauthorize
from routing.services.rules import Actor


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "authorization_type", "state", "last_authorized_at", "created_at")
    list_filter = ("authorization_type", "state")
    search_fields = ("name", "description")
    fields = ("name", "arn", "description", "authorization_type", "state", "state_reason",
              "shown_parameters", "created_at", "last_modified_at", "last_authorized_at")
    readonly_fields = fields
    actions = ("deauthorize",)

    @admin.display(description="ARN")
    def arn(self, obj: Connection) -> str:
        return obj.arn

    @admin.display(description="Authorization parameters (secrets left out)")
    def shown_parameters(self, obj: Connection) -> SafeString:
        return json_block(obj.public_parameters)

    @admin.action(description="Deauthorize (remove every secret)")
    def deauthorize(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        actor = Actor.for_user(request.user)
        names = [connection_deauthorize(name=connection.name, actor=actor).name
                 for connection in queryset]
        messages.success(request, f"Deauthorized: {', '.join(names)}.")


@admin.register(ApiDestination)
class ApiDestinationAdmin(ReadOnlyAdmin):
    list_display = ("name", "http_method", "invocation_endpoint",
                    "invocation_rate_limit_per_second", "connection_link", "state")
    search_fields = ("name", "invocation_endpoint")
    fields = ("name", "arn", "description", "connection_link", "invocation_endpoint",
              "http_method", "invocation_rate_limit_per_second", "state", "created_at",
              "last_modified_at")
    readonly_fields = fields
    list_select_related = ("connection",)

    @admin.display(description="ARN")
    def arn(self, obj: ApiDestination) -> str:
        return obj.arn

    @admin.display(description="connection")
    def connection_link(self, obj: ApiDestination) -> SafeString | str:
        return link(obj.connection)
