"""The event bus as data: buses, immutable events, rules with their revisions, targets, and the
durable record of every delivery and attempt. Writes go through routing.services."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from routing.errors import ImmutableEventError
from routing.publishers import PublisherKind
from routing.timestamps import utc_timestamp

PUBLISHER_KIND_CHOICES = [(kind.value, kind.name.replace("_", " ").lower())
                          for kind in PublisherKind]
DEFAULT_BUS_NAME = "default"
ACCOUNT_ID = "000000000000"
MAX_TARGETS_PER_RULE = 5

bus_name_validator = RegexValidator(
    r"\A[/\.\-_A-Za-z0-9]{1,256}\Z",
    "Bus names are 1-256 characters: letters, digits, '.', '-', '_' and '/'.",
)
rule_name_validator = RegexValidator(
    r"\A[\.\-_A-Za-z0-9]{1,64}\Z",
    "Rule names are 1-64 characters: letters, digits, '.', '-' and '_'.",
)
target_id_validator = RegexValidator(
    r"\A[\.\-_A-Za-z0-9]{1,64}\Z",
    "Target ids are 1-64 characters: letters, digits, '.', '-' and '_'.",
)


def region() -> str:
    return str(getattr(settings, "ROUTING_REGION", "us-east-1"))


class LiveBusManager(models.Manager["EventBus"]):
    """Buses that were not deleted: every lookup by name goes through here. A deleted bus stays
    as a row so that its events (immutable) and rule revisions keep their bus; relations from
    those rows use the base manager, which still sees it."""

    def get_queryset(self) -> models.QuerySet[EventBus]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class EventBus(models.Model):
    name = models.CharField(max_length=256, validators=[bus_name_validator])
    description = models.CharField(max_length=512, blank=True)
    # Bumped in the same transaction as any change to the bus's rules, targets or archives, so
    # every worker can tell with one cheap read that its compiled rule index is stale.
    rules_version = models.PositiveBigIntegerField(default=0)
    # UpdateEventBus's DeadLetterConfig: every target on the bus keeps its dead letters.
    dead_letter_enabled = models.BooleanField(default=False)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    all_objects = models.Manager()
    objects = LiveBusManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "event bus"
        verbose_name_plural = "event buses"
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=Q(deleted_at__isnull=True),
                                    name="event_bus_unique_live_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/{self.name}"


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableEventError("Events are immutable: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise ImmutableEventError(
            "Events are immutable: only the retention purge (manage.py purge_events) removes them."
        )

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableEventError("Events are immutable: they cannot be updated.")


class Event(models.Model):
    """One fact on a bus, in EventBridge's envelope. Stored once; never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bus = models.ForeignKey(EventBus, on_delete=models.PROTECT, related_name="events")
    version = models.CharField(max_length=8, default="0")
    source = models.CharField(max_length=256)
    detail_type = models.CharField(max_length=128)
    time = models.DateTimeField()
    account = models.CharField(max_length=12, default=ACCOUNT_ID)
    region = models.CharField(max_length=32, default=region)
    resources = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ingested_at = models.DateTimeField(db_index=True)
    replay_name = models.CharField(max_length=64, blank=True, default="")
    # Set on an event a `bus` target forwarded here (the event on the bus it came from).
    forwarded_from = models.UUIDField(null=True, blank=True)
    # Who published it (routing.publishers): the kind, the id or name it refers to, and a
    # readable label ("api-key:<name>", "service:orders", "replay:<name>"...). Written at INSERT
    # like every column; the body (envelope) never carries them.
    published_by = models.CharField(max_length=200, blank=True)
    publisher_kind = models.CharField(max_length=16, choices=PUBLISHER_KIND_CHOICES,
                                      blank=True, default="")
    publisher_ref = models.CharField(max_length=200, blank=True, default="")
    # On a replayed copy: the archived original it copies (subscribers key on this one).
    replay_of = models.UUIDField(null=True, blank=True, db_index=True)

    objects: ClassVar[EventQuerySet] = EventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-ingested_at"]
        indexes = [
            models.Index(fields=["bus", "-ingested_at"], name="event_bus_ingested"),
            models.Index(fields=["bus", "source", "detail_type", "-ingested_at"],
                         name="event_bus_source_type"),
            models.Index(fields=["bus", "time"], name="event_bus_time"),
        ]

    def __str__(self) -> str:
        return f"{self.source} / {self.detail_type} ({self.id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableEventError("Events are immutable: they cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableEventError(
            "Events are immutable: only the retention purge (manage.py purge_events) removes them."
        )

    def envelope(self) -> dict[str, Any]:
        """The event exactly as rules match it and targets receive it."""
        body: dict[str, Any] = {
            "version": self.version,
            "id": str(self.id),
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": utc_timestamp(self.time, timespec="seconds"),
            "region": self.region,
            "resources": list(self.resources),
            "detail": self.detail,
        }
        if self.replay_name:
            body["replay-name"] = self.replay_name
        return body


class PendingRoute(models.Model):
    """The outbox: written with its event, removed by the route task once deliveries exist.

    A row still here after its message should have been handled means the message was lost
    (Redis flushed, worker killed): the sweeper enqueues it again."""

    event = models.OneToOneField(Event, on_delete=models.CASCADE, primary_key=True,
                                 related_name="pending_route")
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["enqueued_at"], name="pending_route_enqueued")]

    def __str__(self) -> str:
        return f"route {self.event_id}"


class RuleState(models.TextChoices):
    ENABLED = "ENABLED", "Enabled"
    DISABLED = "DISABLED", "Disabled"


class Rule(models.Model):
    bus = models.ForeignKey(EventBus, on_delete=models.PROTECT, related_name="rules")
    name = models.CharField(max_length=64, validators=[rule_name_validator])
    description = models.CharField(max_length=512, blank=True)
    event_pattern = models.JSONField()
    state = models.CharField(max_length=8, choices=RuleState.choices, default=RuleState.ENABLED)
    # A scheduled rule (default bus only) fires on this expression and matches no events; its
    # event_pattern is {} and it stays out of the compiled index.
    schedule_expression = models.CharField(max_length=256, blank=True)
    # Ticks at or before this never fire: set when the schedule starts, changes or is enabled
    # again, so that re-enabling does not back-fill the ticks the rule slept through.
    schedule_started_at = models.DateTimeField(null=True, blank=True)
    # A rule the system owns (an archive's, say): not editable through the rule API.
    managed_by = models.CharField(max_length=100, blank=True)
    revision = models.PositiveIntegerField(default=1)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleted rules stay (soft-deleted) so every past delivery's trace still names its rule.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bus__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bus", "name"], condition=Q(deleted_at__isnull=True),
                                    name="rule_unique_live_name_per_bus"),
        ]

    def __str__(self) -> str:
        return f"{self.bus.name}/{self.name}"

    @property
    def arn(self) -> str:
        middle = "" if self.bus.name == DEFAULT_BUS_NAME else f"{self.bus.name}/"
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:rule/{middle}{self.name}"

    @property
    def is_enabled(self) -> bool:
        return self.state == RuleState.ENABLED and self.deleted_at is None


class RuleRevision(models.Model):
    """Every change to a rule, kept as it was: who, when, and the rule's whole state after it."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="revisions")
    bus = models.ForeignKey(EventBus, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    event_pattern = models.JSONField()
    state = models.CharField(max_length=8, choices=RuleState.choices)
    schedule_expression = models.CharField(max_length=256, blank=True)
    description = models.CharField(max_length=512, blank=True)
    targets = models.JSONField(default=list, blank=True)
    change = models.CharField(max_length=200)
    deleted = models.BooleanField(default=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_revision_unique_number"),
        ]
        indexes = [models.Index(fields=["bus", "id"], name="rule_revision_bus_id")]

    def __str__(self) -> str:
        return f"{self.rule} r{self.number}"


class ScheduleTick(models.Model):
    """One firing of a scheduled rule. The row is inserted, under its unique (rule, tick_at), in
    the transaction that stores the tick's event and deliveries: however many firers run, one
    commits it; one that dies first leaves nothing, and the tick is fired again."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="ticks")
    tick_at = models.DateTimeField()
    # Earlier ticks of the same schedule that were due while nothing fired (all down), and were
    # not fired: the policy is to fire the latest missed tick once.
    missed_before = models.PositiveIntegerField(default=0)
    # No foreign key: the retention purge removes events, the tick's record stays.
    event_id = models.UUIDField(null=True, blank=True)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["rule_id", "-tick_at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "tick_at"], name="schedule_tick_unique"),
        ]
        indexes = [models.Index(fields=["event_id"], name="schedule_tick_event")]

    def __str__(self) -> str:
        return f"{self.rule} @ {self.tick_at.isoformat()}"


class TargetKind(models.TextChoices):
    HANDLER = "handler", "Python handler"
    WEBHOOK = "webhook", "Webhook (HTTP POST)"
    CHANNELS = "channels", "Channels group (websockets)"
    BUS = "bus", "Another event bus"
    API_DESTINATION = "api_destination", "API destination (HTTP API behind a connection)"


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


class Target(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="targets")
    target_id = models.CharField(max_length=64, validators=[target_id_validator])
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    # Kind-specific address: the handler's registered name, the webhook URL, the Channels group
    # template (e.g. "customer.{detail.userId}") or the destination bus's name.
    address = models.CharField(max_length=2048)
    webhook_timeout_seconds = models.FloatField(
        default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(30.0)]
    )
    signing_secret = models.CharField(max_length=128, default=new_signing_secret, blank=True)
    # After a rotation the old secret still signs (a second signature) until this passes.
    previous_signing_secret = models.CharField(max_length=128, blank=True, default="")
    previous_signing_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # An api_destination target's HttpParameters (PathParameterValues, HeaderParameters,
    # QueryStringParameters), as EventBridge takes them.
    http_parameters = models.JSONField(null=True, blank=True)
    # What the target receives: EventBridge's Input / InputPath / InputTransformer (at most one).
    input = models.TextField(blank=True, default="")
    input_path = models.CharField(max_length=256, blank=True, default="")
    input_transformer = models.JSONField(null=True, blank=True)
    max_retry_attempts = models.PositiveSmallIntegerField(
        default=185, validators=[MaxValueValidator(185)]
    )
    max_event_age_seconds = models.PositiveIntegerField(
        default=86400, validators=[MinValueValidator(60), MaxValueValidator(86400)]
    )
    dead_letter_enabled = models.BooleanField(default=True)
    # Accepted and given back as EventBridge does; there is no IAM here to assume it.
    role_arn = models.CharField(max_length=1600, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rule_id", "target_id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "target_id"],
                                    condition=Q(deleted_at__isnull=True),
                                    name="target_unique_live_id_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} → {self.target_id} ({self.kind})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    DEAD = "dead", "Dead letter"
    # Exhausted on a target with dead-lettering off: EventBridge drops such an event.
    DROPPED = "dropped", "Dropped (no dead letter)"


class ExhaustedCondition(models.TextChoices):
    MAX_ATTEMPTS = "MaximumRetryAttempts", "Maximum retry attempts"
    MAX_AGE = "MaximumEventAgeInSeconds", "Maximum event age"
    NOT_RETRYABLE = "NonRetryableError", "Error that retrying cannot fix"


class Delivery(models.Model):
    """One event for one target: unique, claimed atomically before each attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="deliveries")
    rule_revision = models.ForeignKey(RuleRevision, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # Retries stop after this (the target's maximum event age, counted from routing or redrive).
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set by the run that claimed it; only that run may record the attempt's outcome.
    claim_token = models.CharField(max_length=32, blank=True)
    # A running claim not renewed by then lost its worker (routing/services/leases.py).
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the current queue message for it was sent; the sweeper re-sends lost ones.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    exhausted_condition = models.CharField(max_length=32, choices=ExhaustedCondition.choices,
                                           blank=True)
    redrive_count = models.PositiveIntegerField(default=0)
    # attempt_count when last redriven: the retry budget counts from there.
    attempts_before_redrive = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "target"], name="delivery_once_per_target"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["target", "status", "-created_at"], name="delivery_target_status"),
            models.Index(fields=["status", "-finished_at"], name="delivery_status_finished"),
            # The dashboard pages deliveries newest first, filtered by status or not.
            models.Index(fields=["created_at", "id"], name="delivery_created"),
            models.Index(fields=["status", "created_at", "id"], name="delivery_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.target_id}: {self.status}"

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this (event, target): receivers drop repeats by it."""
        return str(self.id)


class AttemptOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    LOST = "lost", "Lost (worker stopped mid-attempt)"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.FloatField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        indexes = [models.Index(fields=["-finished_at"], name="attempt_finished")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.outcome}"


class ArchiveState(models.TextChoices):
    ENABLED = "ENABLED", "Enabled"
    DISABLED = "DISABLED", "Disabled"


class Archive(models.Model):
    """Keeps a copy (a reference: events are immutable) of the bus's events that match."""

    name = models.CharField(max_length=48, unique=True, validators=[rule_name_validator])
    bus = models.ForeignKey(EventBus, on_delete=models.PROTECT, related_name="archives")
    description = models.CharField(max_length=512, blank=True)
    event_pattern = models.JSONField(null=True, blank=True)
    retention_days = models.PositiveIntegerField(default=0, help_text="0 keeps events forever.")
    state = models.CharField(max_length=8, choices=ArchiveState.choices,
                             default=ArchiveState.ENABLED)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:archive/{self.name}"


class ArchivedEvent(models.Model):
    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="entries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="archive_entries")
    # The event's own time, copied so a replay's window is one index range scan.
    event_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["archive", "event"], name="archived_once"),
        ]
        indexes = [models.Index(fields=["archive", "event_time"], name="archive_window")]

    def __str__(self) -> str:
        return f"{self.archive.name}: {self.event_id}"


class ReplayState(models.TextChoices):
    STARTING = "STARTING", "Starting"
    RUNNING = "RUNNING", "Running"
    CANCELLING = "CANCELLING", "Cancelling"
    COMPLETED = "COMPLETED", "Completed"
    CANCELLED = "CANCELLED", "Cancelled"
    FAILED = "FAILED", "Failed"


class Replay(models.Model):
    name = models.CharField(max_length=64, unique=True, validators=[rule_name_validator])
    description = models.CharField(max_length=512, blank=True)
    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="replays")
    destination_bus = models.ForeignKey(EventBus, on_delete=models.PROTECT, related_name="+")
    # Only these rules see the replayed events; empty means every rule on the destination bus.
    filter_rules = models.ManyToManyField(Rule, blank=True, related_name="+")
    event_start_time = models.DateTimeField()
    event_end_time = models.DateTimeField()
    state = models.CharField(max_length=10, choices=ReplayState.choices,
                             default=ReplayState.STARTING)
    state_reason = models.CharField(max_length=512, blank=True)
    total_events = models.PositiveIntegerField(default=0)
    replayed_events = models.PositiveIntegerField(default=0)
    event_last_replayed_time = models.DateTimeField(null=True, blank=True)
    # The walk's keyset: with event_last_replayed_time, the last archive entry replayed. Many
    # entries can share one event time, so the time alone cannot say where to resume.
    last_entry_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # The last sign of life of a run (wall clock): a replay silent for too long lost its worker
    # or its queue message, and the resume job enqueues it again.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="replay_state_heartbeat")]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{region()}:{ACCOUNT_ID}:replay/{self.name}"

    @property
    def is_active(self) -> bool:
        return self.state in {ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING}


class ApiKey(models.Model):
    """A caller of the HTTP API. Only a hash of the key is kept; the key is shown once."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    # Buses this key may publish to; none listed means every bus.
    buses = models.ManyToManyField(EventBus, blank=True, related_name="+")
    # Source patterns it may publish (routing.sources); none: any source not reserved.
    sources = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.name


class AwsCredential(models.Model):
    """A key pair for the AWS-protocol endpoint (routing/aws/), shown once when created.

    SigV4 proves a request with an HMAC keyed by the secret, so the server needs the secret
    itself: it is kept encrypted (Fernet, see routing.aws.credentials), not hashed."""

    name = models.CharField(max_length=100, unique=True)
    access_key_id = models.CharField(max_length=20, unique=True)
    secret_access_key_encrypted = models.TextField()
    # Buses this credential may use; none listed means every bus.
    buses = models.ManyToManyField(EventBus, blank=True, related_name="+")
    # Source patterns it may publish (routing.sources); none: any source not reserved.
    sources = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AWS credential"

    def __str__(self) -> str:
        return f"{self.name} ({self.access_key_id})"


# Connections and API destinations live in a module of their own; importing them here makes
# them models of this app.
from routing.connection_models import (  # noqa: E402, F401
    ApiDestination,
    ApiDestinationState,
    AuthorizationType,
    Connection,
    ConnectionState,
    HttpMethod,
)

# EventBridge Scheduler's models live beside its services; imported here so the app owns them.
from routing.schedules.models import (  # noqa: E402, F401
    Schedule,
    ScheduleFiring,
    ScheduleGroup,
)
