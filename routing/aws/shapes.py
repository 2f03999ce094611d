"""The bus's rows in EventBridge's output shapes (botocore's service model for `events`).

Timestamps are seconds since the epoch, as the JSON 1.1 protocol sends them. Members with no
value are left out, as AWS does, rather than sent as null or "".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from routing.models import ACCOUNT_ID, Archive, EventBus, Replay, Rule


def epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def compact(shape: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in shape.items() if value is not None and value != ""}


def pattern_text(pattern: Any) -> str | None:
    # Stored parsed, so it comes back as equivalent JSON (key order and spacing may differ).
    return None if pattern is None else json.dumps(pattern, separators=(",", ":"))


def bus_dead_letter_shape(bus: EventBus) -> dict[str, str] | None:
    from routing.aws.arns import DEAD_LETTER_ARN

    return {"Arn": DEAD_LETTER_ARN} if bus.dead_letter_enabled else None


def bus_shape(bus: EventBus) -> dict[str, Any]:
    return compact({
        "Name": bus.name,
        "Arn": bus.arn,
        "Description": bus.description,
        "DeadLetterConfig": bus_dead_letter_shape(bus),
        "CreationTime": epoch(bus.created_at),
        "LastModifiedTime": epoch(bus.updated_at or bus.created_at),
    })


def rule_shape(rule: Rule) -> dict[str, Any]:
    """A rule as ListRules lists it; DescribeRule adds CreatedBy."""
    return compact({
        "Name": rule.name,
        "Arn": rule.arn,
        "EventPattern": None if rule.schedule_expression else pattern_text(rule.event_pattern),
        "ScheduleExpression": rule.schedule_expression,
        "State": rule.state,
        "Description": rule.description,
        "ManagedBy": rule.managed_by,
        "EventBusName": rule.bus.name,
    })


def rule_detail_shape(rule: Rule) -> dict[str, Any]:
    return {**rule_shape(rule), "CreatedBy": ACCOUNT_ID}


def archive_shape(archive: Archive, event_count: int, size_bytes: int) -> dict[str, Any]:
    """An archive as ListArchives lists it. SizeBytes is the size of the events it holds (see
    routing/aws/selectors.py), though it stores references to them, not copies."""
    return compact({
        "ArchiveName": archive.name,
        "EventSourceArn": archive.bus.arn,
        "State": archive.state,
        "RetentionDays": archive.retention_days,
        "SizeBytes": size_bytes,
        "EventCount": event_count,
        "CreationTime": epoch(archive.created_at),
    })


def archive_detail_shape(archive: Archive, event_count: int, size_bytes: int
                         ) -> dict[str, Any]:
    return compact({
        "ArchiveArn": archive.arn,
        **archive_shape(archive, event_count, size_bytes),
        "Description": archive.description,
        "EventPattern": pattern_text(archive.event_pattern),
    })


def replay_shape(replay: Replay) -> dict[str, Any]:
    """A replay as ListReplays lists it."""
    return compact({
        "ReplayName": replay.name,
        "EventSourceArn": replay.archive.arn,
        "State": replay.state,
        "StateReason": replay.state_reason,
        "EventStartTime": epoch(replay.event_start_time),
        "EventEndTime": epoch(replay.event_end_time),
        "EventLastReplayedTime": epoch(replay.event_last_replayed_time),
        "ReplayStartTime": epoch(replay.started_at or replay.created_at),
        "ReplayEndTime": epoch(replay.ended_at),
    })


def replay_detail_shape(replay: Replay, filter_rule_arns: list[str]) -> dict[str, Any]:
    destination: dict[str, Any] = {"Arn": replay.destination_bus.arn}
    if filter_rule_arns:
        destination["FilterArns"] = filter_rule_arns
    return compact({
        **replay_shape(replay),
        "ReplayArn": replay.arn,
        "Description": replay.description,
        "Destination": destination,
    })
