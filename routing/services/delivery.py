"""Delivery: claim, attempt, record, and then succeed, retry later, or dead-letter.

A delivery is claimed with one conditional UPDATE (pending and due → running) before anything is
sent, so two workers never attempt it at once. The attempt itself runs outside any transaction
(a slow webhook must hold no database lock); its outcome is recorded in a short transaction of
its own as soon as it is known, so a batch cut short never loses (or re-sends) what it did.
"""

from __future__ import annotations

import logging
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from routing import dispatch
from routing.cancellation import CANCELLATIONS
from routing.errors import NotFound, ValidationError
from routing.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    ExhaustedCondition,
)
from routing.selectors.publishers import event_publisher
from routing.services.leases import LEASES, lease_seconds
from routing.services.outcome_rows import delivery_settle
from routing.services.rules import target_input_of
from routing.targets.base import AttemptFailure, DeliveryContext, SendDeferred
from routing.targets.registry import ONE_MESSAGE_EACH, send_to_target
from routing.timestamps import utc_timestamp
from routing.transform.rendering import render_target_input

logger = logging.getLogger(__name__)

# Recorded on every attempt: which machine made it.
WORKER_NAME = socket.gethostname()


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
    """Attempts, in the order given, those of the deliveries that are pending and due. Each is
    claimed (one conditional UPDATE marks it with this run's claim token and a lease sized to
    its target) right before its attempt, and its outcome recorded in its own transaction as
    soon as it is known. Deliveries another run holds, or that are not due, are left alone.

    Claiming one at a time means a batch whose process dies holds at most the claim it was
    attempting: the others are still pending, for the next message or the sweeper.

    Cut short (the soft time limit, a shutdown), it records the attempt in progress as failed
    (to be retried), enqueues again at once the deliveries it had not started, and re-raises:
    what it finished stays finished."""
    ids = list(dict.fromkeys(str(delivery_id) for delivery_id in delivery_ids))
    token = uuid.uuid4().hex
    candidates = _candidates(ids)
    untouched = deque(candidates[delivery_id] for delivery_id in ids if delivery_id in candidates)
    reports: dict[str, AttemptReport] = {}
    in_flight: Delivery | None = None
    outcome: _Outcome | None = None
    started_at = timezone.now()
    try:
        while untouched:
            delivery = untouched[0]
            lease = lease_seconds(delivery.target)
            if not _claim(delivery, token, lease):
                untouched.popleft()
                continue
            in_flight, outcome = untouched.popleft(), None
            with LEASES.hold(str(in_flight.pk), token, lease):
                started_at = timezone.now()
                outcome = _attempt(in_flight)
                _record_outcome(outcome, token)
            reports[outcome.report.delivery_id] = outcome.report
            in_flight = None
    except BaseException as cut:
        _give_back(token=token, cut=cut, in_flight=in_flight, outcome=outcome,
                   started_at=started_at, untouched=list(untouched))
        raise
    unclaimed = [delivery_id for delivery_id in ids if delivery_id not in reports]
    if unclaimed:
        statuses = dict(Delivery.objects.filter(pk__in=[i for i in unclaimed if _is_uuid(i)])
                        .values_list("pk", "status"))
        for delivery_id in unclaimed:
            status = statuses.get(uuid.UUID(delivery_id)) if _is_uuid(delivery_id) else None
            reports[delivery_id] = AttemptReport(delivery_id, status or "missing")
    return [reports[delivery_id] for delivery_id in ids]


def _candidates(ids: Sequence[str]) -> dict[str, Delivery]:
    valid = [delivery_id for delivery_id in ids if _is_uuid(delivery_id)]
    return {
        str(delivery.pk): delivery
        for delivery in Delivery.objects.filter(
            pk__in=valid, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).select_related("event", "event__bus", "target", "target__rule", "target__rule__bus")
    }


def _claim(delivery: Delivery, token: str, lease: float) -> bool:
    """Claims a delivery read a moment ago, if it is still as it was read: pending, due, and
    attempted no more times since (another run's attempt makes this copy stale)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
        attempt_count=delivery.attempt_count,
    ).update(status=DeliveryStatus.RUNNING, claimed_at=now, claim_token=token,
             lease_expires_at=now + timedelta(seconds=lease),
             attempt_count=delivery.attempt_count + 1)
    if claimed:
        delivery.status, delivery.claimed_at, delivery.claim_token = (
            DeliveryStatus.RUNNING, now, token)
        delivery.attempt_count += 1
    return bool(claimed)


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
    # False for a send put off before it started (SendDeferred): no attempt to record.
    record_attempt: bool = True


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
            ingestion_time=utc_timestamp(event.ingested_at, timespec="seconds"),
        )
        response_status = send_to_target(target, payload, context)
    except SendDeferred as deferred:
        deferred_outcome = _deferred(delivery, deferred, started_at)
        if deferred_outcome is not None:
            return deferred_outcome
        failure = AttemptFailure("THROTTLING", deferred.reason)
    except AttemptFailure as error:
        failure = error
        response_status = error.response_status
    except CANCELLATIONS:
        raise
    except Exception as error:  # a bug or surprise in a target: recorded, retried, never lost
        logger.exception("delivery %s to %s failed unexpectedly", delivery.pk, target)
        failure = AttemptFailure("InternalError", f"{type(error).__name__}: {error}")
    return _outcome(delivery, failure, started_at, (time.perf_counter() - clock) * 1000,
                    response_status)


def _deferred(delivery: Delivery, deferred: SendDeferred, started_at: datetime
              ) -> _Outcome | None:
    """Back to pending, the claim's attempt not counted, due when the send can start; None if
    that is past the delivery's maximum age (then it is a failed attempt like any other)."""
    now = timezone.now()
    due = now + timedelta(seconds=deferred.seconds)
    if due > delivery.expires_at:
        return None
    update: dict[str, object] = {
        "status": DeliveryStatus.PENDING, "next_attempt_at": due, "enqueued_at": now,
        "attempt_count": F("attempt_count") - 1, "claim_token": "", "claimed_at": None,
        "lease_expires_at": None,
    }
    report = AttemptReport(str(delivery.pk), DeliveryStatus.PENDING, None, deferred.reason)
    return _Outcome(delivery, None, started_at, now, 0.0, None, update, deferred.seconds,
                    report, record_attempt=False)


def _outcome(delivery: Delivery, failure: AttemptFailure | None, started_at: datetime,
             latency_ms: float, response_status: int | None) -> _Outcome:
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
            # A bus's own DeadLetterConfig (UpdateEventBus) keeps every target's dead letters.
            status=(DeliveryStatus.DEAD
                    if target.dead_letter_enabled or target.rule.bus.dead_letter_enabled
                    else DeliveryStatus.DROPPED),
            exhausted_condition=exhausted,
            finished_at=finished_at,
        )
        return update, None
    update.update(status=DeliveryStatus.PENDING, next_attempt_at=next_at,
                  enqueued_at=finished_at)
    return update, delay


# After a send, the recorded outcome is what keeps the receiver from getting it again: a write
# that fails (a dropped connection, a database restarting) is tried again on a fresh connection,
# after each of these pauses, before the claim is left to its lease (renewed meanwhile).
OUTCOME_WRITE_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)


def _record_outcome(outcome: _Outcome, token: str) -> None:
    for pause in (*OUTCOME_WRITE_PAUSES, None):
        try:
            _write_outcome(outcome, token)
        except (OperationalError, InterfaceError) as error:
            if pause is None:
                raise
            logger.warning("could not record the outcome of delivery %s (%s); trying again in "
                           "%g s", outcome.delivery.pk, error, pause)
            if not connection.in_atomic_block:
                connection.close()  # the next query opens a fresh one
            time.sleep(pause)
        else:
            return


def _write_outcome(outcome: _Outcome, token: str) -> None:
    delivery = outcome.delivery
    # Only this run's claim settles a delivery and records its attempt: a claim the sweeper took
    # back has its lost attempt on record already, and an outcome written twice (a cut landing
    # just after the first write) finds nothing left to settle.
    attempt = DeliveryAttempt(
        delivery=delivery,
        number=delivery.attempt_count,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        outcome=AttemptOutcome.SUCCEEDED if outcome.failure is None else AttemptOutcome.FAILED,
        error_code=outcome.failure.code if outcome.failure else "",
        error=outcome.failure.message[:4000] if outcome.failure else "",
        latency_ms=outcome.latency_ms,
        response_status=outcome.response_status,
        worker=WORKER_NAME,
    ) if outcome.record_attempt else None
    if not delivery_settle(delivery_id=delivery.pk, token=token, update=outcome.update,
                           attempt=attempt):
        return
    if attempt is None:
        # Due at a set time, like a retry: its own queue keeps that time behind a backlog.
        dispatch.retry_on_commit(str(delivery.pk), outcome.retry_in)
        return
    if outcome.retry_in is not None:
        dispatch.retry_on_commit(str(delivery.pk), countdown=outcome.retry_in)


def _give_back(*, token: str, cut: BaseException, in_flight: Delivery | None,
               outcome: _Outcome | None, started_at: datetime, untouched: list[Delivery]) -> None:
    """After a batch was cut short: the outcome it knew but had not recorded is recorded, the
    attempt it was in is a failure to retry, and the deliveries it had not started (never
    claimed) are enqueued again at once. The caller re-raises `cut`."""
    if outcome is None and in_flight is not None:
        code = "TimeLimitExceeded" if isinstance(cut, SoftTimeLimitExceeded) else "Interrupted"
        failure = AttemptFailure(code, f"The attempt was cut short ({type(cut).__name__}).")
        latency_ms = (timezone.now() - started_at).total_seconds() * 1000
        outcome = _outcome(in_flight, failure, started_at, latency_ms, None)
    left = [str(delivery.pk) for delivery in untouched]
    try:
        with transaction.atomic():
            if outcome is not None:
                _write_outcome(outcome, token)
            if left:
                Delivery.objects.filter(pk__in=left, status=DeliveryStatus.PENDING).update(
                    enqueued_at=timezone.now())
                deliveries_enqueue_on_commit(untouched)
    except Exception:
        # The cut itself is re-raised by the caller; the lease and the sweeper cover the rest.
        logger.exception("could not give back %d deliveries after %s",
                         len(left) + (in_flight is not None), type(cut).__name__)
    if left or in_flight is not None:
        logger.warning("delivery batch cut short by %s: %d given back%s", type(cut).__name__,
                       len(left), f", {in_flight.pk} to retry" if in_flight else "")


def deliveries_enqueue_on_commit(deliveries: Sequence[Delivery]) -> None:
    """Webhook deliveries one per message; the fast kinds in batches."""
    one_each = [str(d.pk) for d in deliveries if d.target.kind in ONE_MESSAGE_EACH]
    batched = [str(d.pk) for d in deliveries if d.target.kind not in ONE_MESSAGE_EACH]
    dispatch.deliveries_on_commit(one_each)
    dispatch.delivery_batches_on_commit(batched)


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
