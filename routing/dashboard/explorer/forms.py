"""The explorer's forms: they read and check what a page sends, and turn it into the selectors'
filters or the services' arguments. A RoutingError a service raises lands on the form field it
names, so the person sees the message next to what they typed."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as FormValidationError

from routing.errors import InvalidEventPattern, RoutingError
from routing.models import DeliveryStatus, EventBus
from routing.selectors.deliveries import REDRIVABLE, DeliveryFilters, target_choices
from routing.selectors.events import EventFilters, parse_field_condition

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                          "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def datetime_field(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, input_formats=DATETIME_INPUT_FORMATS,
                               widget=DateTimeLocalInput(), help_text=help_text)


def bus_choices(blank: str | None = "All buses") -> list[tuple[str, str]]:
    names = list(EventBus.objects.order_by("name").values_list("name", flat=True))
    return ([("", blank)] if blank is not None else []) + [(name, name) for name in names]


def set_choices(form: forms.Form, name: str, choices: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def apply_routing_error(form: forms.Form, error: RoutingError, fields: dict[str, str]) -> None:
    """Shows a service's refusal on the field it names (or on the form as a whole)."""
    name = fields.get(error.field or "")
    if name is None and isinstance(error, InvalidEventPattern):
        name = fields.get("EventPattern")
    form.add_error(name if name in form.fields else None, error.message)


class TimeRangeMixin(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", "The end of the time range must come after its start.")
        return cleaned


class EventSearchForm(TimeRangeMixin):
    bus = forms.ChoiceField(label="Bus", required=False)
    source = forms.CharField(label="Source", required=False, max_length=256)
    type = forms.CharField(label="Detail-type", required=False, max_length=128)
    since = datetime_field("Ingested from (UTC)")
    until = datetime_field("Ingested before (UTC)")
    field = forms.CharField(
        label="Field = value", required=False, max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "detail.orderId = abc",
                                      "spellcheck": "false", "class": "mono"}),
        help_text='A path into the event, then = and a value: detail.drinkOrder.drink = Latte, '
                  'detail.total = 4.5, resources[0] = arn:…; quote a value ("42") to match '
                  "only that text.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "bus", bus_choices())

    def clean_field(self) -> str:
        text: str = self.cleaned_data.get("field", "").strip()
        if text:
            try:
                parse_field_condition(text)
            except RoutingError as error:
                raise FormValidationError(error.message) from None
        return text

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        text = data.get("field") or ""
        return EventFilters(
            bus=data.get("bus") or "",
            source=(data.get("source") or "").strip(),
            detail_type=(data.get("type") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            condition=parse_field_condition(text) if text else None,
        )


def event_filters_from_params(params: Any) -> EventFilters:
    """The live tail's filters, from a websocket's query string (the search form's names).
    Raises RoutingError naming the first field at fault."""
    form = EventSearchForm(params)
    if not form.is_valid():
        name, messages = next(iter(form.errors.items()))
        raise RoutingError(f"{messages[0]}", field=name)
    return form.filters()


STATUS_CHOICES = [
    ("", "Any status"),
    ("redrivable", "Dead or dropped (redrivable)"),
    *[(status.value, status.label) for status in DeliveryStatus],
]


class DeliveryFilterForm(TimeRangeMixin):
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_CHOICES)
    bus = forms.ChoiceField(label="Bus", required=False)
    target = forms.TypedChoiceField(label="Target", required=False, coerce=int,
                                    empty_value=None)
    since = datetime_field("Created from (UTC)")
    until = datetime_field("Created before (UTC)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "bus", bus_choices())
        set_choices(self, "target", [("", "Any target")] + [
            (str(choice.pk), choice.label) for choice in target_choices()
        ])

    def filters(self) -> DeliveryFilters:
        data = self.cleaned_data
        status = data.get("status") or ""
        statuses: tuple[str, ...] = (
            tuple(REDRIVABLE) if status == "redrivable" else (status,) if status else ()
        )
        return DeliveryFilters(statuses=statuses, bus=data.get("bus") or "",
                               target_id=data.get("target"), since=data.get("since"),
                               until=data.get("until"))


class PatternField(forms.CharField):
    """An event pattern typed as JSON; empty means none. Checked by the service on save."""

    widget = forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false",
                                   "placeholder": '{"source": ["shop"]}'})

    def to_python(self, value: Any) -> Any:
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise FormValidationError(
                f"This is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg})."
            ) from None


ARCHIVE_ERROR_FIELDS = {"ArchiveName": "name", "EventSourceArn": "bus",
                        "EventPattern": "event_pattern", "RetentionDays": "retention_days",
                        "Description": "description"}


class ArchiveCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=48,
                           help_text="Letters, digits, '.', '-' and '_'.")
    bus = forms.ChoiceField(label="Bus")
    event_pattern = PatternField(label="Event pattern", required=False,
                                 help_text="Empty: every event of the bus.")
    retention_days = forms.IntegerField(label="Retention (days)", min_value=0, initial=0,
                                        help_text="0 keeps events forever.")
    description = forms.CharField(label="Description", required=False, max_length=512)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "bus", bus_choices(blank=None))


REPLAY_ERROR_FIELDS = {"ReplayName": "name", "EventSourceArn": "archive",
                       "EventStartTime": "start", "EventEndTime": "end",
                       "Destination.FilterArns": "filter_rules", "Description": "description"}


class ReplayStartForm(forms.Form):
    name = forms.CharField(label="Replay name", max_length=64)
    archive = forms.ChoiceField(label="Archive")
    start = forms.DateTimeField(label="Events from (UTC)", input_formats=DATETIME_INPUT_FORMATS,
                                widget=DateTimeLocalInput())
    end = forms.DateTimeField(label="Events before (UTC)", input_formats=DATETIME_INPUT_FORMATS,
                              widget=DateTimeLocalInput())
    filter_rules = forms.MultipleChoiceField(
        label="Only these rules", required=False,
        help_text="None selected: every rule on the archive's bus sees the replayed events.",
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    description = forms.CharField(label="Description", required=False, max_length=512)

    def __init__(self, *args: Any, archives: list[str], rules: dict[str, list[str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "archive", [(name, name) for name in archives])
        set_choices(self, "filter_rules", [
            (bus, [(f"{bus}/{rule}", rule) for rule in names]) for bus, names in rules.items()
        ])

    def rule_references(self) -> list[str]:
        """The chosen rules as ARN-like references the service understands (bus/name)."""
        references = []
        for value in self.cleaned_data.get("filter_rules") or []:
            bus, _, rule = value.rpartition("/")  # bus names may hold "/"; rule names not
            references.append(f"arn:aws:events:::rule/{bus}/{rule}")
        return references
