"""One function per EventBridge action, one module per concern: read the input, check the
caller's buses, call the bus's services, answer in EventBridge's output shape. `ACTIONS` maps each
action's name to its function.

Every rule (names, limits, patterns, replay windows, what a target may be) lives in the services;
these functions only translate between EventBridge's shapes and theirs.
"""

from __future__ import annotations

import json
from typing import Any

from routing.aws.actions import (
    archives,
    buses,
    destinations,
    events,
    replays,
    rules,
    tags,
    targets,
)
from routing.aws.actions.common import Action, Output
from routing.aws.auth import AwsCaller
from routing.aws.params import Params

ACTIONS: dict[str, Action] = {
    "PutEvents": events.put_events_action,
    "TestEventPattern": events.pattern_test,
    "CreateEventBus": buses.create_event_bus,
    "DescribeEventBus": buses.describe_event_bus,
    "ListEventBuses": buses.list_event_buses,
    "UpdateEventBus": buses.update_event_bus,
    "DeleteEventBus": buses.delete_event_bus,
    "PutRule": rules.put_rule_action,
    "DescribeRule": rules.describe_rule,
    "ListRules": rules.list_rules,
    "EnableRule": rules.enable_rule,
    "DisableRule": rules.disable_rule,
    "DeleteRule": rules.delete_rule,
    "ListRuleNamesByTarget": rules.list_rule_names_by_target,
    "PutTargets": targets.put_targets,
    "RemoveTargets": targets.remove_targets,
    "ListTargetsByRule": targets.list_targets_by_rule,
    "CreateArchive": archives.create_archive,
    "DescribeArchive": archives.describe_archive,
    "UpdateArchive": archives.update_archive,
    "ListArchives": archives.list_archives,
    "DeleteArchive": archives.delete_archive,
    "StartReplay": replays.start_replay,
    "DescribeReplay": replays.describe_replay,
    "ListReplays": replays.list_replays,
    "CancelReplay": replays.cancel_replay,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
    **destinations.ACTIONS,
}


def dispatch(action: str, body: dict[str, Any], caller: AwsCaller) -> Output:
    return ACTIONS[action](Params(body), caller)


def dumps(output: Output) -> bytes:
    """None for the actions whose model has no output at all: AWS sends them an empty body."""
    return b"" if output is None else json.dumps(output, separators=(",", ":")).encode()
