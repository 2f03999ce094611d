"""EventBridge Scheduler's writes: schedule groups and schedules, validated as AWS validates them,
with the trust model of the rest of the bus (an outside caller reaches only webhooks and its own
buses; handler targets are the project's).

A webhook or handler target lives on the schedule's carrier rule (routing.schedules.carrier) so
that its firings are ordinary deliveries. A bus target needs none: each firing publishes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from routing.errors import NotFound, RoutingError, ValidationError
from routing.models import Rule, TargetKind
from routing.schedules.carrier import SCHEDULER_MANAGER, carrier_put, carrier_retire
from routing.schedules.expressions import At, InvalidScheduleExpression, parse_expression, zone
from routing.schedules.models import (
    DEFAULT_GROUP_NAME,
    AfterCompletion,
    FlexibleMode,
    Schedule,
    ScheduleGroup,
    ScheduleState,
)
from routing.schedules.targets import Creator, ScheduleTarget, target_check
from routing.schedules.timing import Timing
from routing.services.rules import (
    Actor,
    target_access_check,
)
from routing.services.tags import tags_validate

NAME_PATTERN = "[0-9a-zA-Z-_.]+"
MAX_WINDOW_MINUTES = 1440
# AWS refuses a StartDate more than five minutes in the past.
START_DATE_GRACE = timedelta(minutes=5)


class Conflict(RoutingError):
    code = "ConflictException"
    http_status = 409


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


def group_create(*, name: str, tags: Mapping[str, str] | None = None) -> ScheduleGroup:
    _name_check(name, "Schedule group", "Name")
    valid_tags = tags_validate(tags or {})
    group_ensure_default()
    try:
        with transaction.atomic():
            return ScheduleGroup.objects.create(name=name, tags=valid_tags)
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


def _check_expression(spec: ScheduleSpec, now: datetime,
                      before: ScheduleSpec | None = None) -> None:
    """AWS's checks of the timing. Those against the clock (a past at(), StartDate, EndDate)
    apply to what an update changes, so resending a schedule as it was stays possible."""
    try:
        zone(spec.timezone)
    except ValueError:
        raise ValidationError(f"Invalid time zone {spec.timezone[:60]!r}: give an IANA zone "
                              "such as Europe/Berlin.",
                              field="ScheduleExpressionTimezone") from None
    try:
        parsed = parse_expression(spec.expression, allow_at=True)
    except InvalidScheduleExpression as error:
        raise ValidationError(f"Invalid Schedule Expression {spec.expression[:256]}: "
                              f"{error.reason}.", field="ScheduleExpression") from None
    changed_at = before is None or (before.expression, before.timezone) != (
        spec.expression, spec.timezone)
    if isinstance(parsed, At) and changed_at and \
            parsed.when.replace(tzinfo=zone(spec.timezone)) <= now:
        raise ValidationError(f"Invalid Schedule Expression {spec.expression}: its time is "
                              f"already past in {spec.timezone}.", field="ScheduleExpression")
    if (spec.start_date is not None and spec.start_date < now - START_DATE_GRACE
            and (before is None or before.start_date != spec.start_date)):
        raise ValidationError("The StartDate you specify cannot be earlier than 5 minutes ago.",
                              field="StartDate")
    if spec.end_date is not None:
        if spec.end_date <= now and (before is None or before.end_date != spec.end_date):
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
    target_check(spec.target, creator)
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
            schedule.carrier_rule = carrier_put(schedule, spec.target, creator.actor)
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
    target_check(spec.target, creator)
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
        _check_expression(spec, now, before)
        re_enabled = (schedule.state == ScheduleState.DISABLED
                      and spec.state == ScheduleState.ENABLED)
        if re_enabled or before.timing_fields() != spec.timing_fields():
            schedule.started_at = now
        _apply(schedule, spec)
        if _needs_carrier(spec.target):
            schedule.carrier_rule = carrier_put(schedule, spec.target, creator.actor)
        elif schedule.carrier_rule is not None:
            carrier_retire(schedule.carrier_rule, creator.actor)
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
        carrier_retire(Rule.objects.select_for_update().get(pk=schedule.carrier_rule_id),
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

