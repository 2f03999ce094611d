"""Buses, rules with their targets, and rule revisions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
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
from routing.errors import RoutingError, ValidationError
from routing.forms import (
    EventBusForm,
    RuleForm,
    TargetForm,
    TargetFormSet,
    is_marked_for_deletion,
)
from routing.models import (
    MAX_TARGETS_PER_RULE,
    Event,
    EventBus,
    Rule,
    RuleRevision,
    RuleState,
    Target,
)
from routing.services import (
    Actor,
    bus_create,
    bus_delete,
    rule_delete,
    rule_put,
    rule_restore_revision,
    rule_set_state,
    targets_put,
    targets_remove,
)


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted rows are hidden unless asked for."""

    title = "deleted"
    parameter_name = "deleted"
    default = "no"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "No (live)"), ("yes", "Yes (soft-deleted)"), ("all", "All")]

    def selected(self) -> str:
        value = self.value()
        return value if value in {"no", "yes", "all"} else self.default

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        selected = self.selected()
        if selected == "no":
            return queryset.filter(deleted_at__isnull=True)
        if selected == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.selected() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


# Buses ---------------------------------------------------------------------------------------

@admin.register(EventBus)
class EventBusAdmin(ServiceAdmin):
    form = EventBusForm
    list_display = ["name", "description", "live_rules", "rules_version", "created_at"]
    search_fields = ["name", "description"]
    readonly_fields = ["arn", "rules_version", "created_at", "rules_link", "events_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventBus]:
        return super().get_queryset(request).annotate(
            live_rule_count=Count("rules", filter=Q(rules__deleted_at__isnull=True))
        )

    def get_fields(self, request: HttpRequest, obj: EventBus | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "description")
        return ("name", "arn", "description", "rules_version", "created_at", "rules_link",
                "events_link")

    # There is no service to change a bus: once created it is only viewed or deleted.
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description="live rules", ordering="live_rule_count")
    def live_rules(self, bus: EventBus) -> int:
        return int(getattr(bus, "live_rule_count", 0))

    @admin.display(description="rules")
    def rules_link(self, bus: EventBus) -> SafeString:
        return format_html('<a href="{}">Rules on {}</a>',
                           changelist_url(Rule, bus__id__exact=bus.pk), bus.name)

    @admin.display(description="events")
    def events_link(self, bus: EventBus) -> SafeString:
        return format_html('<a href="{}">Events on {}</a>',
                           changelist_url(Event, bus__id__exact=bus.pk), bus.name)

    def save_model(self, request: HttpRequest, obj: EventBus, form: Any, change: bool) -> None:
        data = form.cleaned_data
        bus = bus_create(name=data["name"], description=data["description"],
                         actor=Actor.for_user(request.user))
        self.adopt(obj, bus)

    def service_delete(self, request: HttpRequest, obj: EventBus) -> None:
        bus_delete(name=obj.name, actor=Actor.for_user(request.user))


# Rules and targets ---------------------------------------------------------------------------

def _editable(rule: Rule | None) -> bool:
    # A deleted rule is history; a managed one (an archive's) belongs to its owner's service.
    return rule is None or (rule.deleted_at is None and not rule.managed_by)


class TargetInline(admin.StackedInline):
    model = Target
    form = TargetForm
    formset = TargetFormSet
    fk_name = "rule"
    max_num = MAX_TARGETS_PER_RULE
    validate_max = True
    fieldsets = [
        (None, {"fields": ["target_id", "kind", "address"]}),
        ("Input", {"fields": ["input", "input_path", "input_transformer"]}),
        ("Retries and dead letters", {"fields": [
            "max_retry_attempts", "max_event_age_seconds", "dead_letter_enabled",
            "webhook_timeout_seconds",
        ]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Target]:
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def get_extra(self, request: HttpRequest, obj: Rule | None = None, **kwargs: Any) -> int:
        return 1 if obj is None else 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Rule)
class RuleAdmin(ServiceAdmin):
    form = RuleForm
    inlines = [TargetInline]
    list_display = ["name", "bus", "state", "live_targets", "revision", "managed_by",
                    "updated_at", "is_deleted"]
    list_filter = [DeletedFilter, "bus", "state"]
    list_select_related = ["bus"]
    search_fields = ["name", "description", "bus__name"]
    date_hierarchy = "updated_at"
    actions = ["enable_rules", "disable_rules", "delete_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return super().get_queryset(request).annotate(
            live_target_count=Count("targets", filter=Q(targets__deleted_at__isnull=True))
        )

    def get_fields(self, request: HttpRequest, obj: Rule | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("bus", "name", "description", "state", "event_pattern")
        return ("bus", "name", "arn", "description", "state", "event_pattern", "revision",
                "revisions_link", "removed_targets_link", "managed_by", "created_at",
                "updated_at", "deleted_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Rule | None = None) -> list[str]:
        if obj is None:
            return []
        readonly = ["bus", "name", "arn", "revision", "revisions_link", "removed_targets_link",
                    "managed_by", "created_at", "updated_at", "deleted_at"]
        if not _editable(obj):
            readonly.append("pattern_json")  # shown instead of the raw field (view only)
        return readonly

    def get_fieldsets(self, request: HttpRequest, obj: Rule | None = None) -> Any:
        fields = self.get_fields(request, obj)
        # View only: the pattern indented, rather than the raw field's one line of JSON.
        if obj is not None and not _editable(obj):
            fields = tuple("pattern_json" if name == "event_pattern" else name for name in fields)
        return [(None, {"fields": fields})]

    def has_change_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)

    @admin.display(description="targets", ordering="live_target_count")
    def live_targets(self, rule: Rule) -> int:
        return int(getattr(rule, "live_target_count", 0))

    @admin.display(description="deleted", boolean=True, ordering="deleted_at")
    def is_deleted(self, rule: Rule) -> bool:
        return rule.deleted_at is not None

    @admin.display(description="event pattern")
    def pattern_json(self, rule: Rule) -> SafeString:
        return json_block(rule.event_pattern)

    @admin.display(description="revisions")
    def revisions_link(self, rule: Rule) -> SafeString:
        return format_html('<a href="{}">All {} revisions</a>',
                           changelist_url(RuleRevision, rule__id__exact=rule.pk), rule.revision)

    @admin.display(description="removed targets")
    def removed_targets_link(self, rule: Rule) -> SafeString:
        return format_html('<a href="{}">Targets removed from this rule</a>',
                           changelist_url(Target, rule__id__exact=rule.pk, deleted="yes"))

    # Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Rule, form: Any, change: bool) -> None:
        data = form.cleaned_data
        rule = rule_put(
            bus_name=obj.bus.name,
            name=obj.name,
            event_pattern=data["event_pattern"],
            state=data["state"],
            description=data["description"],
            actor=Actor.for_user(request.user),
        )
        self.adopt(obj, rule)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        rule: Rule = formset.instance
        actor = Actor.for_user(request.user)
        specs, removed = [], []
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for target_form in formset.forms:
            target: Target = target_form.instance
            existing = target.pk is not None
            if is_marked_for_deletion(formset, target_form):
                if existing:
                    removed.append(target_form.initial["target_id"])
                    formset.deleted_objects.append(target)
                continue
            if not target_form.has_changed():
                continue
            spec = target_form.target_spec()
            if existing:
                old_id = target_form.initial["target_id"]
                if old_id != spec.target_id:
                    removed.append(old_id)  # renamed: the old id goes, the new one is put
                formset.changed_objects.append((target, target_form.changed_data))
            else:
                formset.new_objects.append(target)
            specs.append(spec)
        if removed:
            self._raise_failures(targets_remove(rule=rule, target_ids=removed, actor=actor))
        if specs:
            self._raise_failures(targets_put(rule=rule, targets=specs, actor=actor))

    @staticmethod
    def _raise_failures(failures: list[Any]) -> None:
        if failures:
            # Rolls back the whole save: the rule's change and every target with it.
            raise ValidationError("; ".join(f"Target {failure.target_id}: {failure.message}"
                                            for failure in failures))

    def service_delete(self, request: HttpRequest, obj: Rule) -> None:
        if not _editable(obj):
            raise ValidationError(f"Rule {obj} is deleted or managed by {obj.managed_by}.",
                                  field="Name")
        rule_delete(rule=obj, actor=Actor.for_user(request.user),
                    force=request.POST.get("force") == "on")

    def deletion_summary(self, obj: Rule) -> list[Any]:
        targets = [f"Target: {target.target_id} ({target.kind} {target.address})"
                   for target in obj.targets.filter(deleted_at__isnull=True)]
        return [link(obj), targets] if targets else [link(obj)]

    def render_delete_form(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        context["live_targets"] = context["object"].targets.filter(deleted_at__isnull=True)
        return super().render_delete_form(request, context)

    # Actions -----------------------------------------------------------------------------------

    def _set_state(self, request: HttpRequest, queryset: QuerySet[Rule], state: str) -> None:
        actor = Actor.for_user(request.user)
        done, skipped, failed = [], [], []
        for rule in queryset.select_related("bus"):
            if not _editable(rule):
                skipped.append(str(rule))
                continue
            try:
                rule_set_state(rule=rule, state=state, actor=actor)
            except RoutingError as error:
                failed.append(f"{rule}: {error.message}")
                continue
            self.log_change(request, rule, f"Set state {state}.")
            done.append(str(rule))
        report_action(self, request, verb="Enabled" if state == RuleState.ENABLED else "Disabled",
                      done=done, failed=failed, skipped=skipped,
                      skipped_reason="that are deleted or managed by another service")

    @admin.action(permissions=["change"], description="Enable selected rules")
    def enable_rules(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        self._set_state(request, queryset, RuleState.ENABLED)

    @admin.action(permissions=["change"], description="Disable selected rules")
    def disable_rules(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        self._set_state(request, queryset, RuleState.DISABLED)


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    """Targets are edited on their rule's page; this lists them, removed ones too."""

    list_display = ["target_id", "rule_link", "kind", "address", "max_retry_attempts",
                    "max_event_age_seconds", "dead_letter_enabled", "created_at", "deleted_at"]
    list_filter = [DeletedFilter, "kind", ("rule__bus", admin.RelatedFieldListFilter)]
    list_select_related = ["rule", "rule__bus"]
    search_fields = ["target_id", "address", "rule__name"]
    uuid_search_fields = ()
    fields = ["target_id", "rule_link", "kind", "address", "input", "input_path",
              "transformer_json", "max_retry_attempts", "max_event_age_seconds",
              "dead_letter_enabled", "webhook_timeout_seconds", "created_at", "deleted_at"]
    readonly_fields = ["rule_link", "transformer_json"]

    @admin.display(description="rule", ordering="rule__name")
    def rule_link(self, target: Target) -> SafeString | str:
        return link(target.rule)

    @admin.display(description="input transformer")
    def transformer_json(self, target: Target) -> SafeString | str:
        return "-" if target.input_transformer is None else json_block(target.input_transformer)


# Revisions -----------------------------------------------------------------------------------

@admin.register(RuleRevision)
class RuleRevisionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "rule_link", "number", "change", "state", "deleted",
                    "changed_by_label", "created_at"]
    list_filter = ["bus", "state", "deleted"]
    list_select_related = ["rule", "rule__bus"]
    search_fields = ["rule__name", "change", "changed_by_label"]
    uuid_search_fields = ()
    date_hierarchy = "created_at"
    actions = ["restore_revision"]
    fields = ["rule_link", "number", "change", "state", "description", "pattern_json",
              "targets_json", "deleted", "changed_by", "changed_by_label", "created_at"]
    readonly_fields = ["rule_link", "pattern_json", "targets_json"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleRevision]:
        return super().get_queryset(request).select_related("rule__bus", "changed_by")

    @admin.display(description="rule", ordering="rule__name")
    def rule_link(self, revision: RuleRevision) -> SafeString | str:
        return link(revision.rule)

    @admin.display(description="event pattern")
    def pattern_json(self, revision: RuleRevision) -> SafeString:
        return json_block(revision.event_pattern)

    @admin.display(description="targets")
    def targets_json(self, revision: RuleRevision) -> SafeString:
        return json_block(revision.targets)

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("routing.change_rule"))

    @admin.action(permissions=["restore"], description="Restore this revision")
    def restore_revision(self, request: HttpRequest, queryset: QuerySet[RuleRevision]) -> None:
        """Makes each selected revision's rule what it was then (one revision per rule)."""
        revisions = list(queryset.select_related("rule", "rule__bus"))
        by_rule: dict[int, list[RuleRevision]] = {}
        for revision in revisions:
            by_rule.setdefault(revision.rule_id, []).append(revision)
        actor = Actor.for_user(request.user)
        done, failed = [], []
        for chosen in by_rule.values():
            revision = chosen[0]
            rule = revision.rule
            if len(chosen) > 1:
                numbers = ", ".join(str(r.number) for r in chosen)
                failed.append(f"{rule}: choose one revision to restore, not {numbers}")
            elif rule.deleted_at is not None:
                failed.append(f"{rule}: the rule is deleted")
            elif rule.managed_by:
                failed.append(f"{rule}: the rule is managed by {rule.managed_by}")
            else:
                try:
                    restored = rule_restore_revision(rule=rule, number=revision.number,
                                                     actor=actor)
                except RoutingError as error:
                    failed.append(f"{rule}: {error.message}")
                    continue
                self.log_change(request, restored, f"Restored revision {revision.number}.")
                done.append(f"{rule} to revision {revision.number} "
                            f"(now revision {restored.revision})")
        if done:
            self.message_user(request, f"Restored {'; '.join(done)}.", messages.SUCCESS)
        if failed:
            self.message_user(request, f"Not restored: {'; '.join(failed)}.", messages.ERROR)
