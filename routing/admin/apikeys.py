"""API keys: created through the service, the key shown once; revoked, never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from routing.admin.base import ServiceAdmin, report_action
from routing.aws.credentials import awscredential_revoke
from routing.errors import RoutingError
from routing.forms import ApiKeyForm
from routing.models import ApiKey, AwsCredential
from routing.services.apikeys import apikey_create, apikey_revoke


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "No (active)"), ("yes", "Yes")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "bus_names", "active", "created_at", "last_used_at",
                    "revoked_at"]
    list_filter = [RevokedFilter, "buses"]
    search_fields = ["name", "=prefix"]
    date_hierarchy = "created_at"
    actions = ["revoke_keys"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).prefetch_related("buses")

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "buses")
        return ("name", "prefix", "bus_names", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else ["bus_names"]

    # A key is created, then only revoked: there is no service to change one, and a revoked
    # key stays so that what it published can still be traced to it.
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("routing.change_apikey"))

    @admin.display(description="buses")
    def bus_names(self, key: ApiKey) -> str:
        return ", ".join(bus.name for bus in key.buses.all()) or "every bus"

    @admin.display(description="active", boolean=True, ordering="revoked_at")
    def active(self, key: ApiKey) -> bool:
        return key.revoked_at is None

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        data = form.cleaned_data
        key, raw_key = apikey_create(name=data["name"],
                                     bus_names=[bus.name for bus in data["buses"]])
        self.adopt(obj, key)
        self.message_user(
            request,
            f"The key of API key {key.name} is {raw_key} — copy it now: it is not stored and "
            "cannot be shown again.",
            messages.WARNING,
        )

    @admin.action(permissions=["revoke"], description="Revoke selected API keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        done, skipped, failed = [], [], []
        for key in queryset:
            if key.revoked_at is not None:
                skipped.append(key.name)
                continue
            try:
                revoked = apikey_revoke(name=key.name)
            except RoutingError as error:
                failed.append(f"{key.name}: {error.message}")
                continue
            self.log_change(request, revoked, "Revoked.")
            done.append(key.name)
        report_action(self, request, verb="Revoked", done=done, failed=failed, skipped=skipped,
                      skipped_reason="already revoked")


@admin.register(AwsCredential)
class AwsCredentialAdmin(ServiceAdmin):
    """Seen and revoked here; created with `manage.py awscredential create NAME`, which shows
    the secret once (it is stored encrypted and never displayed again)."""

    list_display = ["name", "access_key_id", "bus_names", "active", "created_at",
                    "last_used_at", "revoked_at"]
    list_filter = [RevokedFilter, "buses"]
    search_fields = ["name", "=access_key_id"]
    fields = ("name", "access_key_id", "bus_names", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_credentials"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AwsCredential]:
        return super().get_queryset(request).prefetch_related("buses")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("routing.change_awscredential"))

    @admin.display(description="buses")
    def bus_names(self, credential: AwsCredential) -> str:
        return ", ".join(bus.name for bus in credential.buses.all()) or "every bus"

    @admin.display(description="active", boolean=True, ordering="revoked_at")
    def active(self, credential: AwsCredential) -> bool:
        return credential.revoked_at is None

    @admin.action(permissions=["revoke"], description="Revoke selected AWS credentials")
    def revoke_credentials(self, request: HttpRequest, queryset: QuerySet[AwsCredential]) -> None:
        done, skipped = [], []
        for credential in queryset:
            if credential.revoked_at is not None:
                skipped.append(credential.name)
                continue
            revoked = awscredential_revoke(name=credential.name)
            self.log_change(request, revoked, "Revoked.")
            done.append(credential.name)
        report_action(self, request, verb="Revoked", done=done, failed=[], skipped=skipped,
                      skipped_reason="already revoked")
