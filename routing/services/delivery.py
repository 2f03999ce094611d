"""Delivery: claim, attempt, record, and then succeed, retry later, or dead-letter.

A delivery is claimed with one conditional UPDATE (pending and due → running) before anything is
sent, so two workers never attempt it at once. The attempt itself runs outside any transaction
(a slow webhook must hold no database lock); its outcome is recorded in one transaction.
"""

from __future__ import annotations

import logging
import random
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from routing import dispatch
from routing.errors import NotFound, ValidationError
from routing.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    ExhaustedCondition,
    PendingRoute,
)
from routing.selectors.publishers import event_publisher
from routing.services.rules import target_input_of
from routing.targets.base import AttemptFailure, DeliveryContext
from routing.targets.registry import send_to_target
from routing.transform import render_target_input

logger = logging.getLogger(__name__)

_WORKER_NAME = f"{socket.gethostname()}"


def retry_delay_seconds(attempt: int) -> float:
    """Exponential backoff with equal jitter: half the step is fixed, half is random."""
    step = min(settings.ROUTING_RETRY_MAX_SECONDS,
               settings.ROUTING_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 (jitter, not security)


@dataclass(frozen=True)
class AttemptReport:
    delivery_id: str
    status: str
    attempt: int | None = None
    error: str = ""


def delivery_attempt(delivery_id: str) -> AttemptReport:
    return deliveries_attempt([delivery_id])[0]


def deliveries_attempt(delivery_ids: Sequence[str]) -> list[AttemptReport]:
    """Claims the given deliveries that are pending and due (one conditional UPDATE marks them
    with this run's claim token), attempts each in turn, then records every outcome in one
    transaction. Deliveries another run holds, or that are not due, are left alone."""
    ids = [str(delivery_id) for delivery_id in delivery_ids]
    now = timezone.now()
    token = uuid.uuid4().hex
    Delivery.objects.filter(
        pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.RUNNING, claimed_at=now, claim_token=token,
             attempt_count=F("attempt_count") + 1)
    claimed = {
        str(delivery.pk): delivery
        for delivery in Delivery.objects.filter(
            pk__in=ids, claim_token=token, status=DeliveryStatus.RUNNING
        ).select_related("event", "event__bus", "target", "target__rule", "target__rule__bus")
    }
    outcomes = [_attempt(delivery) for delivery in claimed.values()]
    if outcomes:
        _record_outcomes(outcomes, token)
    reports = {outcome.report.delivery_id: outcome.report for outcome in outcomes}
    unclaimed = [delivery_id for delivery_id in ids if delivery_id not in reports]
    if unclaimed:
        statuses = dict(Delivery.objects.filter(pk__in=unclaimed).values_list("pk", "status"))
        for delivery_id in unclaimed:
            status = statuses.get(uuid.UUID(delivery_id)) if _is_uuid(delivery_id) else None
            reports[delivery_id] = AttemptReport(delivery_id, status or "missing")
    return [reports[delivery_id] for delivery_id in ids]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass
class _Outcome:
    delivery: Delivery
    failure: AttemptFailure | None
    started_at: datetime
    finished_at: datetime
    latency_ms: float
    response_status: int | None
    update: dict[str, object]
    retry_in: float | None
    report: AttemptReport


def _attempt(delivery: Delivery) -> _Outcome:
    """One attempt, outside any transaction (a slow target must hold no database lock)."""
    target, event, rule = delivery.target, delivery.event, delivery.target.rule
    envelope = event.envelope()
    context = DeliveryContext(
        event=envelope,
        event_id=str(event.pk),
        bus_name=event.bus.name,
        rule_name=rule.name,
        rule_arn=rule.arn,
        target_id=target.target_id,
        delivery_id=str(delivery.pk),
        attempt=delivery.attempt_count,
        publisher=event_publisher(event),
    )
    started_at = timezone.now()
    clock = time.perf_counter()
    failure: AttemptFailure | None = None
    response_status: int | None = None
    try:
        payload = render_target_input(
            envelope,
            target_input_of(target),
            rule_arn=rule.arn,
            rule_name=rule.name,
            ingestion_time=event.ingested_at.isoformat().replace("+00:00", "Z"),
        )
        response_status = send_to_target(target, payload, context)
    except AttemptFailure as error:
        failure = error
        response_status = error.response_status
    except Exception as error:  # a bug or surprise in a target: recorded, retried, never lost
        logger.exception("delivery %s to %s failed unexpectedly", delivery.pk, target)
        failure = AttemptFailure("InternalError", f"{type(error).__name__}: {error}")
    latency_ms = (time.perf_counter() - clock) * 1000
    finished_at = timezone.now()
    update, retry_in = _settlement(delivery, failure, finished_at)
    report = AttemptReport(str(delivery.pk), str(update["status"]), delivery.attempt_count,
                           failure.message if failure else "")
    return _Outcome(delivery, failure, started_at, finished_at, latency_ms, response_status,
                    update, retry_in, report)


def _settlement(
    delivery: Delivery, failure: AttemptFailure | None, finished_at: datetime
) -> tuple[dict[str, object], float | None]:
    """What the delivery becomes after this attempt, and the retry delay if it is retried."""
    if failure is None:
        return ({"status": DeliveryStatus.SUCCEEDED, "finished_at": finished_at,
                 "last_error": "", "last_error_code": ""}, None)
    target = delivery.target
    retries_used = delivery.attempt_count - delivery.attempts_before_redrive - 1
    delay = max(retry_delay_seconds(delivery.attempt_count), failure.retry_after or 0)
    next_at = finished_at + timedelta(seconds=delay)
    exhausted = ""
    if not failure.retryable:
        exhausted = ExhaustedCondition.NOT_RETRYABLE
    elif retries_used >= target.max_retry_attempts:
        exhausted = ExhaustedCondition.MAX_ATTEMPTS
    elif next_at > delivery.expires_at:
        exhausted = ExhaustedCondition.MAX_AGE
    update: dict[str, object] = {"last_error": failure.message[:4000],
                                 "last_error_code": failure.code}
    if exhausted:
        update.update(
            status=(DeliveryStatus.DEAD if target.dead_letter_enabled
                    else DeliveryStatus.DROPPED),
            exhausted_condition=exhausted,
            finished_at=finished_at,
        )
        return update, None
    update.update(status=DeliveryStatus.PENDING, next_attempt_at=next_at,
                  enqueued_at=finished_at)
    return update, delay


def _record_outcomes(outcomes: Sequence[_Outcome], token: str) -> None:
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(
                delivery=outcome.delivery,
                number=outcome.delivery.attempt_count,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
                outcome=(AttemptOutcome.SUCCEEDED if outcome.failure is None
                         else AttemptOutcome.FAILED),
                error_code=outcome.failure.code if outcome.failure else "",
                error=outcome.failure.message[:4000] if outcome.failure else "",
                latency_ms=outcome.latency_ms,
                response_status=outcome.response_status,
                worker=_WORKER_NAME,
            )
            for outcome in outcomes
        ])
        # Only this run's claim may settle a delivery (the sweeper may have given it up).
        held = Delivery.objects.filter(claim_token=token, status=DeliveryStatus.RUNNING)
        succeeded = [outcome for outcome in outcomes if outcome.failure is None]
        if succeeded:
            held.filter(pk__in=[o.delivery.pk for o in succeeded]).update(
                status=DeliveryStatus.SUCCEEDED, finished_at=timezone.now(),
                last_error="", last_error_code="",
            )
        for outcome in outcomes:
            if outcome.failure is None:
                continue
            held.filter(pk=outcome.delivery.pk).update(**outcome.update)
            if outcome.retry_in is not None:
                dispatch.deliver_on_commit(str(outcome.delivery.pk), countdown=outcome.retry_in)


# Dead letters --------------------------------------------------------------------------------

def deliveries_redrive(*, delivery_ids: Sequence[str]) -> list[str]:
    """Puts dead (or dropped) deliveries back to be attempted now, with a fresh event-age
    window and the target's full retry budget. Returns the ids that were redriven."""
    now = timezone.now()
    redriven: list[str] = []
    with transaction.atomic():
        candidates = Delivery.objects.select_for_update().select_related("target").filter(
            pk__in=list(delivery_ids),
            status__in=[DeliveryStatus.DEAD, DeliveryStatus.DROPPED],
        )
        for delivery in candidates:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                expires_at=now + timedelta(seconds=delivery.target.max_event_age_seconds),
                # The retry budget counts from the redrive; earlier attempts stay on record.
                attempts_before_redrive=F("attempt_count"),
                enqueued_at=now,
                exhausted_condition="",
                finished_at=None,
                redrive_count=F("redrive_count") + 1,
            )
            dispatch.deliver_on_commit(str(delivery.pk))
            redriven.append(str(delivery.pk))
    return redriven


def delivery_redrive(*, delivery_id: str) -> None:
    if not Delivery.objects.filter(pk=delivery_id).exists():
        raise NotFound(f"Delivery {delivery_id} does not exist.")
    if not deliveries_redrive(delivery_ids=[delivery_id]):
        raise ValidationError("Only dead-lettered or dropped deliveries can be redriven.")


# The sweeper ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepReport:
    events_requeued: int
    deliveries_requeued: int
    lost_attempts_recovered: int


def sweep(*, batch_size: int = 500) -> SweepReport:
    """Re-sends work whose queue message was lost, and recovers attempts lost with a worker."""
    now = timezone.now()
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE_SECONDS)
    lease = timedelta(seconds=settings.ROUTING_RUNNING_LEASE_SECONDS)

    lost = 0
    stuck = Delivery.objects.filter(status=DeliveryStatus.RUNNING,
                                    claimed_at__lt=now - lease)
    for delivery in stuck[:batch_size]:
        with transaction.atomic():
            recovered = Delivery.objects.filter(
                pk=delivery.pk, status=DeliveryStatus.RUNNING, claim_token=delivery.claim_token,
            ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, enqueued_at=now,
                     claim_token="")
            if recovered:
                DeliveryAttempt.objects.create(
                    delivery=delivery, number=delivery.attempt_count,
                    started_at=delivery.claimed_at or now, finished_at=now,
                    outcome=AttemptOutcome.LOST, error_code="WorkerLost",
                    error="The worker stopped before recording this attempt's outcome.",
                    latency_ms=0, worker=_WORKER_NAME,
                )
                dispatch.deliver_on_commit(str(delivery.pk))
                lost += 1

    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace))
        .values_list("pk", flat=True)[:batch_size]
    )
    if due:
        Delivery.objects.filter(pk__in=due).update(enqueued_at=now)
        for start in range(0, len(due), dispatch.DELIVERY_BATCH):
            batch = due[start:start + dispatch.DELIVERY_BATCH]
            dispatch.send_deliver_batch([str(pk) for pk in batch])

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
