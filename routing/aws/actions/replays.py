"""The EventBridge actions StartReplay, DescribeReplay, ListReplays, CancelReplay."""

from __future__ import annotations

from contextlib import suppress

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    Output,
    actor_of,
    page_output,
)
from routing.aws.auth import AwsCaller
from routing.aws.params import Params, decode_next_token
from routing.errors import NotFound
from routing.models import Replay
from routing.services import (
    archive_get,
    replay_cancel,
    replay_get,
    replay_start,
)


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
        actor=actor_of(caller),
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
    return page_output("Replays", [shapes.replay_shape(replay) for replay in page.items],
                        "ListReplays", page.next_after)


def cancel_replay(params: Params, caller: AwsCaller) -> Output:
    replay = _replay_for(params, caller)
    replay = replay_cancel(name=replay.name, actor=actor_of(caller))
    return shapes.compact({"ReplayArn": replay.arn, "State": replay.state,
                           "StateReason": replay.state_reason})
