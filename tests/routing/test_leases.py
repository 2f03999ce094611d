"""Claims one at a time with a lease sized to the target, renewed while the attempt runs; an
outcome that cannot be written is written again before the claim is left to its lease.
In-process on the real database; tests/integration/test_leases.py kills real workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from routing import handlers
from routing.handlers import HandlerContext, register_handler
from routing.models import AttemptOutcome, Delivery, DeliveryStatus, EventBus
from routing.services import (
    Actor,
    TargetSpec,
    event_publish,
    route_events,
    rule_put,
    sweep,
    targets_put,
)
from routing.services import delivery as delivery_service
from routing.services.delivery import deliveries_attempt
from routing.services.leases import lease_seconds
from tests.support.publishers import TEST_PUBLISHER


class Handler:
    """Runs `during` on each call, and records what it is called with."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.during: Callable[[str], None] = lambda delivery_id: None

    def __call__(self, payload: Any, context: HandlerContext) -> None:
        self.calls.append(context.delivery_id)
        self.during(context.delivery_id)


@pytest.fixture
def handler() -> Iterator[Handler]:
    recording = Handler()
    register_handler("tests.leases")(recording)
    yield recording
    handlers._handlers.pop("tests.leases", None)


def deliveries(actor: Actor, count: int) -> list[str]:
    rule = rule_put(bus_name="default", name="leases", event_pattern={"source": ["shop"]},
                    actor=actor)
    targets_put(rule=rule, actor=actor, targets=[TargetSpec("h", "handler", "tests.leases")])
    events = [event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="T",
                             detail={"n": n}) for n in range(count)]
    return list(route_events([str(event.pk) for event in events]).deliver_now)


def row(delivery_id: str) -> Delivery:
    return Delivery.objects.get(pk=delivery_id)


@pytest.mark.django_db
def test_the_lease_is_twice_a_webhook_s_time_out_with_a_floor(
    default_bus: EventBus, actor: Actor, handler: Handler, settings
) -> None:
    settings.ROUTING_LEASE_MIN_SECONDS = 10
    rule = rule_put(bus_name="default", name="w", event_pattern={"source": ["shop"]},
                    actor=actor)
    assert not targets_put(rule=rule, actor=actor, targets=[
        TargetSpec("slow", "webhook", "http://127.0.0.1:9/", webhook_timeout_seconds=30.0),
        TargetSpec("quick", "webhook", "http://127.0.0.1:9/", webhook_timeout_seconds=2.0),
        TargetSpec("h", "handler", "tests.leases"),
    ])
    leases = {target.target_id: lease_seconds(target) for target in rule.targets.all()}
    assert leases == {"slow": 60.0, "quick": 10.0, "h": 10.0}


@pytest.mark.django_db
def test_each_delivery_is_claimed_right_before_its_attempt_with_its_lease(
    default_bus: EventBus, actor: Actor, handler: Handler, settings
) -> None:
    settings.ROUTING_LEASE_MIN_SECONDS = 7
    ids = deliveries(actor, 3)
    seen: list[tuple[str, list[str], datetime | None]] = []

    def look(delivery_id: str) -> None:
        # What a process dying here would leave: its own claim, and nothing else claimed.
        others = [str(d.status) for d in Delivery.objects.filter(pk__in=ids).exclude(
            pk=delivery_id).order_by("pk")]
        seen.append((str(row(delivery_id).status), others, row(delivery_id).lease_expires_at))

    handler.during = look
    before = timezone.now()
    assert [r.status for r in deliveries_attempt(ids)] == [DeliveryStatus.SUCCEEDED] * 3
    for n, (status, others, lease_expires_at) in enumerate(seen):
        assert status == DeliveryStatus.RUNNING
        assert others.count(DeliveryStatus.RUNNING) == 0
        assert others.count(DeliveryStatus.PENDING) == 2 - n  # not yet claimed, not started
        assert lease_expires_at is not None
        assert before + timedelta(seconds=7) <= lease_expires_at
        assert lease_expires_at <= timezone.now() + timedelta(seconds=7)


@pytest.mark.django_db
def test_the_sweeper_takes_back_claims_whose_lease_ran_out_and_only_those(
    default_bus: EventBus, actor: Actor, handler: Handler, settings
) -> None:
    settings.ROUTING_RUNNING_LEASE_SECONDS = 120
    lapsed, renewed, legacy = deliveries(actor, 3)
    now = timezone.now()
    running = {"status": DeliveryStatus.RUNNING, "attempt_count": 1, "claim_token": "t"}
    # Claimed a second ago, lease already out: its worker died (a live one renews it).
    Delivery.objects.filter(pk=lapsed).update(
        claimed_at=now - timedelta(seconds=1), lease_expires_at=now - timedelta(seconds=0.5),
        **running)
    # Claimed long ago, renewed since: a long attempt still going.
    Delivery.objects.filter(pk=renewed).update(
        claimed_at=now - timedelta(minutes=10), lease_expires_at=now + timedelta(seconds=5),
        **running)
    # Claimed before leases were per delivery: the old fixed lease applies.
    Delivery.objects.filter(pk=legacy).update(
        claimed_at=now - timedelta(minutes=3), lease_expires_at=None, **running)

    assert sweep().lost_attempts_recovered == 2
    assert row(renewed).status == DeliveryStatus.RUNNING
    for delivery_id in (lapsed, legacy):
        taken_back = row(delivery_id)
        assert (taken_back.status, taken_back.claim_token, taken_back.lease_expires_at) == (
            DeliveryStatus.PENDING, "", None)
        assert [a.error_code for a in taken_back.attempts.all()] == ["WorkerLost"]


@pytest.mark.django_db(transaction=True)
def test_a_long_attempt_renews_its_lease_so_the_sweeper_leaves_it_alone(
    actor: Actor, handler: Handler, settings
) -> None:
    from routing.services import bus_ensure_default

    bus_ensure_default()
    settings.ROUTING_LEASE_MIN_SECONDS = 1.5  # renewed every half second
    [delivery_id] = deliveries(actor, 1)
    leases: list[datetime | None] = []
    taken_back: list[int] = []

    def run_long(_: str) -> None:
        for _ in range(12):  # 3.6 s: more than twice the lease
            time.sleep(0.3)
            leases.append(row(delivery_id).lease_expires_at)
        taken_back.append(sweep().lost_attempts_recovered)

    handler.during = run_long
    assert deliveries_attempt([delivery_id])[0].status == DeliveryStatus.SUCCEEDED
    assert taken_back == [0]
    assert all(lease is not None for lease in leases)
    assert len(set(leases)) >= 3, f"the lease was not renewed: {leases}"
    assert [a.outcome for a in row(delivery_id).attempts.all()] == [AttemptOutcome.SUCCEEDED]
    assert handler.calls == [delivery_id]


class FailingOutcomeWrites:
    """Makes the database refuse the next `failures` writes that settle a delivery, as a dropped
    connection or a restarting server does (the statement never runs)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.refused = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # (A claim sets the status to running; a settlement to anything else. On PostgreSQL the
        # settlement leads the CTE that also records the attempt.)
        settling = (sql.removeprefix("WITH settled AS (").startswith(
                        'UPDATE "routing_delivery" SET "status"')
                    and params[0] != DeliveryStatus.RUNNING)
        if settling and self.refused < self.failures:
            self.refused += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db
def test_an_outcome_that_cannot_be_written_is_written_again_not_sent_again(
    default_bus: EventBus, actor: Actor, handler: Handler, monkeypatch
) -> None:
    monkeypatch.setattr(delivery_service, "OUTCOME_WRITE_PAUSES", (0.01, 0.01, 0.01))
    ids = deliveries(actor, 2)
    refusing = FailingOutcomeWrites(failures=2)
    with connection.execute_wrapper(refusing):
        reports = deliveries_attempt(ids)
    assert refusing.refused == 2
    assert [r.status for r in reports] == [DeliveryStatus.SUCCEEDED] * 2
    assert handler.calls == ids  # each sent once
    for delivery_id in ids:
        assert [a.outcome for a in row(delivery_id).attempts.all()] == [AttemptOutcome.SUCCEEDED]


@pytest.mark.django_db
def test_an_outcome_still_unwritable_after_the_pauses_is_left_to_the_lease(
    default_bus: EventBus, actor: Actor, handler: Handler, monkeypatch
) -> None:
    monkeypatch.setattr(delivery_service, "OUTCOME_WRITE_PAUSES", (0.01, 0.01))
    first, second = deliveries(actor, 2)
    refusing = FailingOutcomeWrites(failures=100)
    with connection.execute_wrapper(refusing), pytest.raises(OperationalError):
        deliveries_attempt([first, second])
    assert refusing.refused == 4  # the first write, two more after pauses, one on giving back
    claimed = row(first)
    assert (claimed.status, claimed.attempts.count()) == (DeliveryStatus.RUNNING, 0)
    assert claimed.lease_expires_at is not None  # the sweeper takes it back when that passes
    assert row(second).status == DeliveryStatus.PENDING  # never claimed, enqueued again
    assert handler.calls == [first]
