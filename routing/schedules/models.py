"""EventBridge Scheduler's resources as data: schedule groups, schedules, and the record of each
firing. Imported by routing.models, so they belong to the routing app.

A schedule whose target is a webhook or a handler keeps that target on a *carrier* rule of the
default bus (managed by the scheduler, disabled: it matches no events and never fires on its
own), so its firings are ordinary deliveries with retries, dead letters and redrive. A schedule
that targets a bus publishes to that bus directly and needs no carrier.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from routing.models import ACCOUNT_ID, Rule, region

DEFAULT_GROUP_NAME = "default"


class ScheduleState(models.TextChoices):
    ENABLED = "ENABLED", "Enabled"
    DISABLED = "DISABLED", "Disabled"


class FlexibleMode(models.TextChoices):
    OFF = "OFF", "Off"
    FLEXIBLE = "FLEXIBLE", "Flexible"


class AfterCompletion(models.TextChoices):
    NONE = "NONE", "Keep the schedule"
    DELETE = "DELETE", "Delete the schedule"


class ScheduleGroup(models.Model):
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A deleted group that held schedules stays (soft-deleted), as they do; its name is free.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # EventBridge Scheduler tags groups, not schedules (routing.schedules.group_tags).
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=Q(deleted_at__isnull=True),
                                    name="schedule_group_unique_live_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:scheduler:{region()}:{ACCOUNT_ID}:schedule-group/{self.name}"


class Schedule(models.Model):
    group = models.ForeignKey(ScheduleGroup, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=512, blank=True)
    expression = models.CharField(max_length=256)
    timezone = models.CharField(max_length=50, default="UTC")
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=ScheduleState.choices,
                             default=ScheduleState.ENABLED)
    flexible_mode = models.CharField(max_length=8, choices=FlexibleMode.choices,
                                     default=FlexibleMode.OFF)
    flexible_window_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    action_after_completion = models.CharField(max_length=8, choices=AfterCompletion.choices,
                                               default=AfterCompletion.NONE)
    # The Target as the API takes and gives it back (Arn, RoleArn, Input, RetryPolicy,
    # DeadLetterConfig, EventBridgeParameters), already validated.
    target = models.JSONField()
    # The target's kind and address in the bus's terms (routing.models.TargetKind), for
    # filtering by what a caller may reach.
    target_kind = models.CharField(max_length=16)
    target_address = models.CharField(max_length=2048)
    # Webhook and handler targets: the managed rule that carries the Target row.
    carrier_rule = models.OneToOneField(Rule, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="carried_schedule")
    # Ticks at or before this never fire: set when the schedule is created, its timing changes
    # or it is enabled again (no back-fill), as for scheduled rules.
    started_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    # CreateSchedule's idempotency token: a retry with the same one answers as the first did.
    client_token = models.CharField(max_length=64, blank=True)
    # When its next tick is due (None: none is left, or it is disabled); firers look only at
    # schedules due by now instead of reading every schedule's expression at every poll.
    next_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleted schedules stay (soft-deleted) so their firings' records still name them.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"],
                                    condition=Q(deleted_at__isnull=True),
                                    name="schedule_unique_live_name_per_group"),
        ]
        indexes = [models.Index(fields=["next_due_at"], name="schedule_next_due",
                                condition=Q(deleted_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.group.name}/{self.name}"

    @property
    def arn(self) -> str:
        return f"arn:aws:scheduler:{region()}:{ACCOUNT_ID}:schedule/{self.group.name}/{self.name}"


class ScheduleFiring(models.Model):
    """One firing of a schedule, claimed by inserting this row (unique per schedule and tick) in
    the transaction that publishes it: however many firers run, one commits it."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="firings")
    # The tick as the expression gives it, and when it was due (the tick plus the flexible
    # window's offset).
    tick_at = models.DateTimeField()
    due_at = models.DateTimeField()
    missed_before = models.PositiveIntegerField(default=0)
    # No foreign key: the retention purge removes events, the firing's record stays.
    event_id = models.UUIDField(null=True, blank=True)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["schedule_id", "-tick_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "tick_at"],
                                    name="schedule_firing_unique"),
        ]
        indexes = [models.Index(fields=["event_id"], name="schedule_firing_event")]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.tick_at.isoformat()}"
