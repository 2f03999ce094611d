"""`manage.py sweep`: the sweeper run from any process, with no Celery worker involved."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from routing.models import AttemptOutcome, Delivery, DeliveryStatus, EventBus, PendingRoute
from routing.services import Actor, TargetSpec, event_publish, route_events, rule_put, targets_put
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db


def _sweep(*args: str) -> str:
    out = StringIO()
    call_command("sweep", *args, stdout=out)
    return out.getvalue()


def test_sweep_command_resends_lost_messages_and_recovers_lost_attempts(
        default_bus: EventBus, actor: Actor, recorder: object, settings: object) -> None:
    settings.ROUTING_SWEEP_GRACE_SECONDS = 0  # type: ignore[attr-defined]
    settings.ROUTING_RUNNING_LEASE_SECONDS = 0  # type: ignore[attr-defined]
    rule = rule_put(bus_name="default", name="orders", actor=actor,
                    event_pattern={"source": ["shop"]})
    targets_put(rule=rule, actor=actor, targets=[TargetSpec("t", "handler", "tests.recorder")])
    event = event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
                          detail={"orderId": "o-1"})
    PendingRoute.objects.filter(event=event).update(enqueued_at=timezone.now() - timedelta(1))

    assert "events requeued: 1," in _sweep()
    assert PendingRoute.objects.get(event=event).enqueue_count >= 1

    route_events([str(event.pk)])
    delivery = Delivery.objects.get(event=event)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RUNNING, claimed_at=timezone.now() - timedelta(minutes=5),
        attempt_count=1, claim_token="lost-worker")
    assert "lost attempts recovered: 1" in _sweep()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts.get().outcome == AttemptOutcome.LOST
    # Run again, as a second process would: nothing is recovered twice.
    assert "lost attempts recovered: 0" in _sweep()


def test_sweep_command_refuses_a_nonsense_interval() -> None:
    with pytest.raises(CommandError, match="--every must be a positive number"):
        call_command("sweep", "--every", "0")
