"""A schedule's target in the bus's terms, and the checks that keep it inside what its creator
was given: webhooks and the creator's own buses and sources for an outside caller; handlers for
the project and staff (as PutTargets allows, routing.services.rules.target_access_check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from routing.errors import NotFound, ValidationError
from routing.models import EventBus, TargetKind
from routing.publishers import Publisher
from routing.schedules.context import parsed_input, sample_input
from routing.schedules.models import Schedule
from routing.services.buses import bus_ensure_default
from routing.services.rules import (
    Actor,
    TargetSpec,
    target_access_check,
    target_validate,
)
from routing.sources import source_refusal
from routing.transform.target_input import TargetInput

CARRIER_TARGET_ID = "schedule"
INPUT_PATH = "$.detail.input"


@dataclass(frozen=True)
class ScheduleTarget:
    """A schedule's Target in the bus's terms (kind and address) with the members AWS gives
    back as they were set."""

    arn: str
    role_arn: str
    kind: str
    address: str
    input: str | None = None
    max_retry_attempts: int = 185
    max_event_age_seconds: int = 86400
    dead_letter_arn: str | None = None
    # EventBridgeParameters, for a bus target.
    event_source: str | None = None
    event_detail_type: str | None = None

    def to_aws(self) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "Arn": self.arn,
            "RoleArn": self.role_arn,
            "RetryPolicy": {"MaximumRetryAttempts": self.max_retry_attempts,
                            "MaximumEventAgeInSeconds": self.max_event_age_seconds},
        }
        if self.input is not None:
            shape["Input"] = self.input
        if self.dead_letter_arn is not None:
            shape["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        if self.event_source is not None:
            shape["EventBridgeParameters"] = {"Source": self.event_source,
                                              "DetailType": self.event_detail_type}
        return shape

    @classmethod
    def from_stored(cls, schedule: Schedule) -> ScheduleTarget:
        data = schedule.target
        retry = data.get("RetryPolicy", {})
        bridge = data.get("EventBridgeParameters") or {}
        return cls(
            arn=data["Arn"], role_arn=data.get("RoleArn", ""), kind=schedule.target_kind,
            address=schedule.target_address, input=data.get("Input"),
            max_retry_attempts=retry.get("MaximumRetryAttempts", 185),
            max_event_age_seconds=retry.get("MaximumEventAgeInSeconds", 86400),
            dead_letter_arn=(data.get("DeadLetterConfig") or {}).get("Arn"),
            event_source=bridge.get("Source"), event_detail_type=bridge.get("DetailType"),
        )

    def spec(self) -> TargetSpec:
        # The carrier target sends the firing's Input, which the firing's event carries with
        # its context attributes replaced (routing.schedules.context).
        target_input = TargetInput(input_path=INPUT_PATH) if self.input is not None \
            else TargetInput()
        return TargetSpec(
            target_id=CARRIER_TARGET_ID, kind=self.kind, address=self.address,
            target_input=target_input, max_retry_attempts=self.max_retry_attempts,
            max_event_age_seconds=self.max_event_age_seconds,
            dead_letter_enabled=self.dead_letter_arn is not None,
        )


@dataclass(frozen=True)
class Creator:
    """Who writes a schedule: the actor (its scope limits targets) and, for a bus target, the
    publisher and source patterns whose limits the schedule's events must keep to."""

    actor: Actor
    publisher: Publisher
    allowed_sources: tuple[str, ...] | None = None


def target_check(target: ScheduleTarget, creator: Creator) -> None:
    spec = target.spec()
    target_access_check(spec, actor=creator.actor)
    if target.kind == TargetKind.BUS:
        if target.event_source is None or target.event_detail_type is None:
            raise ValidationError("A bus target needs Target.EventBridgeParameters with "
                                  "DetailType and Source.",
                                  field="Target.EventBridgeParameters")
        if target.event_source.startswith("aws."):
            raise ValidationError("EventBridgeParameters.Source cannot start with 'aws.'.",
                                  field="Target.EventBridgeParameters.Source")
        if not 1 <= len(target.event_detail_type) <= 128:
            raise ValidationError("EventBridgeParameters.DetailType is 1 to 128 characters.",
                                  field="Target.EventBridgeParameters.DetailType")
        refusal = source_refusal(target.event_source, publisher=creator.publisher,
                                 allowed=creator.allowed_sources)
        if refusal is not None:
            raise ValidationError(refusal, field="Target.EventBridgeParameters.Source")
        _input_check(target)
        if not EventBus.objects.filter(name=target.address).exists():
            raise NotFound(f"Event bus {target.address} does not exist.", field="Target.Arn")
        return
    if target.event_source is not None:
        raise ValidationError("EventBridgeParameters is only for a bus target "
                              "(arn:aws:events:…:event-bus/NAME).",
                              field="Target.EventBridgeParameters")
    if target.kind == TargetKind.CHANNELS:
        raise ValidationError("A schedule cannot target a Channels group: use a handler, a "
                              "webhook or a bus.", field="Target.Arn")
    _input_check(target)
    try:
        target_validate(spec, bus_ensure_default())
    except ValidationError as error:
        raise ValidationError(error.message, field=f"Target.{error.field or 'Arn'}") from None


def _input_check(target: ScheduleTarget) -> None:
    if target.input is None:
        return
    try:
        value = sample_input(target.input)
    except ValueError:
        raise ValidationError("Target.Input must be JSON text (context attributes such as "
                              "<aws.scheduler.scheduled-time> inside its strings are replaced "
                              "at each firing).", field="Target.Input") from None
    if target.kind == TargetKind.BUS and not isinstance(value, dict):
        raise ValidationError("For a bus target, Input is the event's detail: a JSON object.",
                              field="Target.Input")


def firing_input(schedule: Schedule, *, tick_at: datetime, execution_id: str) -> Any | None:
    """The schedule's Input for one firing, parsed, its context attributes replaced (None: the
    schedule has no Input)."""
    text = schedule.target.get("Input")
    if text is None:
        return None
    return parsed_input(text, schedule_arn=schedule.arn, scheduled_time=tick_at,
                        execution_id=execution_id)


