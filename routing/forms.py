"""Admin forms for the bus. They validate with the services' own checks and messages (the
pattern engine's, the target checks), so an invalid value is a form error on its field and
nothing is saved; the admin then writes through the services."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.forms.fields import InvalidJSONInput
from django.forms.models import BaseInlineFormSet

from routing.errors import ApplicationError, InvalidEventPattern, RoutingError
from routing.handlers import registered_handler_names
from routing.models import ApiKey, Archive, EventBus, Replay, Rule, Target
from routing.services.rules import TargetSpec, parse_event_pattern
from routing.services.rules import target_validate as validate_target_spec
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import TargetInput

# The monospace font comes from static/css/admin.css: the CSP allows no style attributes.
JSON_TEXTAREA_ATTRS = {"rows": 12, "cols": 80, "class": "vLargeTextField json-input",
                       "spellcheck": "false"}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class PrettyJSONField(forms.JSONField):
    """A JSON field edited as indented text; empty means None (JSON null is not offered)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs=JSON_TEXTAREA_ATTRS))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        if value is None:
            return ""
        return pretty_json(value)


class EventPatternField(forms.CharField):
    """An event pattern as JSON text, checked by the pattern engine. The raw text goes to the
    engine, so even a JSON syntax error gets EventBridge's message. Cleans to a dict, or to
    None when the field is optional and left empty."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs=JSON_TEXTAREA_ATTRS))
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return pretty_json(value)
        return value

    def clean(self, value: Any) -> dict[str, Any] | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_event_pattern(text)
        except InvalidEventPattern as error:
            raise forms.ValidationError(pattern_error_messages(error), code="invalid") from None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            submitted = json.loads(data) if data else None
        except (TypeError, ValueError):
            return True
        if isinstance(initial, str):
            try:
                initial = json.loads(initial) if initial else None
            except ValueError:
                return True
        return bool(submitted != initial)


def pattern_error_messages(error: InvalidEventPattern) -> list[str]:
    """The engine's exact message, then where in the pattern it is when the engine knows."""
    messages = [error.message]
    if error.field:
        messages.append(f"Offending field: {error.field}")
    return messages


class ServiceErrorFormMixin(forms.BaseForm):
    """Shows an error a service raised while saving (after the form was valid, for a check only
    the service can make) on the field it names, else on the form. The admin (ServiceAdmin,
    routing/admin/base.py, for both apps) sets `service_error` and renders the form again; the
    failed save was rolled back."""

    service_error: ClassVar[ApplicationError | None] = None
    # The service's field name (EventBridge spelling) → this form's field.
    service_error_fields: ClassVar[dict[str, str]] = {}

    def full_clean(self) -> None:
        super().full_clean()
        error = self.service_error
        if error is None or not self.is_bound:
            return
        field = self.field_for_service_error(error)
        if isinstance(error, InvalidEventPattern):
            self.add_error(field, pattern_error_messages(error))
        else:
            self.add_error(field, error.message)

    def field_for_service_error(self, error: ApplicationError) -> str | None:
        # The shop's services name their fields as the models do; the bus's, as EventBridge.
        field = self.service_error_fields.get(error.field or "", error.field)
        return field if field in self.fields else None


# Buses ---------------------------------------------------------------------------------------

class EventBusForm(ServiceErrorFormMixin, forms.ModelForm):
    service_error_fields = {"Name": "name", "Description": "description"}

    class Meta:
        model = EventBus
        fields = ["name", "description"]


# Rules and targets ---------------------------------------------------------------------------

class RuleForm(ServiceErrorFormMixin, forms.ModelForm):
    service_error_fields = {"Name": "name", "EventBusName": "bus", "State": "state",
                            "Description": "description"}

    event_pattern = EventPatternField(
        help_text="EventBridge's pattern language, as JSON. Checked by the pattern engine on save."
    )

    class Meta:
        model = Rule
        fields = ["bus", "name", "description", "state", "event_pattern"]

    def field_for_service_error(self, error: ApplicationError) -> str | None:
        if isinstance(error, InvalidEventPattern):
            return "event_pattern"
        return super().field_for_service_error(error)

    def _get_validation_exclusions(self) -> set[str]:
        # The (bus, name) constraint is checked in clean() with a message naming the field;
        # the model's own check would add a second, generic "Constraint ... is violated".
        return {*super()._get_validation_exclusions(), "bus"}  # type: ignore[misc]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        bus, name = cleaned.get("bus"), cleaned.get("name")
        # rule_put creates or replaces; adding a rule in the admin must never replace one.
        if (
            self.instance.pk is None and bus is not None and name
            and Rule.objects.filter(bus=bus, name=name, deleted_at__isnull=True).exists()
        ):
            self.add_error("name", f"Rule {name} already exists on event bus {bus.name}.")
        return cleaned


# The service's field names (EventBridge's spelling) → the target form's fields.
TARGET_ERROR_FIELDS = {
    "Id": "target_id",
    "Kind": "kind",
    "Address": "address",
    "Timeout": "webhook_timeout_seconds",
    "RetryPolicy.MaximumRetryAttempts": "max_retry_attempts",
    "RetryPolicy.MaximumEventAgeInSeconds": "max_event_age_seconds",
    "Input": "input",
    "InputPath": "input_path",
    "InputTransformer": "input_transformer",
}


def target_error_field(service_field: str | None) -> str | None:
    if not service_field:
        return None
    if service_field.startswith("InputTransformer"):
        return "input_transformer"
    return TARGET_ERROR_FIELDS.get(service_field)


def address_help_text() -> str:
    handlers = ", ".join(registered_handler_names()) or "none registered"
    return (
        f"Handler: a registered handler's name ({handlers}). "
        "Webhook: an http:// or https:// URL (public hosts only, unless the deployment allows "
        "private ones). Channels: a group-name template such as customer.{detail.userId}. "
        "Bus: the name of another event bus."
    )


class TargetForm(forms.ModelForm):
    input_transformer = PrettyJSONField(
        required=False,
        label="Input transformer",
        help_text='EventBridge\'s InputTransformer: {"InputPathsMap": {"id": "$.detail.id"}, '
                  '"InputTemplate": "..."}. At most one of input, input path and input '
                  "transformer.",
    )

    class Meta:
        model = Target
        fields = [
            "target_id", "kind", "address", "input", "input_path", "input_transformer",
            "max_retry_attempts", "max_event_age_seconds", "dead_letter_enabled",
            "webhook_timeout_seconds",
        ]
        widgets = {
            "input": forms.Textarea(attrs={**JSON_TEXTAREA_ATTRS, "rows": 3}),
            "address": forms.TextInput(attrs={"size": 60}),
        }
        help_texts = {
            "input": "EventBridge's Input: constant JSON text sent instead of the event.",
            "input_path": "EventBridge's InputPath: a JSON path such as $.detail.",
        }

    def __init__(self, *args: Any, rule: Rule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        if "address" in self.fields:
            self.fields["address"].help_text = address_help_text()

    def target_input(self) -> TargetInput:
        data = self.cleaned_data
        return TargetInput.from_aws({
            key: value for key, value in (
                ("Input", data.get("input") or None),
                ("InputPath", data.get("input_path") or None),
                ("InputTransformer", data.get("input_transformer")),
            ) if value is not None
        })

    def target_spec(self) -> TargetSpec:
        data = self.cleaned_data
        return TargetSpec(
            target_id=data["target_id"],
            kind=data["kind"],
            address=data["address"],
            target_input=self.target_input(),
            max_retry_attempts=data["max_retry_attempts"],
            max_event_age_seconds=data["max_event_age_seconds"],
            dead_letter_enabled=data["dead_letter_enabled"],
            webhook_timeout_seconds=data["webhook_timeout_seconds"],
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors or not self.has_changed():
            # Field errors first; an untouched target is not put again, so not re-checked.
            return cleaned
        try:
            spec = self.target_spec()
        except InvalidTargetInputError as error:
            self.add_error(target_error_field(error.field), str(error))
            return cleaned
        bus = self.rule.bus if self.rule is not None and self.rule.bus_id else None
        if bus is None:
            return cleaned  # the rule's own form reports the missing bus; nothing is saved
        try:
            validate_target_spec(spec, bus)
        except RoutingError as error:
            field = target_error_field(error.field)
            self.add_error(field if field in self.fields else None, error.message)
        return cleaned


def is_marked_for_deletion(formset: BaseInlineFormSet, form: forms.BaseForm) -> bool:
    return bool(formset.can_delete and form.cleaned_data.get("DELETE"))


class TargetFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs(index)
        kwargs["rule"] = self.instance
        return kwargs

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or is_marked_for_deletion(self, form):
                continue
            target_id = form.cleaned_data.get("target_id")
            if not target_id:
                continue
            if target_id in seen:
                raise forms.ValidationError(
                    f"Target ids are unique within a rule: {target_id} is used twice."
                )
            seen.add(target_id)


# Archives and replays ------------------------------------------------------------------------

class ArchiveForm(ServiceErrorFormMixin, forms.ModelForm):
    service_error_fields = {"ArchiveName": "name", "Name": "name", "EventSourceArn": "bus",
                            "EventBusName": "bus", "RetentionDays": "retention_days",
                            "Description": "description", "State": "state"}

    event_pattern = EventPatternField(
        required=False,
        help_text="Only events matching this pattern are archived; empty archives every event "
                  "on the bus.",
    )

    class Meta:
        model = Archive
        fields = ["name", "bus", "state", "description", "event_pattern", "retention_days"]
        help_texts = {"state": "A disabled archive stops archiving and keeps what it holds."}

    def field_for_service_error(self, error: ApplicationError) -> str | None:
        if isinstance(error, InvalidEventPattern):
            return "event_pattern"
        return super().field_for_service_error(error)


class ReplayForm(ServiceErrorFormMixin, forms.ModelForm):
    service_error_fields = {
        "ReplayName": "name", "Name": "name", "Description": "description",
        "EventSourceArn": "archive", "ArchiveName": "archive", "Archive": "archive",
        "EventStartTime": "event_start_time", "EventEndTime": "event_end_time",
        "Destination": "destination_bus", "Destination.Arn": "destination_bus",
        "DestinationBusName": "destination_bus", "EventBusName": "destination_bus",
        "Destination.FilterArns": "filter_rules", "FilterArns": "filter_rules",
        "FilterRuleNames": "filter_rules",
    }

    class Meta:
        model = Replay
        fields = ["name", "description", "archive", "event_start_time", "event_end_time",
                  "destination_bus", "filter_rules"]
        help_texts = {
            "destination_bus": "Empty replays onto the archive's own bus.",
            "filter_rules": "Only these rules of the destination bus see the replayed events; "
                            "none selected means every rule.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "destination_bus" in self.fields:
            self.fields["destination_bus"].required = False
        if "filter_rules" in self.fields:
            field = self.fields["filter_rules"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = Rule.objects.filter(deleted_at__isnull=True).select_related("bus")


# API keys ------------------------------------------------------------------------------------

class ApiKeyForm(ServiceErrorFormMixin, forms.ModelForm):
    service_error_fields = {"Name": "name", "Bus": "buses"}

    class Meta:
        model = ApiKey
        fields = ["name", "buses"]
        help_texts = {
            "name": "Letters, digits, '.', '-' and '_', starting with a letter or digit.",
            "buses": "The buses this key may publish to; none selected means every bus.",
        }


__all__ = [
    "ApiKeyForm",
    "ArchiveForm",
    "EventBusForm",
    "EventPatternField",
    "PrettyJSONField",
    "ReplayForm",
    "RuleForm",
    "ServiceErrorFormMixin",
    "TargetForm",
    "TargetFormSet",
]
