"""Schedules and groups in the Scheduler's output shapes (botocore's model for `scheduler`).
Timestamps are seconds since the epoch; members with no value are left out, as AWS does."""

from __future__ import annotations

from typing import Any

from routing.aws.shapes import compact, epoch
from routing.schedules.models import FlexibleMode, Schedule, ScheduleGroup

GROUP_ACTIVE = "ACTIVE"


def group_shape(group: ScheduleGroup) -> dict[str, Any]:
    return compact({
        "Arn": group.arn,
        "Name": group.name,
        "State": GROUP_ACTIVE,
        "CreationDate": epoch(group.created_at),
        "LastModificationDate": epoch(group.updated_at),
    })


def _window(schedule: Schedule) -> dict[str, Any]:
    window: dict[str, Any] = {"Mode": schedule.flexible_mode}
    if schedule.flexible_mode == FlexibleMode.FLEXIBLE:
        window["MaximumWindowInMinutes"] = schedule.flexible_window_minutes
    return window


def schedule_shape(schedule: Schedule) -> dict[str, Any]:
    """GetSchedule's output."""
    return compact({
        "Arn": schedule.arn,
        "GroupName": schedule.group.name,
        "Name": schedule.name,
        "ScheduleExpression": schedule.expression,
        "StartDate": epoch(schedule.start_date),
        "EndDate": epoch(schedule.end_date),
        "Description": schedule.description,
        "ScheduleExpressionTimezone": schedule.timezone,
        "State": schedule.state,
        "CreationDate": epoch(schedule.created_at),
        "LastModificationDate": epoch(schedule.updated_at),
        "Target": schedule.target,
        "FlexibleTimeWindow": _window(schedule),
        "ActionAfterCompletion": schedule.action_after_completion,
    })


def schedule_summary_shape(schedule: Schedule) -> dict[str, Any]:
    """A schedule as ListSchedules lists it."""
    return compact({
        "Arn": schedule.arn,
        "Name": schedule.name,
        "GroupName": schedule.group.name,
        "State": schedule.state,
        "CreationDate": epoch(schedule.created_at),
        "LastModificationDate": epoch(schedule.updated_at),
        "Target": {"Arn": schedule.target["Arn"]},
    })
