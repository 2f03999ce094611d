"""Factories shared by the rule editor's tests (no tests here)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from routing.models import Event, EventBus, Rule
from routing.services import Actor, bus_create, rule_put

PASSWORD = "pw-for-rule-editor-tests"
BUS = "Serverlesspresso"
SOURCE = "awsserverlessda.serverlesspresso"
# Of the 30 seeded events (n = 0..29), CURRENT matches n 0-9 (10), PROPOSED n 5-19 (15): 5 both,
# 10 newly matched (n 10-19), 5 no longer matched (n 0-4).
CURRENT = {"source": [SOURCE], "detail": {"n": [{"numeric": [">=", 0, "<", 10]}]}}
PROPOSED = {"source": [SOURCE], "detail": {"n": [{"numeric": [">=", 5, "<", 20]}]}}


def make_user(username: str = "ops", *, staff: bool = True) -> Any:
    return get_user_model().objects.create_user(username, password=PASSWORD, is_staff=staff)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_bus(name: str = BUS) -> EventBus:
    return bus_create(name=name, actor=Actor.system("test"))


def make_rule(bus: EventBus, name: str = "Numbers", pattern: dict[str, Any] | None = None,
              **kwargs: Any) -> Rule:
    return rule_put(bus_name=bus.name, name=name, event_pattern=pattern or CURRENT,
                    actor=Actor.system("test"), **kwargs)


def make_event(bus: EventBus, *, n: int | None = None, ingested_at: datetime | None = None,
               detail_type: str = "OrderManager.WaitingCompletion",
               detail: dict[str, Any] | None = None) -> Event:
    """An event stored with a chosen ingestion time, so "the latest N" is exact."""
    moment = ingested_at or timezone.now()
    event = Event(
        id=uuid.uuid4(), bus=bus, source=SOURCE, detail_type=detail_type, time=moment,
        ingested_at=moment, published_by="test",
        detail=detail if detail is not None else {"n": n, "shopId": "main"},
    )
    event.save()
    return event


def seed_numbered_events(bus: EventBus, count: int = 30) -> list[Event]:
    """Events n = 0..count-1, one second apart, n = count-1 the newest."""
    start = timezone.now() - timedelta(minutes=10)
    return [make_event(bus, n=n, ingested_at=start + timedelta(seconds=n)) for n in range(count)]
