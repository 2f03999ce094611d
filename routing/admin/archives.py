"""Archives, what they hold, and replays."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from routing.admin.base import (
    ReadOnlyAdmin,
    ServiceAdmin,
    changelist_url,
    json_block,
    link,
    report_action,
)
from routing.errors import RoutingError
from routing.forms import ArchiveForm, ReplayForm
from routing.models import Archive, ArchivedEvent, Replay
from routing.services.archives import archive_create, archive_delete, archive_update
from routing.services.replays import replay_cancel, replay_start
from routing.services.rules import Actor


@admin.register(Archive)
class ArchiveAdmin(ServiceAdmin):
    form = ArchiveForm
    list_display = ["name", "bus", "state", "retention_days", "entry_count", "created_at"]
    list_filter = ["bus", "state"]
    list_select_related = ["bus"]
    search_fields = ["name", "description", "bus__name"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Archive]:
        return super().get_queryset(request).annotate(entries_count=Count("entries"))

    def get_fields(self, request: HttpRequest, obj: Archive | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "bus", "description", "event_pattern", "retention_days")
        return ("name", "bus", "arn", "state", "description", "event_pattern", "retention_days",
                "created_at", "entries_link", "replays_link")

    def get_readonly_fields(self, request: HttpRequest, obj: Archive | None = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "bus", "arn", "created_at", "entries_link", "replays_link"]

    @admin.display(description="entries", ordering="entries_count")
    def entry_count(self, archive: Archive) -> int:
        return int(getattr(archive, "entries_count", 0))

    @admin.display(description="entries")
    def entries_link(self, archive: Archive) -> SafeString:
        return format_html('<a href="{}">Events in {}</a>',
                           changelist_url(ArchivedEvent, archive__id__exact=archive.pk),
                           archive.name)

    @admin.display(description="replays")
    def replays_link(self, archive: Archive) -> SafeString:
        return format_html('<a href="{}">Replays of {}</a>',
                           changelist_url(Replay, archive__id__exact=archive.pk), archive.name)

    def save_model(self, request: HttpRequest, obj: Archive, form: Any, change: bool) -> None:
        data, actor = form.cleaned_data, Actor.for_user(request.user)
        if change:
            archive = archive_update(
                name=obj.name,
                event_pattern=data["event_pattern"],
                retention_days=data["retention_days"],
                description=data["description"],
                state=data["state"],
                actor=actor,
            )
        else:
            archive = archive_create(
                name=data["name"],
                bus_name=data["bus"].name,
                event_pattern=data["event_pattern"],
                retention_days=data["retention_days"],
                description=data["description"],
                actor=actor,
            )
        self.adopt(obj, archive)

    def service_delete(self, request: HttpRequest, obj: Archive) -> None:
        archive_delete(name=obj.name, actor=Actor.for_user(request.user))

    def deletion_summary(self, obj: Archive) -> list[Any]:
        return [link(obj), [
            "Its archive entries (the events themselves are kept until the retention purge)",
            "The records of its finished replays",
        ]]


@admin.register(ArchivedEvent)
class ArchivedEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "archive", "event_link", "event_time"]
    list_filter = ["archive"]
    list_select_related = ["archive", "event"]
    search_fields = ["event__source", "event__detail_type"]
    uuid_search_fields = ("event__id",)
    date_hierarchy = "event_time"
    show_full_result_count = False
    fields = ["archive", "event_link", "event_time", "envelope_json"]
    readonly_fields = ["event_link", "envelope_json"]

    @admin.display(description="event")
    def event_link(self, entry: ArchivedEvent) -> SafeString | str:
        return link(entry.event, f"{entry.event.source} / {entry.event.detail_type}")

    @admin.display(description="envelope")
    def envelope_json(self, entry: ArchivedEvent) -> SafeString:
        return json_block(entry.event.envelope())


@admin.register(Replay)
class ReplayAdmin(ServiceAdmin):
    form = ReplayForm
    list_display = ["name", "archive", "destination_bus", "state", "progress",
                    "event_start_time", "event_end_time", "created_at", "ended_at"]
    list_filter = ["state", "archive", "destination_bus"]
    list_select_related = ["archive", "destination_bus"]
    search_fields = ["name", "description", "archive__name"]
    date_hierarchy = "created_at"
    actions = ["cancel_replays"]

    def get_fields(self, request: HttpRequest, obj: Replay | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "description", "archive", "event_start_time", "event_end_time",
                    "destination_bus", "filter_rules")
        return ("name", "arn", "description", "archive", "destination_bus", "filter_rule_list",
                "event_start_time", "event_end_time", "state", "state_reason", "progress",
                "event_last_replayed_time", "created_at", "started_at", "ended_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Replay | None = None) -> list[str]:
        return [] if obj is None else ["arn", "filter_rule_list", "progress"]

    # A replay is started, then only watched or cancelled (there is no service to change one,
    # and its record goes with its archive).
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("routing.add_replay"))

    @admin.display(description="replayed")
    def progress(self, replay: Replay) -> str:
        return f"{replay.replayed_events} / {replay.total_events}"

    @admin.display(description="filter rules")
    def filter_rule_list(self, replay: Replay) -> str:
        names = [rule.name for rule in replay.filter_rules.all()]
        return ", ".join(names) or "every rule on the destination bus"

    def save_model(self, request: HttpRequest, obj: Replay, form: Any, change: bool) -> None:
        data = form.cleaned_data
        destination = data.get("destination_bus")
        replay = replay_start(
            name=data["name"],
            archive_name=data["archive"].name,
            event_start_time=data["event_start_time"],
            event_end_time=data["event_end_time"],
            destination_bus_name=destination.name if destination is not None else None,
            filter_rule_names=[rule.name for rule in data.get("filter_rules", ())],
            description=data["description"],
            actor=Actor.for_user(request.user),
        )
        self.adopt(obj, replay)

    @admin.action(permissions=["cancel"], description="Cancel replay")
    def cancel_replays(self, request: HttpRequest, queryset: QuerySet[Replay]) -> None:
        actor = Actor.for_user(request.user)
        done, failed = [], []
        for replay in queryset:
            try:
                cancelled = replay_cancel(name=replay.name, actor=actor)
            except RoutingError as error:
                failed.append(f"{replay.name}: {error.message}")
                continue
            self.log_change(request, cancelled, f"Cancelled ({cancelled.state}).")
            done.append(f"{cancelled.name} ({cancelled.get_state_display().lower()})")
        report_action(self, request, verb="Cancelled", done=done, failed=failed)

