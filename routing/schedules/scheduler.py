"""EventBridge Scheduler's writes: schedule groups and schedules, validated as AWS validates them,
with the trust model of the rest of the bus (an outside caller reaches only webhooks and its own
buses; handler targets are the project's).

A webhook or handler target lives on the schedule's carrier rule (see routing.schedules.models)
so that its firings are ordinary deliveries. A bus target needs none: each firing publishes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from routing.errors import NotFound, RoutingError, ValidationError
from routing.models import EventBus, Rule, RuleRevision, RuleState, Target, TargetKind
from routing.publishers import Publisher
from routing.schedules.context import parsed_input, sample_input
from routing.schedules.expressions import InvalidScheduleExpression, parse_expression, zone
from routing.schedules.models import (
    DEFAULT_GROUP_NAME,
    AfterCompletion,
    FlexibleMode,
    Schedule,
    ScheduleGroup,
    ScheduleState,
)
from routing.schedules.timing import Timing
from routing.services.buses import bus_ensure_default
from routing.services.rules import (
    Actor,
    TargetSpec,
    target_access_check,
    target_validate,
)
from routing.sources import source_refusal
from routing.transform import TargetInput

SCHEDULER_MANAGER = "scheduler"
CARRIER_TARGET_ID = "schedule"
INPUT_PATH = "$.detail.input"
NAME_PATTERN = "[0-9a-zA-Z-_.]+"
MAX_WINDOW_MINUTES = 1440
# AWS refuses a StartDate more than five minutes in the past.
START_DATE_GRACE = timedelta(minutes=5)


class Conflict(RoutingError):
    code = "ConflictException"
    http_status = 409


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
class ScheduleSpec:
    """Everything CreateSchedule and UpdateSchedule take (an update replaces the whole)."""

    name: str
    expression: str
    target: ScheduleTarget
    group_name: str = DEFAULT_GROUP_NAME
    timezone: str = "UTC"
    start_date: datetime | None = None
    end_date: datetime | None = None
    description: str = ""
    state: str = ScheduleState.ENABLED
    flexible_mode: str = FlexibleMode.OFF
    window_minutes: int | None = None
    action_after_completion: str = AfterCompletion.NONE

    def timing_fields(self) -> tuple[object, ...]:
        return (self.expression, self.timezone, self.start_date, self.end_date,
                self.flexible_mode, self.window_minutes)


@dataclass(frozen=True)
class Creator:
    """Who writes a schedule: the actor (its scope limits targets) and, for a bus target, the
    publisher and source patterns whose limits the schedule's events must keep to."""

    actor: Actor
    publisher: Publisher
    allowed_sources: tuple[str, ...] | None = None


def _name_check(value: str, what: str, field: str) -> None:
    if not 1 <= len(value) <= 64 or re.fullmatch(NAME_PATTERN, value) is None:
        raise ValidationError(
            f"{what} name {value[:80]!r} is not valid: 1 to 64 letters, digits, '-', '_' or '.'.",
            field=field)


# Timing --------------------------------------------------------------------------------------

def schedule_minute() -> timedelta:
    return timedelta(seconds=settings.ROUTING_SCHEDULE_MINUTE_SECONDS)


def timing_of(schedule: Schedule) -> Timing:
    window = (schedule.flexible_window_minutes
              if schedule.flexible_mode == FlexibleMode.FLEXIBLE else None)
    return Timing.of(key=str(schedule.pk), expression=schedule.expression,
                     timezone=schedule.timezone, started_at=schedule.started_at,
                     start_date=schedule.start_date, end_date=schedule.end_date,
                     window_minutes=window, minute=schedule_minute())


def next_due_of(schedule: Schedule, *, after_tick: datetime | None) -> datetime | None:
    """When the schedule's next tick after `after_tick` (None: since it started) is due."""
    if schedule.state != ScheduleState.ENABLED or schedule.deleted_at is not None:
        return None
    timing = timing_of(schedule)
    ticks = timing.next_ticks(after=after_tick, count=1)
    return ticks[0] + timing.offset(ticks[0]) if ticks else None


# Groups --------------------------------------------------------------------------------------

def group_ensure_default() -> ScheduleGroup:
    group = ScheduleGroup.objects.filter(name=DEFAULT_GROUP_NAME, deleted_at__isnull=True).first()
    if group is not None:
        return group
    try:
        with transaction.atomic():
            return ScheduleGroup.objects.create(name=DEFAULT_GROUP_NAME)
    except IntegrityError:  # created meanwhile by another request
        return ScheduleGroup.objects.get(name=DEFAULT_GROUP_NAME, deleted_at__isnull=True)


def groups_live() -> QuerySet[ScheduleGroup]:
    return ScheduleGroup.objects.filter(deleted_at__isnull=True)


def group_get(name: str) -> ScheduleGroup:
    if name == DEFAULT_GROUP_NAME:
        return group_ensure_default()
    group = groups_live().filter(name=name).first()
    if group is None:
        raise NotFound(f"Schedule group {name} does not exist.", field="GroupName")
    return group


def group_create(*, name: str) -> ScheduleGroup:
    _name_check(name, "Schedule group", "Name")
    group_ensure_default()
    try:
        with transaction.atomic():
            return ScheduleGroup.objects.create(name=name)
    except IntegrityError:
        raise Conflict(f"Schedule group {name} already exists.", field="Name") from None


def group_delete(*, name: str, creator: Creator) -> None:
    """Deletes the group and every schedule in it, as AWS does (here at once, not DELETING)."""
    if name == DEFAULT_GROUP_NAME:
        raise ValidationError("The default schedule group cannot be deleted.", field="Name")
    with transaction.atomic():
        group = groups_live().select_for_update().filter(name=name).first()
        if group is None:
            raise NotFound(f"Schedule group {name} does not exist.", field="Name")
        live = list(group.schedules.select_for_update().filter(deleted_at__isnull=True))
        for schedule in live:
            _require_reach(schedule, creator.actor)
        for schedule in live:
            _schedule_retire(schedule, actor=creator.actor)
        if group.schedules.exists():
            # Deleted schedules keep their firings' history, and so their group.
            group.deleted_at = timezone.now()
            group.save(update_fields=["deleted_at", "updated_at"])
        else:
            group.delete()


# Schedules -----------------------------------------------------------------------------------

def _reachable(actor: Actor) -> Q:
    """The schedules an actor may see and change (everything for the project and staff)."""
    scope = actor.scope
    if scope is None:
        return Q()
    reach = Q(target_kind=TargetKind.WEBHOOK)
    if scope.bus_names is None:
        return reach | Q(target_kind=TargetKind.BUS)
    return reach | Q(target_kind=TargetKind.BUS, target_address__in=sorted(scope.bus_names))


def _require_reach(schedule: Schedule, actor: Actor) -> None:
    target_access_check(ScheduleTarget.from_stored(schedule).spec(), actor=actor)


def schedules_live() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("group").filter(deleted_at__isnull=True)


def schedule_get(*, name: str, group_name: str | None, actor: Actor) -> Schedule:
    group = group_get(group_name or DEFAULT_GROUP_NAME)
    schedule = schedules_live().filter(group=group, name=name).filter(_reachable(actor)).first()
    if schedule is None:
        raise NotFound(f"Schedule {name} does not exist.", field="Name")
    return schedule


def schedules_reachable(actor: Actor) -> QuerySet[Schedule]:
    return schedules_live().filter(_reachable(actor))


def _check_expression(spec: ScheduleSpec, now: datetime) -> None:
    try:
        zone(spec.timezone)
    except ValueError:
        raise ValidationError(f"Invalid time zone {spec.timezone[:60]!r}: give an IANA zone "
                              "such as Europe/Berlin.",
                              field="ScheduleExpressionTimezone") from None
    try:
        parse_expression(spec.expression, allow_at=True)
    except InvalidScheduleExpression as error:
        raise ValidationError(f"Invalid Schedule Expression {spec.expression[:256]}: "
                              f"{error.reason}.", field="ScheduleExpression") from None
    if spec.start_date is not None and spec.start_date < now - START_DATE_GRACE:
        raise ValidationError("The StartDate you specify cannot be earlier than 5 minutes ago.",
                              field="StartDate")
    if spec.end_date is not None:
        if spec.end_date <= now:
            raise ValidationError("The EndDate you specify cannot be earlier than the current "
                                  "time.", field="EndDate")
        if spec.start_date is not None and spec.end_date <= spec.start_date:
            raise ValidationError("The EndDate must be later than the StartDate.",
                                  field="EndDate")


def _check_options(spec: ScheduleSpec) -> None:
    if len(spec.description) > 512:
        raise ValidationError("Description is longer than 512 characters.", field="Description")
    if spec.state not in ScheduleState.values:
        raise ValidationError(f"State must be one of {', '.join(ScheduleState.values)}.",
                              field="State")
    if spec.action_after_completion not in AfterCompletion.values:
        raise ValidationError("ActionAfterCompletion must be one of "
                              f"{', '.join(AfterCompletion.values)}.",
                              field="ActionAfterCompletion")
    if spec.flexible_mode == FlexibleMode.FLEXIBLE:
        if spec.window_minutes is None or not 1 <= spec.window_minutes <= MAX_WINDOW_MINUTES:
            raise ValidationError(
                "FlexibleTimeWindow with Mode FLEXIBLE needs MaximumWindowInMinutes between 1 "
                f"and {MAX_WINDOW_MINUTES}.", field="FlexibleTimeWindow.MaximumWindowInMinutes")
    elif spec.flexible_mode == FlexibleMode.OFF:
        if spec.window_minutes is not None:
            raise ValidationError("MaximumWindowInMinutes is only for Mode FLEXIBLE.",
                                  field="FlexibleTimeWindow.MaximumWindowInMinutes")
    else:
        raise ValidationError("FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.",
                              field="FlexibleTimeWindow.Mode")


def _check_target(target: ScheduleTarget, creator: Creator) -> None:
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


def _carrier_snapshot(target: Target) -> dict[str, Any]:
    return {"Id": target.target_id, "Kind": target.kind, "Address": target.address,
            "InputPath": target.input_path or None,
            "RetryPolicy": {"MaximumRetryAttempts": target.max_retry_attempts,
                            "MaximumEventAgeInSeconds": target.max_event_age_seconds},
            "DeadLetter": target.dead_letter_enabled}


def _carrier_revision(rule: Rule, *, change: str, actor: Actor, deleted: bool = False) -> None:
    RuleRevision.objects.create(
        rule=rule, bus_id=rule.bus_id, number=rule.revision, event_pattern=rule.event_pattern,
        state=rule.state, description=rule.description, change=change[:200], deleted=deleted,
        targets=[_carrier_snapshot(t) for t in rule.targets.filter(deleted_at__isnull=True)],
        changed_by_label=actor.label[:200],
    )


def _carrier_put(schedule: Schedule, target: ScheduleTarget, actor: Actor) -> Rule:
    """The carrier rule of a webhook or handler target, with its one live Target."""
    spec = target.spec()
    values = {
        "kind": spec.kind, "address": spec.address,
        "input_path": spec.target_input.input_path or "",
        "max_retry_attempts": spec.max_retry_attempts,
        "max_event_age_seconds": spec.max_event_age_seconds,
        "dead_letter_enabled": spec.dead_letter_enabled,
    }
    rule = schedule.carrier_rule
    if rule is None or rule.deleted_at is not None:
        rule = Rule.objects.create(
            bus=bus_ensure_default(), name=f"scheduler.{uuid.uuid4().hex}", event_pattern={},
            state=RuleState.DISABLED, managed_by=SCHEDULER_MANAGER, revision=1,
            description=f"Carries the target of schedule {schedule.arn}"[:512])
        Target.objects.create(rule=rule, target_id=CARRIER_TARGET_ID, **values)
        _carrier_revision(rule, change="created by the scheduler", actor=actor)
        return rule
    live = rule.targets.filter(deleted_at__isnull=True).first()
    if live is not None and all(getattr(live, key) == value for key, value in values.items()):
        return rule
    rule.targets.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())
    Target.objects.create(rule=rule, target_id=CARRIER_TARGET_ID, **values)
    rule.revision += 1
    rule.save(update_fields=["revision", "updated_at"])
    _carrier_revision(rule, change="target set by the scheduler", actor=actor)
    return rule


def _carrier_retire(rule: Rule, actor: Actor) -> None:
    if rule.deleted_at is not None:
        return
    now = timezone.now()
    rule.targets.filter(deleted_at__isnull=True).update(deleted_at=now)
    rule.deleted_at = now
    rule.revision += 1
    rule.save(update_fields=["deleted_at", "revision", "updated_at"])
    _carrier_revision(rule, change="deleted with its schedule", actor=actor, deleted=True)


def _needs_carrier(target: ScheduleTarget) -> bool:
    return target.kind != TargetKind.BUS


def _apply(schedule: Schedule, spec: ScheduleSpec) -> None:
    schedule.description = spec.description
    schedule.expression = spec.expression
    schedule.timezone = spec.timezone
    schedule.start_date = spec.start_date
    schedule.end_date = spec.end_date
    schedule.state = spec.state
    schedule.flexible_mode = spec.flexible_mode
    schedule.flexible_window_minutes = spec.window_minutes
    schedule.action_after_completion = spec.action_after_completion
    schedule.target = spec.target.to_aws()
    schedule.target_kind = spec.target.kind
    schedule.target_address = spec.target.address


def schedule_create(*, spec: ScheduleSpec, creator: Creator,
                    client_token: str = "") -> Schedule:
    """CreateSchedule. A retry carrying the first call's `client_token` gets the schedule the
    first call made instead of a ConflictException, as AWS's idempotency tokens promise."""
    _name_check(spec.name, "Schedule", "Name")
    now = timezone.now()
    _check_options(spec)
    _check_expression(spec, now)
    _check_target(spec.target, creator)
    with transaction.atomic():
        group = group_get(spec.group_name)
        schedule = Schedule(group=group, name=spec.name, started_at=now,
                            created_by=creator.actor.label[:200],
                            client_token=client_token[:64])
        _apply(schedule, spec)
        try:
            with transaction.atomic():
                schedule.save()
        except IntegrityError:
            retried = _same_request(group, spec, client_token)
            if retried is not None:
                return retried
            raise Conflict(f"Schedule {spec.name} already exists.", field="Name") from None
        if _needs_carrier(spec.target):
            schedule.carrier_rule = _carrier_put(schedule, spec.target, creator.actor)
        schedule.next_due_at = next_due_of(schedule, after_tick=None)
        schedule.save(update_fields=["carrier_rule", "next_due_at"])
    return schedule


def _same_request(group: ScheduleGroup, spec: ScheduleSpec, client_token: str
                  ) -> Schedule | None:
    """The schedule a retried CreateSchedule (same ClientToken) made the first time."""
    if not client_token:
        return None
    return schedules_live().filter(group=group, name=spec.name,
                                   client_token=client_token).first()


def schedule_update(*, spec: ScheduleSpec, creator: Creator) -> Schedule:
    """UpdateSchedule: replaces every member (an omitted one returns to its default). A change
    of timing, or enabling again, restarts the schedule: the ticks it missed do not back-fill."""
    now = timezone.now()
    _check_options(spec)
    _check_expression(spec, now)
    _check_target(spec.target, creator)
    with transaction.atomic():
        group = group_get(spec.group_name)
        schedule = (Schedule.objects.select_for_update(of=("self",))
                    .select_related("group", "carrier_rule")
                    .filter(group=group, name=spec.name, deleted_at__isnull=True)
                    .filter(_reachable(creator.actor)).first())
        if schedule is None:
            raise NotFound(f"Schedule {spec.name} does not exist.", field="Name")
        before = ScheduleSpec(
            name=schedule.name, expression=schedule.expression, target=spec.target,
            timezone=schedule.timezone, start_date=schedule.start_date,
            end_date=schedule.end_date, flexible_mode=schedule.flexible_mode,
            window_minutes=schedule.flexible_window_minutes)
        re_enabled = (schedule.state == ScheduleState.DISABLED
                      and spec.state == ScheduleState.ENABLED)
        if re_enabled or before.timing_fields() != spec.timing_fields():
            schedule.started_at = now
        _apply(schedule, spec)
        if _needs_carrier(spec.target):
            schedule.carrier_rule = _carrier_put(schedule, spec.target, creator.actor)
        elif schedule.carrier_rule is not None:
            _carrier_retire(schedule.carrier_rule, creator.actor)
            schedule.carrier_rule = None
        last_tick = schedule.firings.filter(tick_at__gt=schedule.started_at) \
            .order_by("-tick_at").values_list("tick_at", flat=True).first()
        schedule.next_due_at = next_due_of(schedule, after_tick=last_tick)
        schedule.save()
    return schedule


def _schedule_retire(schedule: Schedule, *, actor: Actor) -> None:
    schedule.deleted_at = timezone.now()
    schedule.next_due_at = None
    schedule.save(update_fields=["deleted_at", "next_due_at", "updated_at"])
    if schedule.carrier_rule_id is not None:
        _carrier_retire(Rule.objects.select_for_update().get(pk=schedule.carrier_rule_id),
                        actor)


def schedule_delete(*, name: str, group_name: str | None, creator: Creator) -> None:
    with transaction.atomic():
        group = group_get(group_name or DEFAULT_GROUP_NAME)
        schedule = (Schedule.objects.select_for_update().select_related("group")
                    .filter(group=group, name=name, deleted_at__isnull=True)
                    .filter(_reachable(creator.actor)).first())
        if schedule is None:
            raise NotFound(f"Schedule {name} does not exist.", field="Name")
        _schedule_retire(schedule, actor=creator.actor)


def schedule_complete(schedule: Schedule) -> None:
    """After the last firing: ActionAfterCompletion DELETE removes the schedule."""
    if schedule.action_after_completion == AfterCompletion.DELETE:
        _schedule_retire(schedule, actor=Actor.system(SCHEDULER_MANAGER))

