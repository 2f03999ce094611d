"""The carrier rule of a schedule with a webhook or handler target: a rule of the default bus,
managed by the scheduler and disabled (it matches no events and never fires on its own), whose
one Target the schedule's firings are delivered to, with the bus's retries and dead letters."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from routing.models import Rule, RuleRevision, RuleState, Target
from routing.schedules.models import Schedule
from routing.schedules.targets import CARRIER_TARGET_ID, ScheduleTarget
from routing.services.buses import bus_ensure_default
from routing.services.rules import Actor

SCHEDULER_MANAGER = "scheduler"


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


def carrier_put(schedule: Schedule, target: ScheduleTarget, actor: Actor) -> Rule:
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


def carrier_retire(rule: Rule, actor: Actor) -> None:
    if rule.deleted_at is not None:
        return
    now = timezone.now()
    rule.targets.filter(deleted_at__isnull=True).update(deleted_at=now)
    rule.deleted_at = now
    rule.revision += 1
    rule.save(update_fields=["deleted_at", "revision", "updated_at"])
    _carrier_revision(rule, change="deleted with its schedule", actor=actor, deleted=True)


