"""EventBridge Scheduler's schedules and groups, read-only: they are written through the
Scheduler API (routing/aws/scheduler/), which keeps their carrier rules in step."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from routing.admin.base import ReadOnlyAdmin, ReadOnlyInline, json_block, link
from routing.schedules.models import Schedule, ScheduleFiring, ScheduleGroup


class ScheduleFiringInline(ReadOnlyInline):
    model = ScheduleFiring
    fields = ["tick_at", "due_at", "missed_before", "event_id", "fired_at"]
    readonly_fields = ["tick_at", "due_at", "missed_before", "event_id", "fired_at"]
    ordering = ["-tick_at"]
    max_num = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScheduleFiring]:
        return super().get_queryset(request).order_by("-tick_at")


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ["name", "group", "expression", "timezone", "state", "next_due_at",
                    "target_kind", "target_address", "deleted_at"]
    list_filter = ["state", "target_kind", "group"]
    list_select_related = ["group"]
    search_fields = ["name", "expression", "target_address"]
    fields = ["name", "group", "description", "expression", "timezone", "start_date",
              "end_date", "state", "flexible_mode", "flexible_window_minutes",
              "action_after_completion", "target_json", "carrier_rule_link", "next_due_at",
              "started_at", "created_by", "created_at", "updated_at", "deleted_at"]
    readonly_fields = ["target_json", "carrier_rule_link"]
    inlines = [ScheduleFiringInline]

    @admin.display(description="target")
    def target_json(self, schedule: Schedule) -> SafeString:
        return json_block(schedule.target)

    @admin.display(description="carrier rule")
    def carrier_rule_link(self, schedule: Schedule) -> SafeString | str:
        return link(schedule.carrier_rule)


@admin.register(ScheduleGroup)
class ScheduleGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "created_at", "updated_at", "deleted_at"]
    search_fields = ["name"]
    fields = ["name", "created_at", "updated_at", "deleted_at"]
