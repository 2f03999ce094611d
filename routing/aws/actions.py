"""One function per EventBridge action: read the input, check the caller's buses, call the bus's
services, answer in EventBridge's output shape. `ACTIONS` maps each action's name to its function.

Every rule (names, limits, patterns, replay windows, what a target may be) lives in the services;
these functions only translate between EventBridge's shapes and theirs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from routing.aws import selectors, shapes
from routing.aws.arns import target_from_arn, target_spec_from_aws, target_to_aws
from routing.aws.auth import AwsCaller
from routing.aws.errors import AccessDenied, ManagedRule
from routing.aws.params import Params, decode_next_token, encode_next_token
from routing.errors import NotFound, RoutingError, ValidationError
from routing.models import DEFAULT_BUS_NAME, Archive, Replay, Rule, RuleState
from routing.services import (
    Actor,
    TargetSpec,
    archive_create,
    archive_delete,
    archive_get,
    archive_update,
    bus_create,
    bus_delete,
    bus_get,
    put_events,
    replay_cancel,
    replay_get,
    replay_start,
    rule_delete,
    rule_get,
    rule_put,
    rule_set_state,
    targets_put,
    targets_remove,
)
from routing.services.archives import UNSET
from routing.services.patterns import pattern_test as service_pattern_test
from routing.services.publish import bus_name_from_reference
from routing.services.rules import TargetFailure

Output = dict[str, Any] | None
Action = Callable[[Params, AwsCaller], Output]

# EventBridge's documented cap on one PutTargets call (its public model says 100).
MAX_TARGETS_PER_CALL = 10
MAX_TARGET_IDS_PER_CALL = 100
NO_TAGS = "tags are not kept."
NO_KMS = "events are stored by the bus's own database, not encrypted with a KMS key."


def _actor(caller: AwsCaller) -> Actor:
    return Actor.for_caller(caller.label, bus_names=caller.bus_names)


def _bus_name(params: Params, member: str = "EventBusName") -> str:
    reference = params.string(member)
    return bus_name_from_reference(reference) if reference else DEFAULT_BUS_NAME


def _page_output(items_key: str, items: list[Any], action: str, next_after: str | None
                 ) -> dict[str, Any]:
    output: dict[str, Any] = {items_key: items}
    if next_after is not None:
        output["NextToken"] = encode_next_token(action, next_after)
    return output


@contextmanager
def _managed_rule_errors(rule: Rule) -> Iterator[None]:
    """The services refuse changes to a rule a system feature manages with a ValidationError;
    EventBridge names that ManagedRuleException."""
    try:
        yield
    except ValidationError as error:
        if rule.managed_by:
            raise ManagedRule(error.message, field=error.field) from None
        raise


def _live_rule(params: Params, caller: AwsCaller, member: str = "Name") -> Rule:
    bus_name = _bus_name(params)
    caller.require_bus(bus_name)
    return rule_get(bus_name=bus_name, name=params.required_string(member))


# Events ----------------------------------------------------------------------------------------

def put_events_action(params: Params, caller: AwsCaller) -> Output:
    params.refuse("EndpointId", why="there are no global endpoints; send to the bus itself.")
    entries = params.items("Entries", required=True)
    allowed = caller.bus_names
    result = put_events(entries, publisher=caller.publisher, allowed_sources=caller.sources,
                        allowed_bus_names=None if allowed is None else set(allowed))
    return result.as_aws()


def pattern_test(params: Params, caller: AwsCaller) -> Output:
    return {"Result": service_pattern_test(event_pattern=params.required_string("EventPattern"),
                                           event=params.required_string("Event"))}


# Event buses -----------------------------------------------------------------------------------

def create_event_bus(params: Params, caller: AwsCaller) -> Output:
    params.refuse("EventSourceName", why="there are no partner event sources.")
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    params.refuse("DeadLetterConfig", why="dead letters are set per target (see PutTargets).")
    params.refuse("LogConfig", why="the bus keeps every delivery attempt itself.")
    params.refuse("Tags", why=NO_TAGS)
    if caller.bus_names is not None:
        raise AccessDenied("This credential is limited to some event buses: it cannot create "
                           "new ones.", field="Name")
    bus = bus_create(name=params.required_string("Name"),
                     description=params.string("Description") or "", actor=_actor(caller))
    return shapes.compact({"EventBusArn": bus.arn, "Description": bus.description})


def describe_event_bus(params: Params, caller: AwsCaller) -> Output:
    name = _bus_name(params, "Name")
    caller.require_bus(name)
    return shapes.bus_shape(bus_get(name))


def list_event_buses(params: Params, caller: AwsCaller) -> Output:
    page = selectors.buses_page(prefix=params.string("NamePrefix"), allowed=caller.bus_names,
                                after=decode_next_token(params, "ListEventBuses"),
                                limit=params.limit())
    return _page_output("EventBuses", [shapes.bus_shape(bus) for bus in page.items],
                        "ListEventBuses", page.next_after)


def delete_event_bus(params: Params, caller: AwsCaller) -> Output:
    name = params.required_string("Name")
    caller.require_bus(name)
    bus_delete(name=name, actor=_actor(caller))
    return None


# Rules -----------------------------------------------------------------------------------------

def put_rule_action(params: Params, caller: AwsCaller) -> Output:
    params.refuse("Tags", why=NO_TAGS)
    bus_name = _bus_name(params)
    caller.require_bus(bus_name)
    # RoleArn is accepted and ignored: there is no IAM here, the bus delivers as itself.
    rule = rule_put(
        bus_name=bus_name,
        name=params.required_string("Name"),
        event_pattern=params.string("EventPattern"),
        schedule_expression=params.string("ScheduleExpression") or "",
        state=params.string("State") or RuleState.ENABLED,
        description=params.string("Description") or "",
        actor=_actor(caller),
    )
    return {"RuleArn": rule.arn}


def describe_rule(params: Params, caller: AwsCaller) -> Output:
    return shapes.rule_detail_shape(_live_rule(params, caller))


def list_rules(params: Params, caller: AwsCaller) -> Output:
    bus_name = _bus_name(params)
    caller.require_bus(bus_name)
    page = selectors.rules_page(bus=bus_get(bus_name), prefix=params.string("NamePrefix"),
                                after=decode_next_token(params, "ListRules"),
                                limit=params.limit())
    return _page_output("Rules", [shapes.rule_shape(rule) for rule in page.items],
                        "ListRules", page.next_after)


def _set_state(params: Params, caller: AwsCaller, state: str) -> Output:
    rule = _live_rule(params, caller)
    with _managed_rule_errors(rule):
        rule_set_state(rule=rule, state=state, actor=_actor(caller))
    return None


def enable_rule(params: Params, caller: AwsCaller) -> Output:
    return _set_state(params, caller, RuleState.ENABLED)


def disable_rule(params: Params, caller: AwsCaller) -> Output:
    return _set_state(params, caller, RuleState.DISABLED)


def delete_rule(params: Params, caller: AwsCaller) -> Output:
    rule = _live_rule(params, caller)
    with _managed_rule_errors(rule):
        rule_delete(rule=rule, force=bool(params.boolean("Force")), actor=_actor(caller))
    return None


def list_rule_names_by_target(params: Params, caller: AwsCaller) -> Output:
    bus_name = _bus_name(params)
    caller.require_bus(bus_name)
    bus = bus_get(bus_name)
    after = decode_next_token(params, "ListRuleNamesByTarget")
    limit = params.limit()
    try:
        kind, address = target_from_arn(params.required_string("TargetArn"))
    except ValidationError:
        # No rule can have a target this bus cannot deliver to.
        return {"RuleNames": []}
    page = selectors.rule_names_by_target_page(bus=bus, kind=kind, address=address,
                                               after=after, limit=limit)
    return _page_output("RuleNames", page.items, "ListRuleNamesByTarget", page.next_after)


# Targets ---------------------------------------------------------------------------------------

def _failed_entries(failures: list[TargetFailure]) -> dict[str, Any]:
    # A target that came without an Id fails with none (the shape's TargetId is 1+ characters).
    return {"FailedEntryCount": len(failures),
            "FailedEntries": [shapes.compact(failure.as_aws()) for failure in failures]}


def put_targets(params: Params, caller: AwsCaller) -> Output:
    rule = _live_rule(params, caller, "Rule")
    entries = params.structures("Targets", required=True, max_items=MAX_TARGETS_PER_CALL) or []
    # Each target stands or falls alone, as in the services: one that cannot be read here
    # fails with its own error, and the others are still put.
    failures: dict[int, TargetFailure] = {}
    specs: list[tuple[int, TargetSpec]] = []
    for position, entry in enumerate(entries):
        target_id = entry.raw("Id") if isinstance(entry.raw("Id"), str) else ""
        try:
            spec = target_spec_from_aws(entry)
        except RoutingError as error:
            failures[position] = TargetFailure(target_id, error.code, error.message)
            continue
        specs.append((position, spec))
    if specs:
        with _managed_rule_errors(rule):
            refused_by_bus = targets_put(rule=rule, targets=[spec for _, spec in specs],
                                         actor=_actor(caller))
        # The services report failures in request order, by Id (which a request may repeat).
        remaining = list(refused_by_bus)
        for position, spec in specs:
            match = next((failure for failure in remaining
                          if failure.target_id == spec.target_id), None)
            if match is not None:
                remaining.remove(match)
                failures[position] = match
    return _failed_entries([failures[position] for position in sorted(failures)])


def remove_targets(params: Params, caller: AwsCaller) -> Output:
    rule = _live_rule(params, caller, "Rule")
    ids = params.string_list("Ids", required=True, max_items=MAX_TARGET_IDS_PER_CALL) or []
    # Force only matters for rules other AWS services manage; such rules are refused here.
    params.boolean("Force")
    with _managed_rule_errors(rule):
        failures = targets_remove(rule=rule, target_ids=ids, actor=_actor(caller))
    return _failed_entries(failures)


def list_targets_by_rule(params: Params, caller: AwsCaller) -> Output:
    rule = _live_rule(params, caller, "Rule")
    page = selectors.targets_page(rule=rule, after=decode_next_token(params, "ListTargetsByRule"),
                                  limit=params.limit())
    return _page_output("Targets", [target_to_aws(target) for target in page.items],
                        "ListTargetsByRule", page.next_after)


# Archives --------------------------------------------------------------------------------------

def _archive_for(params: Params, caller: AwsCaller) -> Archive:
    archive = archive_get(params.required_string("ArchiveName"))
    caller.require_bus(archive.bus.name)
    return archive


def create_archive(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    bus_name = bus_name_from_reference(params.required_string("EventSourceArn"))
    caller.require_bus(bus_name)
    archive = archive_create(
        name=params.required_string("ArchiveName"),
        bus_name=bus_name,
        event_pattern=params.string("EventPattern"),
        retention_days=params.integer("RetentionDays", minimum=0) or 0,
        description=params.string("Description") or "",
        actor=_actor(caller),
    )
    return {"ArchiveArn": archive.arn, "State": archive.state,
            "CreationTime": shapes.epoch(archive.created_at)}


def describe_archive(params: Params, caller: AwsCaller) -> Output:
    archive = _archive_for(params, caller)
    return shapes.archive_detail_shape(archive, selectors.archive_event_count(archive))


def update_archive(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    archive = _archive_for(params, caller)
    retention_days = params.integer("RetentionDays", minimum=0)
    archive = archive_update(
        name=archive.name,
        event_pattern=params.string("EventPattern") if params.present("EventPattern") else UNSET,
        retention_days=UNSET if retention_days is None else retention_days,
        description=params.string("Description") or "" if params.present("Description") else UNSET,
        actor=_actor(caller),
    )
    return {"ArchiveArn": archive.arn, "State": archive.state,
            "CreationTime": shapes.epoch(archive.created_at)}


def list_archives(params: Params, caller: AwsCaller) -> Output:
    source = params.string("EventSourceArn")
    page = selectors.archives_page(
        prefix=params.string("NamePrefix"),
        bus_name=bus_name_from_reference(source) if source else None,
        state=params.string("State"),
        allowed=caller.bus_names,
        after=decode_next_token(params, "ListArchives"),
        limit=params.limit(),
    )
    return _page_output("Archives",
                        [shapes.archive_shape(archive, count) for archive, count in page.items],
                        "ListArchives", page.next_after)


def delete_archive(params: Params, caller: AwsCaller) -> Output:
    archive = _archive_for(params, caller)
    archive_delete(name=archive.name, actor=_actor(caller))
    return {}


# Replays ---------------------------------------------------------------------------------------

def _replay_for(params: Params, caller: AwsCaller) -> Replay:
    replay = replay_get(params.required_string("ReplayName"))
    caller.require_bus(replay.destination_bus.name)
    return replay


def start_replay(params: Params, caller: AwsCaller) -> Output:
    archive_reference = params.required_string("EventSourceArn")
    destination = params.required_structure("Destination")
    # A missing archive is for replay_start to report, in StartReplay's own words.
    with suppress(NotFound):
        caller.require_bus(archive_get(archive_reference).bus.name)
    replay = replay_start(
        name=params.required_string("ReplayName"),
        archive_name=archive_reference,
        event_start_time=params.required_timestamp("EventStartTime"),
        event_end_time=params.required_timestamp("EventEndTime"),
        destination_bus_name=destination.required_string("Arn"),
        filter_rule_names=destination.string_list("FilterArns") or [],
        description=params.string("Description") or "",
        actor=_actor(caller),
    )
    return shapes.compact({
        "ReplayArn": replay.arn,
        "State": replay.state,
        "StateReason": replay.state_reason,
        "ReplayStartTime": shapes.epoch(replay.started_at or replay.created_at),
    })


def describe_replay(params: Params, caller: AwsCaller) -> Output:
    replay = _replay_for(params, caller)
    return shapes.replay_detail_shape(replay, selectors.replay_filter_rule_arns(replay))


def list_replays(params: Params, caller: AwsCaller) -> Output:
    source = params.string("EventSourceArn")
    archive_name = None
    if source:
        try:
            archive_name = archive_get(source).name
        except NotFound:
            return {"Replays": []}
    page = selectors.replays_page(
        prefix=params.string("NamePrefix"),
        state=params.string("State"),
        archive_name=archive_name,
        allowed=caller.bus_names,
        after=decode_next_token(params, "ListReplays"),
        limit=params.limit(),
    )
    return _page_output("Replays", [shapes.replay_shape(replay) for replay in page.items],
                        "ListReplays", page.next_after)


def cancel_replay(params: Params, caller: AwsCaller) -> Output:
    replay = _replay_for(params, caller)
    replay = replay_cancel(name=replay.name, actor=_actor(caller))
    return shapes.compact({"ReplayArn": replay.arn, "State": replay.state,
                           "StateReason": replay.state_reason})


ACTIONS: dict[str, Action] = {
    "PutEvents": put_events_action,
    "TestEventPattern": pattern_test,
    "CreateEventBus": create_event_bus,
    "DescribeEventBus": describe_event_bus,
    "ListEventBuses": list_event_buses,
    "DeleteEventBus": delete_event_bus,
    "PutRule": put_rule_action,
    "DescribeRule": describe_rule,
    "ListRules": list_rules,
    "EnableRule": enable_rule,
    "DisableRule": disable_rule,
    "DeleteRule": delete_rule,
    "ListRuleNamesByTarget": list_rule_names_by_target,
    "PutTargets": put_targets,
    "RemoveTargets": remove_targets,
    "ListTargetsByRule": list_targets_by_rule,
    "CreateArchive": create_archive,
    "DescribeArchive": describe_archive,
    "UpdateArchive": update_archive,
    "ListArchives": list_archives,
    "DeleteArchive": delete_archive,
    "StartReplay": start_replay,
    "DescribeReplay": describe_replay,
    "ListReplays": list_replays,
    "CancelReplay": cancel_replay,
}


def _register_destinations() -> None:
    from routing.aws.destinations import ACTIONS as DESTINATION_ACTIONS

    ACTIONS.update(DESTINATION_ACTIONS)


_register_destinations()


def dispatch(action: str, body: dict[str, Any], caller: AwsCaller) -> Output:
    return ACTIONS[action](Params(body), caller)


def dumps(output: Output) -> bytes:
    """None for the actions whose model has no output at all: AWS sends them an empty body."""
    return b"" if output is None else json.dumps(output, separators=(",", ":")).encode()
