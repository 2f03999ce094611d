"""The sweeper: the database says what is left to do, so lost queue messages and attempts lost
with their worker are found there and sent again.

- A delivery `running` whose lease ran out lost its worker (a live one renews it:
  routing/services/leases.py): its attempt is recorded as lost, and it is pending and enqueued
  again at once, on the retry queue.
- A delivery pending and due, whose last message is older than ROUTING_SWEEP_GRACE_SECONDS, is
  enqueued again: webhooks one per message, the fast kinds in batches; those attempted before
  on the retry queue.
- An outbox row left unrouted as long is routed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from routing import dispatch
from routing.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, PendingRoute
from routing.services.delivery import WORKER_NAME
from routing.targets.registry import ONE_MESSAGE_EACH


@dataclass(frozen=True)
class SweepReport:
    events_requeued: int
    deliveries_requeued: int
    lost_attempts_recovered: int


def sweep(*, batch_size: int = 500) -> SweepReport:
    """Re-sends work whose queue message was lost, and recovers attempts lost with a worker."""
    now = timezone.now()
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE_SECONDS)
    unleased = timedelta(seconds=settings.ROUTING_RUNNING_LEASE_SECONDS)

    lost = 0
    stuck = Delivery.objects.filter(status=DeliveryStatus.RUNNING).filter(
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True, claimed_at__lt=now - unleased)
    )
    for delivery in stuck[:batch_size]:
        with transaction.atomic():
            recovered = Delivery.objects.filter(
                pk=delivery.pk, status=DeliveryStatus.RUNNING, claim_token=delivery.claim_token,
            ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, enqueued_at=now,
                     claim_token="", lease_expires_at=None)
            if recovered:
                DeliveryAttempt.objects.create(
                    delivery=delivery, number=delivery.attempt_count,
                    started_at=delivery.claimed_at or now, finished_at=now,
                    outcome=AttemptOutcome.LOST, error_code="WorkerLost",
                    error="The worker stopped before recording this attempt's outcome.",
                    latency_ms=0, worker=WORKER_NAME,
                )
                dispatch.retry_on_commit(str(delivery.pk))
                lost += 1

    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace))
        .values_list("pk", "target__kind", "attempt_count")[:batch_size]
    )
    if due:
        Delivery.objects.filter(pk__in=[pk for pk, _, _ in due]).update(enqueued_at=now)
        for pk, kind, attempts in due:
            if kind in ONE_MESSAGE_EACH or attempts:
                dispatch.send_deliver(str(pk), retry=bool(attempts))
        batched = [str(pk) for pk, kind, attempts in due
                   if kind not in ONE_MESSAGE_EACH and not attempts]
        for start in range(0, len(batched), dispatch.DELIVERY_BATCH):
            dispatch.send_deliver_batch(batched[start:start + dispatch.DELIVERY_BATCH])

    pending = list(
        PendingRoute.objects.filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace)
        ).values_list("event_id", flat=True)[:batch_size]
    )
    if pending:
        PendingRoute.objects.filter(event_id__in=pending).update(
            enqueued_at=now, enqueue_count=F("enqueue_count") + 1
        )
        for start in range(0, len(pending), 50):
            dispatch.send_route_events([str(pk) for pk in pending[start:start + 50]])
    return SweepReport(len(pending), len(due), lost)
