"""Rules and targets: every change validated, kept as a revision, and made visible to the
workers' compiled indexes by bumping the bus's rules_version in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from routing import netpolicy
from routing.errors import (
    AccessDenied,
    ConcurrentModification,
    InvalidEventPattern,
    LimitExceeded,
    NotFound,
    ValidationError,
)
from routing.handlers import UnknownHandlerError, get_handler
from routing.models import (
    DEFAULT_BUS_NAME,
    EventBus,
    Rule,
    RuleRevision,
    RuleState,
    Target,
    TargetKind,
    rule_name_validator,
    target_id_validator,
)
from routing.patterns import InvalidPatternError, compile_pattern
from routing.schedules.expressions import InvalidScheduleExpression, parse_expression
from routing.services.callers import CallerScope
from routing.services.quotas import quotas
from routing.services.tags import tags_validate
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import TargetInput


@dataclass(frozen=True)
class Actor:
    """Who made a change, for revisions and audit: a user, an API key or the system.

    `scope` is what an outside caller (API key, AWS credential) was given, and the services
    hold it to that; None is the project itself or a staff user, who may use every target kind.
    """

    label: str
    user: AbstractBaseUser | None = None
    scope: CallerScope | None = None

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(label=what)

    @classmethod
    def for_caller(cls, label: str, *, bus_names: frozenset[str] | None) -> Actor:
        return cls(label=label, scope=CallerScope(bus_names=bus_names))

    def require_bus(self, bus_name: str) -> None:
        """AccessDenied unless this actor may use the bus."""
        if self.scope is not None and not self.scope.may_use_bus(bus_name):
            raise AccessDenied(
                f"This caller may not use event bus {bus_name}; it may use "
                f"{self.scope.describe_buses()}.",
                field="EventBusName",
            )

    @classmethod
    def for_user(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        if isinstance(user, AnonymousUser) or not user.is_authenticated:
            return cls(label="anonymous")
        return cls(label=f"user:{user.get_username()}", user=user)


def _check(validator: Any, value: str, field_name: str) -> None:
    try:
        validator(value)
    except DjangoValidationError as error:
        raise ValidationError(" ".join(error.messages), field=field_name) from None


def _bump_rules_version(bus: EventBus) -> None:
    EventBus.objects.filter(pk=bus.pk).update(rules_version=F("rules_version") + 1)


# Rules ---------------------------------------------------------------------------------------

def parse_event_pattern(pattern: Any) -> dict[str, Any]:
    """Validates with the engine, within the pattern-size quota; the message is EventBridge's,
    `field` the offending path."""
    try:
        compiled = compile_pattern(pattern, max_length=quotas().pattern_characters)
    except InvalidPatternError as error:
        raise InvalidEventPattern(str(error), field=getattr(error, "path", None)) from None
    if isinstance(pattern, str):
        parsed: dict[str, Any] = json.loads(pattern)
        return parsed
    del compiled
    return dict(pattern)


def _target_snapshot(target: Target) -> dict[str, Any]:
    return {
        "Id": target.target_id,
        "Kind": target.kind,
        "Address": target.address,
        **target_input_of(target).to_aws(),
        "RetryPolicy": {
            "MaximumRetryAttempts": target.max_retry_attempts,
            "MaximumEventAgeInSeconds": target.max_event_age_seconds,
        },
        "DeadLetter": target.dead_letter_enabled,
    }


def _record_revision(rule: Rule, *, change: str, actor: Actor, deleted: bool = False) -> None:
    targets = [_target_snapshot(t) for t in rule.targets.filter(deleted_at__isnull=True)]
    RuleRevision.objects.create(
        rule=rule,
        bus_id=rule.bus_id,
        number=rule.revision,
        event_pattern=rule.event_pattern,
        state=rule.state,
        schedule_expression=rule.schedule_expression,
        description=rule.description,
        targets=targets,
        change=change[:200],
        deleted=deleted,
        changed_by=actor.user if isinstance(actor.user, User) else None,
        changed_by_label=actor.label[:200],
    )


def _next_revision(rule: Rule, *, change: str, actor: Actor, deleted: bool = False) -> None:
    rule.revision += 1
    rule.save(update_fields=["event_pattern", "state", "description", "revision", "deleted_at",
                             "schedule_expression", "schedule_started_at", "updated_at"])
    _record_revision(rule, change=change, actor=actor, deleted=deleted)
    _bump_rules_version(rule.bus)


def rule_get(*, bus_name: str, name: str) -> Rule:
    try:
        return Rule.objects.select_related("bus").get(
            bus__name=bus_name, name=name, deleted_at__isnull=True
        )
    except Rule.DoesNotExist:
        raise NotFound(f"Rule {name} does not exist on EventBus {bus_name}.", field="Name") \
            from None


def _pattern_or_schedule(bus_name: str, event_pattern: Any,
                         schedule_expression: str) -> tuple[dict[str, Any], str]:
    """A rule matches a pattern or fires on a schedule (then its stored pattern is {})."""
    if not schedule_expression:
        if event_pattern is None:
            raise ValidationError(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
                field="EventPattern")
        return parse_event_pattern(event_pattern), ""
    if event_pattern is not None:
        raise ValidationError("A rule here has an EventPattern or a ScheduleExpression, not "
                              "both (see docs/schedules.md).", field="ScheduleExpression")
    if bus_name != DEFAULT_BUS_NAME:
        raise ValidationError("ScheduleExpression is supported only on the default event bus.",
                              field="ScheduleExpression")
    try:
        parse_expression(schedule_expression)
    except InvalidScheduleExpression as error:
        raise ValidationError(str(error), field="ScheduleExpression") from None
    return {}, schedule_expression


def _schedule_restart(rule: Rule, *, was_enabled: bool, old_expression: str) -> None:
    """A schedule counts its ticks from when it was last started, changed or enabled again."""
    if not rule.schedule_expression:
        rule.schedule_started_at = None
    elif (rule.schedule_expression != old_expression or rule.schedule_started_at is None
          or (not was_enabled and rule.state == RuleState.ENABLED)):
        rule.schedule_started_at = timezone.now()


def rule_put(
    *,
    bus_name: str,
    name: str,
    event_pattern: Any,
    actor: Actor,
    state: str = RuleState.ENABLED,
    description: str = "",
    managed_by: str = "",
    expected_revision: int | None = None,
    schedule_expression: str = "",
    tags: Mapping[str, str] | None = None,
) -> Rule:
    """PutRule: creates the rule, or replaces its pattern (or schedule), state and description.
    `tags` are the new rule's; given for an existing rule, they are added to its tags.

    `expected_revision` guards an editor's save: the rule must still be at that revision (0: it
    must not exist yet), checked under the bus's lock, or ConcurrentModification is raised."""
    _check(rule_name_validator, name, "Name")
    if state not in RuleState.values:
        raise ValidationError(f"State must be one of {', '.join(RuleState.values)}.",
                              field="State")
    if len(description) > 512:
        raise ValidationError("Description is longer than 512 characters.", field="Description")
    actor.require_bus(bus_name)
    pattern, schedule = _pattern_or_schedule(bus_name, event_pattern, schedule_expression)
    new_tags = tags_validate(tags or {})
    with transaction.atomic():
        bus = EventBus.objects.select_for_update().filter(name=bus_name).first()
        if bus is None:
            raise NotFound(f"Event bus {bus_name} does not exist.", field="EventBusName")
        rule = Rule.objects.filter(bus=bus, name=name, deleted_at__isnull=True).first()
        current = rule.revision if rule is not None else 0
        if expected_revision is not None and expected_revision != current:
            if rule is None:
                message = f"Rule {name} no longer exists on EventBus {bus_name}."
            elif expected_revision == 0:
                message = f"Rule {name} already exists on EventBus {bus_name}."
            else:
                message = (f"Rule {name} was changed meanwhile: it is at revision {current}, "
                           f"not {expected_revision}.")
            raise ConcurrentModification(message, field="Name")
        if rule is None:
            limit = quotas().rules_per_bus
            if Rule.objects.filter(bus=bus, deleted_at__isnull=True).count() >= limit:
                raise LimitExceeded(
                    f"The requested resource exceeds the maximum number allowed: event bus "
                    f"{bus_name} has {limit} rules, its most (ROUTING_MAX_RULES_PER_BUS).",
                    field="Name")
            rule = Rule.objects.create(
                bus=bus, name=name, event_pattern=pattern, state=state,
                description=description, managed_by=managed_by, revision=1,
                schedule_expression=schedule,
                schedule_started_at=timezone.now() if schedule else None, tags=new_tags,
            )
            _record_revision(rule, change="created", actor=actor)
            _bump_rules_version(bus)
            return rule
        if rule.managed_by and rule.managed_by != managed_by:
            raise ValidationError(
                f"Rule {name} is managed by {rule.managed_by} and cannot be changed here.",
                field="Name",
            )
        if new_tags:
            rule.tags = tags_validate({**rule.tags, **new_tags})
            rule.save(update_fields=["tags"])
        changes = [
            label for label, changed in (
                ("pattern", rule.event_pattern != pattern),
                ("schedule", rule.schedule_expression != schedule),
                ("state", rule.state != state),
                ("description", rule.description != description),
            ) if changed
        ]
        if not changes:
            return rule
        was_enabled, old_expression = rule.state == RuleState.ENABLED, rule.schedule_expression
        rule.event_pattern, rule.state, rule.description = pattern, state, description
        rule.schedule_expression = schedule
        _schedule_restart(rule, was_enabled=was_enabled, old_expression=old_expression)
        _next_revision(rule, change="changed " + ", ".join(changes), actor=actor)
        return rule


def _lock_live_rule(rule: Rule, *, for_change: bool = True) -> Rule:
    """The rule, locked for this transaction; refuses deleted rules (and, for changes, rules a
    system feature owns)."""
    locked = Rule.objects.select_for_update().select_related("bus").get(pk=rule.pk)
    if locked.deleted_at is not None:
        raise NotFound(f"Rule {locked.name} does not exist on EventBus {locked.bus.name}.",
                       field="Name")
    if for_change and locked.managed_by:
        raise ValidationError(
            f"Rule {locked.name} is managed by {locked.managed_by} and cannot be changed here.",
            field="Name",
        )
    return locked


def rule_set_state(*, rule: Rule, state: str, actor: Actor) -> Rule:
    if state not in RuleState.values:
        raise ValidationError(f"State must be one of {', '.join(RuleState.values)}.",
                              field="State")
    with transaction.atomic():
        rule = _lock_live_rule(rule)
        if rule.state != state:
            was_enabled = rule.state == RuleState.ENABLED
            rule.state = state
            _schedule_restart(rule, was_enabled=was_enabled,
                              old_expression=rule.schedule_expression)
            _next_revision(rule, change="enabled" if state == RuleState.ENABLED else "disabled",
                           actor=actor)
    return rule


def rule_delete(*, rule: Rule, actor: Actor, force: bool = False) -> None:
    """DeleteRule. As in EventBridge, a rule with targets is refused unless `force`."""
    with transaction.atomic():
        rule = _lock_live_rule(rule)
        live_targets = rule.targets.filter(deleted_at__isnull=True)
        if live_targets.exists() and not force:
            raise ValidationError("Rule can't be deleted since it has targets.", field="Name")
        now = timezone.now()
        live_targets.update(deleted_at=now)
        rule.deleted_at = now
        _next_revision(rule, change="deleted", actor=actor, deleted=True)


def rule_restore_revision(*, rule: Rule, number: int, actor: Actor) -> Rule:
    """Makes the rule's pattern, state and description what they were at revision `number`."""
    try:
        revision = rule.revisions.get(number=number)
    except RuleRevision.DoesNotExist:
        raise NotFound(f"Rule {rule.name} has no revision {number}.", field="Revision") from None
    with transaction.atomic():
        rule = _lock_live_rule(rule)
        was_enabled, old_expression = rule.state == RuleState.ENABLED, rule.schedule_expression
        rule.event_pattern = revision.event_pattern
        rule.state = revision.state
        rule.description = revision.description
        rule.schedule_expression = revision.schedule_expression
        _schedule_restart(rule, was_enabled=was_enabled, old_expression=old_expression)
        _next_revision(rule, change=f"restored revision {number}", actor=actor)
    return rule


# Targets -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetSpec:
    target_id: str
    kind: str
    address: str
    target_input: TargetInput = field(default_factory=TargetInput)
    max_retry_attempts: int = 185
    max_event_age_seconds: int = 86400
    dead_letter_enabled: bool = True
    webhook_timeout_seconds: float = 5.0
    role_arn: str = ""
    # api_destination targets only: EventBridge's HttpParameters.
    http_parameters: dict[str, Any] | None = None


def target_input_of(target: Target) -> TargetInput:
    return TargetInput.from_aws({
        key: value for key, value in (
            ("Input", target.input or None),
            ("InputPath", target.input_path or None),
            ("InputTransformer", target.input_transformer),
        ) if value is not None
    })


def _webhook_url_validate(address: str) -> None:
    outbound_url_validate(address, field="Address", what="Webhook URL")


def outbound_url_validate(address: str, *, field: str, what: str) -> None:
    """An http(s) URL whose host, as the sender's and Python's parsers both read it, is no
    spelling of an address the address policy refuses (the sender checks again at each send,
    by what the name resolves to). For webhooks, API destinations and OAuth endpoints."""
    parts = urlsplit(address)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            "A webhook target needs an http:// or https:// URL." if what == "Webhook URL"
            else f"{what} must be an http:// or https:// URL.", field=field)
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no user-info, path or query
    _outbound_host_validate(parts.hostname, shown, field, what)
    try:
        sender_host = httpx.URL(address).raw_host.decode("ascii")
    except httpx.InvalidURL as error:
        raise ValidationError(f"{what} {shown} is not a valid URL: {error}.",
                              field=field) from None
    _outbound_host_validate(sender_host, shown, field, what)


def _outbound_host_validate(host: str, shown: str, field: str, what: str) -> None:
    try:
        reason = netpolicy.host_refusal(host)
    except netpolicy.InvalidHostError as error:
        raise ValidationError(f"{what} {shown} is refused: {error}.", field=field) from None
    message = netpolicy.refusal_message(
        f"{what} {shown}", [reason],
        allow_private=settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)
    if message is not None:
        raise ValidationError(message, field=field)


# The project's own: a handler acts inside the shop, a Channels group reaches its pages.
SYSTEM_TARGET_KINDS = frozenset({TargetKind.HANDLER, TargetKind.CHANNELS})


def target_access_check(spec: TargetSpec, *, actor: Actor) -> None:
    """AccessDenied, naming the target, for one the actor may not create: an outside caller
    creates only webhooks and bus targets to buses it may use."""
    scope = actor.scope
    if scope is None:
        return
    if spec.kind in SYSTEM_TARGET_KINDS:
        raise AccessDenied(
            f"Target {spec.target_id} ({spec.kind} {spec.address}) is refused: {spec.kind} "
            "targets belong to the project itself (its own rules, or staff in the dashboard); "
            "an API caller may create webhook targets and bus targets to its own buses.",
            field="Address",
        )
    if spec.kind == TargetKind.BUS and not scope.may_use_bus(spec.address):
        raise AccessDenied(
            f"Target {spec.target_id} (bus {spec.address}) is refused: this caller may not "
            f"send events to event bus {spec.address}; it may use {scope.describe_buses()}.",
            field="Address",
        )


def target_validate(spec: TargetSpec, bus: EventBus) -> None:
    """Raises ValidationError (naming the field) for a target the bus would refuse."""
    _check(target_id_validator, spec.target_id, "Id")
    if spec.kind not in TargetKind.values:
        raise ValidationError(f"Target kind must be one of {', '.join(TargetKind.values)}.",
                              field="Kind")
    if not spec.address:
        raise ValidationError("Target address is required.", field="Address")
    if spec.kind == TargetKind.HANDLER:
        try:
            get_handler(spec.address)
        except UnknownHandlerError as error:
            raise ValidationError(str(error), field="Address") from None
    elif spec.kind == TargetKind.WEBHOOK:
        _webhook_url_validate(spec.address)
        if not 0.1 <= spec.webhook_timeout_seconds <= 30:
            raise ValidationError("Webhook timeout must be between 0.1 and 30 seconds.",
                                  field="Timeout")
    elif spec.kind == TargetKind.CHANNELS:
        from routing.transform.group_names import validate_group_template

        try:
            validate_group_template(spec.address)
        except ValueError as error:
            raise ValidationError(str(error), field="Address") from None
    elif spec.kind == TargetKind.BUS:
        if spec.address == bus.name:
            raise ValidationError("A bus target cannot forward to the rule's own bus.",
                                  field="Address")
        if not EventBus.objects.filter(name=spec.address).exists():
            raise ValidationError(f"Event bus {spec.address} does not exist.", field="Address")
    elif spec.kind == TargetKind.API_DESTINATION:
        from routing.services.destination_targets import api_destination_target_validate

        api_destination_target_validate(spec.address, spec.http_parameters)
    if spec.http_parameters and spec.kind != TargetKind.API_DESTINATION:
        raise ValidationError("HttpParameters are for API destination targets only.",
                              field="HttpParameters")
    if not 0 <= spec.max_retry_attempts <= 185:
        raise ValidationError("MaximumRetryAttempts must be between 0 and 185.",
                              field="RetryPolicy.MaximumRetryAttempts")
    if not 60 <= spec.max_event_age_seconds <= 86400:
        raise ValidationError("MaximumEventAgeInSeconds must be between 60 and 86400.",
                              field="RetryPolicy.MaximumEventAgeInSeconds")
    try:
        spec.target_input.validate(target_id=spec.target_id)
    except InvalidTargetInputError as error:
        raise ValidationError(str(error), field=error.field) from None
    # As EventBridge within one account: InputPath may pick the event to forward (which must
    # still be a whole event); Input and InputTransformer would make it something else.
    if spec.kind == TargetKind.BUS and spec.target_input.to_aws().keys() - {"InputPath"}:
        raise ValidationError(
            "A bus target forwards an event: Input and InputTransformer are not allowed "
            "(InputPath is).",
            field="Input",
        )


@dataclass(frozen=True)
class TargetFailure:
    target_id: str
    code: str
    message: str

    def as_aws(self) -> dict[str, str]:
        return {"TargetId": self.target_id, "ErrorCode": self.code, "ErrorMessage": self.message}


def targets_put(*, rule: Rule, targets: Sequence[TargetSpec], actor: Actor) -> list[TargetFailure]:
    """PutTargets: adds or replaces targets by Id; each bad one (or one the actor may not
    create) fails alone. A rule on a bus the actor may not use, or that the call would take
    past its most targets, refuses the whole call (as EventBridge does)."""
    failures: list[TargetFailure] = []
    with transaction.atomic():
        rule = _lock_live_rule(rule)
        actor.require_bus(rule.bus.name)
        live = {t.target_id: t for t in rule.targets.filter(deleted_at__isnull=True)}
        accepted: list[TargetSpec] = []
        for spec in targets:
            try:
                target_access_check(spec, actor=actor)
                target_validate(spec, rule.bus)
            except (AccessDenied, ValidationError) as error:
                failures.append(TargetFailure(spec.target_id, error.code, error.message))
                continue
            accepted.append(spec)
        limit = quotas().targets_per_rule
        if len(live.keys() | {spec.target_id for spec in accepted}) > limit:
            raise LimitExceeded(
                f"The requested resource exceeds the maximum number allowed: rule {rule.name} "
                f"would have more than {limit} targets (ROUTING_MAX_TARGETS_PER_RULE).",
                field="Targets")
        changed = False
        for spec in accepted:
            is_new = spec.target_id not in live
            aws_input = spec.target_input.to_aws()
            values = {
                "kind": spec.kind,
                "address": spec.address,
                "input": aws_input.get("Input", ""),
                "input_path": aws_input.get("InputPath", ""),
                "input_transformer": aws_input.get("InputTransformer"),
                "max_retry_attempts": spec.max_retry_attempts,
                "max_event_age_seconds": spec.max_event_age_seconds,
                "dead_letter_enabled": spec.dead_letter_enabled,
                "webhook_timeout_seconds": spec.webhook_timeout_seconds,
                "role_arn": spec.role_arn,
                "http_parameters": spec.http_parameters or None,
            }
            if not is_new:
                # A target's history (its deliveries) belongs to the old configuration, so a
                # replaced target is retired and a new row takes its place.
                old = live[spec.target_id]
                if all(getattr(old, key) == value for key, value in values.items()):
                    continue
                old.deleted_at = timezone.now()
                old.save(update_fields=["deleted_at"])
            # A replaced webhook keeps signing with its secrets: its receiver knows them.
            kept = {} if is_new else {
                "signing_secret": old.signing_secret,
                "previous_signing_secret": old.previous_signing_secret,
                "previous_signing_secret_expires_at": old.previous_signing_secret_expires_at,
            }
            live[spec.target_id] = Target.objects.create(
                rule=rule, target_id=spec.target_id, **values, **kept
            )
            changed = True
        if changed:
            names = ", ".join(spec.target_id for spec in targets
                              if spec.target_id not in {f.target_id for f in failures})
            _next_revision(rule, change=f"targets set: {names}", actor=actor)
    return failures


def targets_remove(*, rule: Rule, target_ids: Sequence[str], actor: Actor) -> list[TargetFailure]:
    failures: list[TargetFailure] = []
    with transaction.atomic():
        rule = _lock_live_rule(rule)
        live = {t.target_id: t for t in rule.targets.filter(deleted_at__isnull=True)}
        removed = []
        for target_id in target_ids:
            target = live.get(target_id)
            if target is None:
                failures.append(TargetFailure(target_id, NotFound.code,
                                              f"Target {target_id} does not exist."))
                continue
            target.deleted_at = timezone.now()
            target.save(update_fields=["deleted_at"])
            removed.append(target_id)
        if removed:
            _next_revision(rule, change=f"targets removed: {', '.join(removed)}", actor=actor)
    return failures
