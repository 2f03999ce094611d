"""Events, the outbox, deliveries and their attempts: records the bus keeps, shown read-only.
The one write is redriving dead letters."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from routing.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    changelist_url,
    json_block,
    link,
    report_action,
)
from routing.models import Delivery, DeliveryAttempt, Event, PendingRoute
from routing.services import deliveries_redrive


def _latency(attempt: DeliveryAttempt) -> str:
    return f"{attempt.latency_ms:.1f} ms"


def _rule_and_target(delivery: Delivery) -> SafeString | str:
    target = delivery.target
    return format_html("{} → {}", link(target.rule), link(target, target.target_id))


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    readonly_fields = ("status", "rule_target", "attempt_count", "next_attempt_at",
                       "last_error_code", "redrive_count", "created_at")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).select_related(
            "target", "target__rule", "target__rule__bus"
        )

    @admin.display(description="rule → target")
    def rule_target(self, delivery: Delivery) -> SafeString | str:
        return _rule_and_target(delivery)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "bus", "source", "detail_type", "time", "ingested_at", "published_by",
                    "replay_name"]
    list_filter = ["bus", "publisher_kind"]
    list_select_related = ["bus"]
    search_fields = ["source", "detail_type", "published_by", "=replay_name"]
    uuid_search_fields = ("id", "forwarded_from", "replay_of")
    date_hierarchy = "ingested_at"
    show_full_result_count = False
    fields = ["id", "bus", "source", "detail_type", "time", "ingested_at", "published_by",
              "publisher_kind", "publisher_ref", "replay_name", "replay_of", "forwarded_from",
              "envelope_json", "deliveries_link"]
    readonly_fields = ["envelope_json", "deliveries_link"]
    inlines = [DeliveryInline]

    @admin.display(description="envelope")
    def envelope_json(self, event: Event) -> SafeString:
        return json_block(event.envelope())

    @admin.display(description="deliveries")
    def deliveries_link(self, event: Event) -> SafeString:
        return format_html('<a href="{}">Deliveries of this event</a>',
                           changelist_url(Delivery, event__id__exact=event.pk))


@admin.register(PendingRoute)
class PendingRouteAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_link", "created_at", "enqueued_at", "enqueue_count"]
    list_select_related = ["event"]
    uuid_search_fields = ("event__id",)
    date_hierarchy = "created_at"
    fields = ["event_link", "created_at", "enqueued_at", "enqueue_count"]
    readonly_fields = ["event_link"]

    @admin.display(description="event")
    def event_link(self, route: PendingRoute) -> SafeString | str:
        return link(route.event)


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    readonly_fields = ("number", "outcome", "started_at", "finished_at", "latency",
                       "response_status", "error_code", "error", "worker")
    fields = readonly_fields

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, attempt: DeliveryAttempt) -> str:
        return _latency(attempt)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "event_link", "rule_target", "attempt_count",
                    "next_attempt_at", "last_error_code", "exhausted_condition", "redrive_count",
                    "created_at"]
    list_filter = [
        "status",
        ("target__kind", admin.ChoicesFieldListFilter),
        ("target__rule__bus", admin.RelatedFieldListFilter),
        "exhausted_condition",
    ]
    list_select_related = ["event", "target", "target__rule", "target__rule__bus"]
    search_fields = ["target__target_id", "target__rule__name", "event__source",
                     "event__detail_type", "last_error_code"]
    uuid_search_fields = ("id", "event__id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["redrive_dead_letters"]
    fields = ["id", "status", "event_link", "rule_target", "rule_revision_link",
              "attempt_count", "next_attempt_at", "expires_at", "claimed_at", "lease_expires_at",
              "enqueued_at", "created_at", "finished_at", "last_error_code", "last_error",
              "exhausted_condition", "redrive_count", "attempts_before_redrive"]
    readonly_fields = ["event_link", "rule_target", "rule_revision_link"]
    inlines = [DeliveryAttemptInline]

    @admin.display(description="event", ordering="event__ingested_at")
    def event_link(self, delivery: Delivery) -> SafeString | str:
        event = delivery.event
        return link(event, f"{event.source} / {event.detail_type}")

    @admin.display(description="rule → target")
    def rule_target(self, delivery: Delivery) -> SafeString | str:
        return _rule_and_target(delivery)

    @admin.display(description="rule revision")
    def rule_revision_link(self, delivery: Delivery) -> SafeString | str:
        return link(delivery.rule_revision)

    def has_redrive_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("routing.change_delivery"))

    @admin.action(permissions=["redrive"], description="Redrive selected dead letters")
    def redrive_dead_letters(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        selected = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        redriven = set(deliveries_redrive(delivery_ids=selected))
        report_action(
            self, request, verb="Redrove", failed=[],
            done=[pk for pk in selected if pk in redriven],
            skipped=[pk for pk in selected if pk not in redriven],
            skipped_reason="that were not dead or dropped",
        )


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "delivery_link", "number", "outcome", "error_code",
                    "response_status", "latency", "worker", "finished_at"]
    list_filter = ["outcome"]
    list_select_related = ["delivery"]
    search_fields = ["error_code", "error", "worker"]
    uuid_search_fields = ("delivery__id", "delivery__event__id")
    date_hierarchy = "finished_at"
    show_full_result_count = False
    fields = ["delivery_link", "number", "outcome", "started_at", "finished_at", "latency",
              "response_status", "error_code", "error", "worker"]
    readonly_fields = ["delivery_link", "latency"]

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, attempt: DeliveryAttempt) -> str:
        return _latency(attempt)

    @admin.display(description="delivery")
    def delivery_link(self, attempt: DeliveryAttempt) -> SafeString | str:
        return link(attempt.delivery)
