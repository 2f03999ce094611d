"""Factories shared by the explorer's tests (no tests here)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from routing.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventBus,
    Rule,
    Target,
)
from routing.services import Actor, TargetSpec, rule_put, targets_put

PASSWORD = "pw-for-explorer-tests"


def make_user(username: str = "ops", *, staff: bool = True) -> Any:
    return get_user_model().objects.create_user(username, password=PASSWORD, is_staff=staff)


def staff_client(username: str = "ops") -> Client:
    client = Client()
    client.force_login(make_user(username))
    return client


def make_event(
    bus: EventBus,
    *,
    ingested_at: datetime | None = None,
    source: str = "shop",
    detail_type: str = "OrderPlaced",
    detail: dict[str, Any] | None = None,
    resources: list[str] | None = None,
    event_id: uuid.UUID | None = None,
) -> Event:
    """An event stored directly with a chosen ingestion time (publishing stamps `now`)."""
    moment = ingested_at or timezone.now()
    event = Event(
        id=event_id or uuid.uuid4(), bus=bus, source=source, detail_type=detail_type,
        time=moment, ingested_at=moment, detail=detail if detail is not None else {},
        resources=resources or [], published_by="test",
    )
    event.save()
    return event


def make_events(bus: EventBus, count: int, *, start: datetime | None = None,
                step: timedelta = timedelta(seconds=1), **fields: Any) -> list[Event]:
    start = start or timezone.now() - step * count
    return [make_event(bus, ingested_at=start + step * index, **fields) for index in range(count)]


def make_rule_with_target(
    bus: EventBus, *, name: str = "orders", target_id: str = "t1", kind: str = "webhook",
    address: str = "http://127.0.0.1:9/hook", pattern: dict[str, Any] | None = None,
) -> tuple[Rule, Target]:
    actor = Actor.system("test")
    rule = rule_put(bus_name=bus.name, name=name, event_pattern=pattern or {"source": ["shop"]},
                    actor=actor)
    failures = targets_put(rule=rule, targets=[TargetSpec(target_id=target_id, kind=kind,
                                                          address=address)], actor=actor)
    assert not failures, failures
    return rule, Target.objects.get(rule=rule, target_id=target_id, deleted_at__isnull=True)


def make_delivery(
    event: Event, target: Target, *, status: str = DeliveryStatus.DEAD,
    attempts: list[tuple[str, float]] | None = None, error: str = "boom",
    created_at: datetime | None = None,
) -> Delivery:
    """A delivery in a chosen state with attempts [(outcome, latency_ms), ...]."""
    moment = created_at or event.ingested_at
    revision = target.rule.revisions.order_by("-number").first()
    assert revision is not None
    attempts = attempts if attempts is not None else [(AttemptOutcome.FAILED, 12.0)]
    finished = status in {DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD, DeliveryStatus.DROPPED}
    delivery = Delivery.objects.create(
        event=event, target=target, rule_revision=revision, status=status,
        attempt_count=len(attempts), next_attempt_at=moment,
        expires_at=moment + timedelta(days=1), created_at=moment,
        finished_at=moment + timedelta(seconds=1) if finished else None,
        last_error=error if status != DeliveryStatus.SUCCEEDED else "",
        exhausted_condition="MaximumRetryAttempts" if status == DeliveryStatus.DEAD else "",
    )
    for number, (outcome, latency) in enumerate(attempts, start=1):
        DeliveryAttempt.objects.create(
            delivery=delivery, number=number, started_at=moment, finished_at=moment,
            outcome=outcome, error="" if outcome == AttemptOutcome.SUCCEEDED else error,
            latency_ms=latency,
        )
    return delivery
