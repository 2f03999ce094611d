"""The dashboard's figures, checked against what the rows say: events per bucket per bus,
matches per rule, delivery outcomes, exact latency quantiles, backlogs (the shop's counters
are tested with orders/metrics.py)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from routing.models import AttemptOutcome, DeliveryStatus, EventBus, PendingRoute
from routing.selectors import metrics
from routing.services import Actor, bus_create
from tests.routing.dashboard.test_explorer_support import (
    make_delivery,
    make_event,
    make_rule_with_target,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 10, 30, 20, tzinfo=UTC)


def test_timeline_ends_with_the_bucket_holding_now() -> None:
    line = metrics.timeline("1h", now=NOW)
    assert line.count == 60
    assert line.end == datetime(2026, 11, 29, 10, 31, tzinfo=UTC)
    assert line.start == datetime(2026, 11, 29, 9, 31, tzinfo=UTC)
    assert line.index(NOW) == 59
    assert metrics.timeline("7d", now=NOW).count == 84
    assert metrics.timeline("nonsense", now=NOW).choice.key == "1h"


def test_events_per_minute_per_bus(default_bus: EventBus) -> None:
    other = bus_create(name="payments", actor=Actor.system("test"))
    line = metrics.timeline("6h", now=NOW)  # 5-minute buckets
    for seconds in (0, 10, 299):  # three events in the first bucket
        make_event(default_bus, ingested_at=line.start + timedelta(seconds=seconds))
    make_event(default_bus, ingested_at=line.start + timedelta(seconds=300))  # the second
    make_event(other, ingested_at=NOW)  # the last bucket
    make_event(other, ingested_at=line.start - timedelta(seconds=1))  # before the range
    series = {s.name: s.values for s in metrics.events_per_minute(line)}
    assert series["default"][:2] == [3 / 5, 1 / 5]
    assert sum(series["default"]) == pytest.approx(4 / 5)
    assert series["payments"][-1] == 1 / 5
    assert sum(series["payments"]) == pytest.approx(1 / 5)


def test_matches_per_rule_count_events_once(default_bus: EventBus) -> None:
    rule, first = make_rule_with_target(default_bus, name="orders", target_id="a")
    _, second = make_rule_with_target(default_bus, name="audit", target_id="b",
                                      address="http://127.0.0.1:9/audit")
    from routing.services import TargetSpec, targets_put
    targets_put(rule=rule, targets=[TargetSpec("a", "webhook", "http://127.0.0.1:9/a"),
                                    TargetSpec("c", "webhook", "http://127.0.0.1:9/c")],
                actor=Actor.system("test"))
    third = rule.targets.get(target_id="c")
    for _ in range(3):
        event = make_event(default_bus)
        make_delivery(event, first)
        make_delivery(event, third)  # the same match, a second target
    make_delivery(make_event(default_bus), second)
    found = {m.rule: m.matches for m in metrics.rule_matches(since=timezone.now()
                                                             - timedelta(hours=1))}
    assert found == {"orders": 3, "audit": 1}


def test_delivery_outcomes_per_bucket(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    line = metrics.timeline("1h", now=timezone.now())
    event = make_event(default_bus, ingested_at=line.start + timedelta(seconds=5))
    make_delivery(event, target, status=DeliveryStatus.SUCCEEDED,
                  attempts=[(AttemptOutcome.FAILED, 5), (AttemptOutcome.SUCCEEDED, 7)])
    make_delivery(make_event(default_bus, ingested_at=line.start + timedelta(seconds=5)),
                  target, status=DeliveryStatus.DEAD,
                  attempts=[(AttemptOutcome.FAILED, 5)] * 3)
    outcomes = metrics.delivery_outcomes(line)
    assert outcomes.succeeded[0] == 1
    assert sum(outcomes.succeeded) == 1
    assert outcomes.failed[0] == 4
    assert sum(outcomes.failed) == 4
    assert sum(outcomes.dead) == 1  # finished a second after it was created
    totals = metrics.delivery_totals(since=line.start)
    assert (totals.succeeded, totals.failed, totals.dead) == (1, 4, 1)


def nearest_rank(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(quantile * len(ordered))) - 1]


@pytest.mark.parametrize("count", [1, 2, 7, 20, 101])
def test_latency_quantiles_are_exact(default_bus: EventBus, count: int) -> None:
    _, target = make_rule_with_target(default_bus)
    generator = random.Random(count)  # noqa: S311 (test data, not security)
    latencies = [round(generator.uniform(1, 900), 3) for _ in range(count)]
    for latency in latencies:
        make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                      attempts=[(AttemptOutcome.SUCCEEDED, latency)])
    make_delivery(make_event(default_bus), target, status=DeliveryStatus.PENDING,
                  attempts=[(AttemptOutcome.LOST, 0.0)])  # a lost attempt has no latency
    found = metrics.latency_quantiles(since=timezone.now() - timedelta(hours=1))[None]
    assert found[0.5] == nearest_rank(latencies, 0.5)
    assert found[0.95] == nearest_rank(latencies, 0.95)


def test_latency_quantiles_per_bucket(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    line = metrics.timeline("1h", now=timezone.now())
    first = [10.0, 20.0, 30.0, 40.0]
    for latency in first:
        make_delivery(make_event(default_bus, ingested_at=line.start), target,
                      status=DeliveryStatus.SUCCEEDED,
                      attempts=[(AttemptOutcome.SUCCEEDED, latency)])
    make_delivery(make_event(default_bus, ingested_at=line.starts[-1]), target,
                  status=DeliveryStatus.SUCCEEDED, attempts=[(AttemptOutcome.SUCCEEDED, 99.0)])
    series = metrics.latency_over_time(line)
    assert series.p50[0] == 20.0
    assert series.p95[0] == 40.0
    assert series.p50[-1] == 99.0
    assert series.p95[-1] == 99.0
    assert series.p50[1:-1] == [None] * (line.count - 2)
    assert series.overall == {0.5: 30.0, 0.95: 99.0}


def test_latency_histogram_is_cumulative(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    for latency in (0.5, 1.0, 4.0, 60_000.0):
        make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                      attempts=[(AttemptOutcome.SUCCEEDED, latency)])
    histogram = metrics.latency_histograms(since=timezone.now() - timedelta(hours=1))["default"]
    bounds = dict(histogram.buckets)
    assert bounds[1] == 2
    assert bounds[3] == 2
    assert bounds[5] == 3
    assert bounds[30000] == 3
    assert histogram.total == 4
    assert histogram.sum_ms == pytest.approx(60_005.5)


def test_backlogs_and_outbox(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    for _ in range(3):
        make_delivery(make_event(default_bus), target, status=DeliveryStatus.DEAD)
    make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                  attempts=[(AttemptOutcome.SUCCEEDED, 1)])
    backlog = metrics.dead_letter_backlog()
    assert [(b.label, b.count) for b in backlog] == [("default/orders → t1", 3)]

    waiting = make_event(default_bus)
    PendingRoute.objects.create(event=waiting, created_at=timezone.now() - timedelta(seconds=30))
    box = metrics.outbox()
    assert box.count == 1
    assert 29 < box.oldest_age_seconds < 40

    figures = metrics.overview()
    assert figures.dead_letter_backlog == 3
    assert figures.outbox.count == 1
    assert figures.events_last_minute == 5
