"""Enabling and disabling a Scheduler schedule by itself (the dashboard's buttons), with
UpdateSchedule's rules for State: enabling again restarts the schedule from now, so the ticks it
slept through are not back-filled, and a disabled schedule has no next tick due."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from routing.errors import NotFound, ValidationError
from routing.schedules.models import Schedule, ScheduleState
from routing.schedules.scheduler import next_due_of, schedules_reachable
from routing.services.rules import Actor


def schedule_set_state(*, schedule_id: int, state: str, actor: Actor) -> Schedule:
    """Set a live schedule's State (one `actor` may reach); the same State again changes
    nothing."""
    if state not in ScheduleState.values:
        raise ValidationError(f"State must be one of {', '.join(ScheduleState.values)}.",
                              field="State")
    with transaction.atomic():
        schedule = (schedules_reachable(actor).select_for_update(of=("self",))
                    .filter(pk=schedule_id).first())
        if schedule is None:
            raise NotFound("Schedule does not exist.", field="Name")
        if schedule.state == state:
            return schedule
        schedule.state = state
        if state == ScheduleState.ENABLED:
            schedule.started_at = timezone.now()
        # Nothing fired yet counts after a restart: the next tick is the first after started_at.
        schedule.next_due_at = next_due_of(schedule, after_tick=None)
        schedule.save(update_fields=["state", "started_at", "next_due_at", "updated_at"])
    return schedule
