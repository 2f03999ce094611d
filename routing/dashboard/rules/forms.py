"""The rule editor's forms. They reuse the admin's pattern field and target form (the engine's and
the services' own checks and messages) and add what the editor needs: a stale-edit check, a
choice of what a target receives, and the event the sandbox and the previews run on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from routing.errors import RoutingError, ValidationError
from routing.forms import EventPatternField, TargetForm, pretty_json, target_error_field
from routing.models import EventBus, Rule, RuleState, Target, region
from routing.patterns import InvalidEventError, parse_test_event
from routing.selectors.rules import IMPACT_LIMITS, stored_envelope
from routing.timestamps import utc_timestamp
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import TargetInput

CODE_ATTRS = {"rows": 14, "spellcheck": "false", "autocomplete": "off", "autocapitalize": "off",
              "wrap": "off", "class": "code-input"}

# The service's field names (EventBridge's spelling) → the rule form's fields.
RULE_ERROR_FIELDS = {"Name": "name", "State": "state", "Description": "description",
                     "EventPattern": "event_pattern", "ScheduleExpression": "schedule_expression"}


class RuleEditForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        help_text="1 to 64 characters: letters, digits, '.', '-' and '_'. Fixed once created.",
    )
    description = forms.CharField(max_length=512, required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    state = forms.ChoiceField(choices=RuleState.choices, initial=RuleState.ENABLED,
                              help_text="A disabled rule matches nothing and delivers nothing.")
    event_pattern = EventPatternField(
        label="Event pattern",
        widget=forms.Textarea(attrs={**CODE_ATTRS, "rows": 16}),
        help_text="EventBridge's pattern language, as JSON. Checked by the engine as you type.",
    )
    # The revision the editor was opened at: saving over someone else's newer change is refused.
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, bus: EventBus, rule: Rule | None = None,
                 scheduled: bool = False, **kwargs: Any) -> None:
        if rule is not None:
            kwargs.setdefault("initial", {
                "name": rule.name, "description": rule.description, "state": rule.state,
                "event_pattern": rule.event_pattern, "revision": rule.revision,
                "schedule_expression": rule.schedule_expression,
            })
            scheduled = bool(rule.schedule_expression)
        super().__init__(*args, **kwargs)
        self.bus, self.rule = bus, rule
        self.stale = False
        # A scheduled rule fires on its expression and has no pattern (its stored one is {}):
        # the editor shows and saves the expression instead.
        self.scheduled = scheduled
        if scheduled:
            del self.fields["event_pattern"]
            self.fields["schedule_expression"] = forms.CharField(
                label="Schedule expression", max_length=256, strip=True,
                widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false",
                                              "autocomplete": "off", "autocapitalize": "off"}),
                help_text="rate(5 minutes), or cron(minutes hours day-of-month month "
                          "day-of-week year) in UTC, as in EventBridge.",
            )
            self.fields["state"].help_text = "A disabled rule does not fire."
        if rule is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A rule's name is fixed once it exists."

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        # rule_put creates or replaces: creating must never replace an existing rule.
        if self.rule is None and Rule.objects.filter(
            bus=self.bus, name=name, deleted_at__isnull=True
        ).exists():
            raise forms.ValidationError(
                f"Rule {name} already exists on event bus {self.bus.name}: open it to edit it."
            )
        return name

    def clean_revision(self) -> int | None:
        seen: int | None = self.cleaned_data.get("revision")
        if self.rule is not None and seen != self.rule.revision:
            self.stale = True
            raise forms.ValidationError(
                f"This rule changed since you opened it: it is now at revision "
                f"{self.rule.revision} (you started from revision {seen}). Your text is kept; "
                "look at History to see what changed, then save again to replace it."
            )
        return seen

    @property
    def revision_to_submit(self) -> int | None:
        """After a stale save, the next save knowingly replaces the newer revision."""
        if self.rule is not None and (self.stale or not self.is_bound):
            return self.rule.revision
        value = self["revision"].value()
        return int(value) if value not in (None, "") else None

    def add_service_error(self, error: RoutingError) -> None:
        field = RULE_ERROR_FIELDS.get(error.field or "")
        if error.code == "InvalidEventPatternException":
            field = "event_pattern"
        self.add_error(field if field in self.fields else None, error.message)


# Targets -------------------------------------------------------------------------------------

INPUT_FIELDS = ("input", "input_path", "input_transformer")
INPUT_MODES = [
    ("event", "The whole event"),
    ("input", "Constant JSON (Input)"),
    ("input_path", "Part of the event (InputPath)"),
    ("input_transformer", "Built from the event (InputTransformer)"),
]
MISSING_INPUT = {
    "input": "Give the constant JSON text the target receives.",
    "input_path": "Give the JSON path of what the target receives, e.g. $.detail.",
    "input_transformer": "Give the input transformer: InputPathsMap and InputTemplate.",
}


def input_mode_of(target: Target | None) -> str:
    if target is None:
        return "event"
    for name in INPUT_FIELDS:
        if getattr(target, name) not in (None, ""):
            return name
    return "event"


class RuleTargetForm(TargetForm):
    """The admin's target form (its checks are the services' checks) with one choice of input
    instead of three fields to leave empty, and with a fixed id once the target exists."""

    input_mode = forms.ChoiceField(choices=INPUT_MODES, widget=forms.RadioSelect,
                                   label="The target receives")

    field_order = ["target_id", "kind", "address", "webhook_timeout_seconds", "input_mode",
                   *INPUT_FIELDS, "max_retry_attempts", "max_event_age_seconds",
                   "dead_letter_enabled"]

    def __init__(self, *args: Any, rule: Rule, live_ids: set[str] | frozenset[str] = frozenset(),
                 **kwargs: Any) -> None:
        instance: Target | None = kwargs.get("instance")
        kwargs.setdefault("initial", {})["input_mode"] = input_mode_of(instance)
        super().__init__(*args, rule=rule, **kwargs)
        self.is_new = instance is None
        self.live_ids = live_ids
        self.fields["address"].widget.attrs.update({"list": "target-addresses",
                                                    "autocomplete": "off", "size": None})
        for name in ("input", "input_transformer"):
            # Wrapped: these are often one long line of JSON.
            self.fields[name].widget.attrs = {**CODE_ATTRS, "rows": 5, "wrap": "soft"}
        self.fields["input_path"].widget.attrs.update({"class": "mono",
                                                       "placeholder": "$.detail"})
        self.fields["input_transformer"].help_text = (
            'InputPathsMap names values read from the event; InputTemplate uses them as <name>. '
            'E.g. {"InputPathsMap": {"order": "$.detail.orderId"}, '
            '"InputTemplate": "{\\"order\\": <order>}"}'
        )
        if not self.is_new:
            self.fields["target_id"].disabled = True
            self.fields["target_id"].help_text = "A target's id is fixed once it exists."

    def clean_target_id(self) -> str:
        target_id: str = self.cleaned_data["target_id"]
        if self.is_new and target_id in self.live_ids:
            raise forms.ValidationError(
                f"Target {target_id} already exists on this rule: edit it instead."
            )
        return target_id

    def _drop_unused_inputs(self) -> None:
        """Forgets the input fields the chosen mode does not use, and their errors; the one it
        uses must be filled in."""
        mode = self.cleaned_data.get("input_mode") or "event"
        for name in INPUT_FIELDS:
            if name != mode:
                self.cleaned_data[name] = None if name == "input_transformer" else ""
                self.errors.pop(name, None)
        if mode in MISSING_INPUT and mode not in self.errors and _is_blank(
            self.cleaned_data.get(mode)
        ):
            self.add_error(mode, MISSING_INPUT[mode])

    def clean(self) -> dict[str, Any]:
        self._drop_unused_inputs()
        return super().clean()

    def preview_input(self) -> TargetInput:
        """What the target would receive by, from the input fields alone (the address may still
        be wrong). Raises ValidationError naming this form's field."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        for name in ("input_mode", *INPUT_FIELDS):
            if name in self.errors:
                raise ValidationError(" ".join(str(e) for e in self.errors[name]), field=name)
        try:
            target_input = self.target_input()
            target_input.validate(target_id=self.cleaned_data.get("target_id") or None)
        except InvalidTargetInputError as error:
            raise ValidationError(str(error), field=target_error_field(error.field)) from None
        return target_input


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == {}


def live_target_forms(rule: Rule, targets: QuerySet[Target] | list[Target]
                      ) -> list[RuleTargetForm]:
    ids = frozenset(target.target_id for target in targets)
    return [RuleTargetForm(instance=target, rule=rule, live_ids=ids, prefix=target_prefix(target))
            for target in targets]


def target_prefix(target: Target | None) -> str:
    return f"t-{target.target_id}" if target is not None else "new"


# The event the sandbox and the previews run on -----------------------------------------------

def sample_event_text() -> str:
    """A realistic Serverlesspresso event, as the shop publishes it, to edit and test against."""
    return pretty_json({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderManager.WaitingCompletion",
        "source": "awsserverlessda.serverlesspresso",
        "account": "000000000000",
        "time": utc_timestamp(timezone.now(), timespec="seconds"),
        "region": region(),
        "resources": [],
        "detail": {
            "shopId": "main",
            "orderId": "01JDXQ4ZK8T3W5M2N6P9R1S4VA",
            "orderNumber": 42,
            "state": "QUEUED",
            "drinkOrder": {
                "drink": "Cappuccino",
                "modifiers": ["Oat milk", "Extra shot"],
                "choices": {"Milk": ["Oat milk"], "Strength": ["Extra shot"]},
                "icon": "cappuccino",
            },
            "userId": "17",
            "robot": False,
            "Message": "Order #42, Cappuccino (Oat milk, Extra shot) for Ada, is waiting for a "
                       "barista.",
        },
    })


def chosen_event(data: QueryDict) -> tuple[dict[str, Any], str, str | None]:
    """The event a request chose: `event_source` "stored" (`event_id`, on any bus) or "sample"
    (`sample_event`, checked the way TestEventPattern checks an event). Returns the envelope,
    its ingestion time and the stored event's id. Raises RoutingError naming the field."""
    if data.get("event_source") == "stored":
        event_id = (data.get("event_id") or "").strip()
        if not event_id:
            raise ValidationError("Choose a stored event, or paste its id.", field="event_id")
        stored = stored_envelope(event_id)
        return stored.envelope, stored.ingestion_time, stored.event_id
    text = data.get("sample_event") or ""
    if not text.strip():
        raise ValidationError("Write a sample event (a JSON envelope).", field="sample_event")
    try:
        envelope = parse_test_event(text)
    except InvalidEventError as error:
        reason = f" Reason: {error.detail}." if error.detail else ""
        raise ValidationError(f"{error}{reason}", field="sample_event") from None
    # A sample was never ingested: it gets the time the bus would stamp on it now.
    return envelope, utc_timestamp(timezone.now(), timespec="seconds"), None


def impact_limit(data: QueryDict) -> int:
    raw = data.get("limit") or str(IMPACT_LIMITS[0])
    if not raw.isdigit() or int(raw) not in IMPACT_LIMITS:
        choices = ", ".join(str(limit) for limit in IMPACT_LIMITS)
        raise ValidationError(f"Choose how many recent events to check: {choices}.",
                              field="limit")
    return int(raw)


def pattern_text(data: QueryDict) -> str:
    text = data.get("event_pattern")
    if text is None or not text.strip():
        raise ValidationError("Write an event pattern (a JSON object).", field="event_pattern")
    return text

