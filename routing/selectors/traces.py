"""Reads that span relations: an event's whole trace, deliveries at a glance, API keys.

Each returns plain data (JSON-ready dicts and lists) in a fixed, small number of queries, so the
API and the dashboard render the same thing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db.models import Prefetch

from routing.errors import NotFound
from routing.models import (
    ApiKey,
    ArchivedEvent,
    Delivery,
    DeliveryStatus,
    Event,
    PendingRoute,
    ScheduleTick,
    TargetKind,
)
from routing.publishers import PublisherKind
from routing.schedules.models import ScheduleFiring
from routing.timestamps import utc_timestamp

REDACTED = "***"



def _looks_secret(segment: str) -> bool:
    # Slack's and Discord's webhook URLs carry their token as a path segment: long, mixing
    # letters and digits. Ids people read (`orders`, `v1`, a numeric id) stay visible.
    return (len(segment) >= 16 and any(c.isdigit() for c in segment)
            and any(c.isalpha() for c in segment))


def public_target_address(kind: str, address: str) -> str:
    """A target's address with anything that may be a secret masked.

    Webhook URLs carry credentials often enough that a webhook's user-info, every query value
    and every token-like path segment is masked; the other kinds' addresses (handler names,
    group templates, bus names) are not secret."""
    if kind != TargetKind.WEBHOOK:
        return address
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return REDACTED
    if ":" in host:
        host = f"[{host}]"
    userinfo = ""
    if parts.password is not None:
        userinfo = f"{parts.username}:{REDACTED}@"
    elif parts.username is not None:  # a lone user-info is usually a token
        userinfo = f"{REDACTED}@"
    path = "/".join(REDACTED if _looks_secret(segment) else segment
                    for segment in parts.path.split("/"))
    query = urlencode(
        [(name, REDACTED) for name, _ in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, f"{userinfo}{host}{port}", path, query, ""))


def _attempt_data(attempt: Any) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": utc_timestamp(attempt.started_at),
        "finished_at": utc_timestamp(attempt.finished_at),
        "outcome": attempt.outcome,
        "error_code": attempt.error_code,
        "error": attempt.error,
        "latency_ms": round(attempt.latency_ms, 3),
        "response_status": attempt.response_status,
    }


def _delivery_data(delivery: Delivery) -> dict[str, Any]:
    target = delivery.target
    return {
        "id": str(delivery.pk),
        "rule": target.rule.name,
        "rule_revision": delivery.rule_revision.number,
        "target_id": target.target_id,
        "kind": target.kind,
        "address": public_target_address(target.kind, target.address),
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "last_error_code": delivery.last_error_code,
        "last_error": delivery.last_error,
        "exhausted_condition": delivery.exhausted_condition,
        "redrive_count": delivery.redrive_count,
        "created_at": utc_timestamp(delivery.created_at),
        "next_attempt_at": (
            utc_timestamp(delivery.next_attempt_at)
            if delivery.status == DeliveryStatus.PENDING else None
        ),
        "finished_at": utc_timestamp(delivery.finished_at),
        "attempts": [_attempt_data(attempt) for attempt in delivery.attempts.all()],
    }


def _trace_status(routing_pending: bool, deliveries: list[dict[str, Any]]) -> str:
    """One word for the whole event: routing, unmatched, in_progress, failed or delivered."""
    if routing_pending:
        return "routing"
    statuses = {delivery["status"] for delivery in deliveries}
    if not statuses:
        return "unmatched"
    if statuses & {DeliveryStatus.PENDING, DeliveryStatus.RUNNING}:
        return "in_progress"
    if statuses & {DeliveryStatus.DEAD, DeliveryStatus.DROPPED}:
        return "failed"
    return "delivered"


def event_trace(event_id: str | uuid.UUID) -> dict[str, Any]:
    """Everything that happened to one event: its envelope, who published it when, whether it
    is still waiting to be routed, the rules (at the revision that matched) and every delivery
    with every attempt. Four queries. Raises NotFound for an unknown id.

    Only rules with targets leave a record when they match (their deliveries), so a matching
    rule with no targets does not appear."""
    try:
        key = uuid.UUID(str(event_id))
    except ValueError:
        raise NotFound(f"Event {event_id} does not exist.", field="EventId") from None
    deliveries = Delivery.objects.select_related(
        "target", "target__rule", "target__rule__bus", "rule_revision"
    ).order_by("created_at", "target__rule__name", "target__target_id")
    event = (
        Event.objects.select_related("bus", "pending_route")
        .prefetch_related(
            Prefetch("deliveries", queryset=deliveries.prefetch_related("attempts")),
            Prefetch("archive_entries",
                     queryset=ArchivedEvent.objects.select_related("archive")),
        )
        .filter(pk=key)
        .first()
    )
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", field="EventId")
    pending: PendingRoute | None = getattr(event, "pending_route", None)

    delivery_rows = list(event.deliveries.all())
    rules: dict[int, dict[str, Any]] = {}
    for delivery in delivery_rows:
        revision, rule = delivery.rule_revision, delivery.target.rule
        rules.setdefault(revision.pk, {
            "name": rule.name,
            "arn": rule.arn,
            "revision": revision.number,
            "event_pattern": revision.event_pattern,
            "deleted": rule.deleted_at is not None,
        })
    delivery_data = [_delivery_data(delivery) for delivery in delivery_rows]
    trace = {
        "event_id": str(event.pk),
        "status": _trace_status(pending is not None, delivery_data),
        "event": event.envelope(),
        "bus": {"name": event.bus.name, "arn": event.bus.arn},
        "ingested_at": utc_timestamp(event.ingested_at),
        "published_by": event.published_by,
        # From the row, never the body: who published it, and what a replayed copy copies.
        "publisher": {"kind": event.publisher_kind, "reference": event.publisher_ref,
                      "label": event.published_by},
        "replay_of": str(event.replay_of) if event.replay_of else None,
        "forwarded_from": str(event.forwarded_from) if event.forwarded_from else None,
        "routing": {
            "pending": pending is not None,
            "enqueued_at": utc_timestamp(pending.enqueued_at) if pending else None,
            "enqueue_count": pending.enqueue_count if pending else 0,
        },
        "matched_rules": sorted(rules.values(), key=lambda rule: (rule["name"], rule["revision"])),
        "deliveries": delivery_data,
        "archives": sorted(entry.archive.name for entry in event.archive_entries.all()),
    }
    schedule = _schedule_data(event)
    if schedule is not None:
        trace["schedule"] = schedule
    return trace


def _schedule_data(event: Event) -> dict[str, Any] | None:
    """The tick a scheduled rule's (or a Scheduler schedule's) event fired for; one more query,
    for those events only."""
    if event.publisher_kind == PublisherKind.SCHEDULER and event.publisher_ref.startswith(
            "arn:aws:scheduler:"):
        firing = ScheduleFiring.objects.filter(event_id=event.pk).first()
        if firing is None:
            return None
        return {"schedule_arn": event.publisher_ref, "tick_at": utc_timestamp(firing.tick_at),
                "due_at": utc_timestamp(firing.due_at), "late": firing.missed_before > 0,
                "missed_before": firing.missed_before}
    if (event.source, event.detail_type) != ("aws.events", "Scheduled Event"):
        return None
    tick = ScheduleTick.objects.select_related("rule").filter(event_id=event.pk).first()
    if tick is None:
        return None
    return {"rule": tick.rule.name, "tick_at": utc_timestamp(tick.tick_at),
            "late": tick.missed_before > 0, "missed_before": tick.missed_before}


@dataclass(frozen=True)
class DeliveryOverview:
    status: str
    bus_name: str


def deliveries_overview(delivery_ids: Iterable[str]) -> dict[str, DeliveryOverview]:
    """The status and the event's bus of each delivery that exists, by id (one query)."""
    rows = Delivery.objects.filter(pk__in=list(delivery_ids)).values_list(
        "pk", "status", "event__bus__name"
    )
    return {str(pk): DeliveryOverview(status, bus_name) for pk, status, bus_name in rows}


def apikey_list() -> list[ApiKey]:
    return list(ApiKey.objects.prefetch_related("buses").order_by("name"))
