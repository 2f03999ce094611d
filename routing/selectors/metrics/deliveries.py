"""Figures of deliveries: outcomes per bucket and in total, the dead-letter backlog, deliveries
per status and attempts per target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from routing.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from routing.selectors.metrics.time_buckets import BucketIndex, Series, Timeline, fold

FAILED_OUTCOMES = (AttemptOutcome.FAILED, AttemptOutcome.LOST)
FINISHED_BADLY = (DeliveryStatus.DEAD, DeliveryStatus.DROPPED)


@dataclass
class DeliveryOutcomes:
    succeeded: list[float]
    failed: list[float]
    dead: list[float]

    def series(self) -> list[Series]:
        return [Series("succeeded", self.succeeded), Series("failed attempts", self.failed),
                Series("dead-lettered", self.dead)]


def delivery_outcomes(line: Timeline) -> DeliveryOutcomes:
    """Per bucket: attempts that succeeded, attempts that failed (each retry counts), and
    deliveries that ended as dead letters (or were dropped) in it."""
    slot = BucketIndex("finished_at", line)
    attempts = (
        DeliveryAttempt.objects.filter(finished_at__gte=line.start, finished_at__lt=line.end)
        .order_by().annotate(slot=slot).values_list("slot", "outcome").annotate(n=Count("id"))
    )
    good: list[tuple[int, float]] = []
    bad: list[tuple[int, float]] = []
    for position, outcome, count in attempts:
        (good if outcome == AttemptOutcome.SUCCEEDED else bad).append((position, count))
    dead = (
        Delivery.objects.filter(status__in=FINISHED_BADLY, finished_at__gte=line.start,
                                finished_at__lt=line.end)
        .order_by().annotate(slot=slot).values_list("slot").annotate(n=Count("id"))
    )
    return DeliveryOutcomes(fold(line, good), fold(line, bad), fold(line, dead))


@dataclass(frozen=True)
class OutcomeTotals:
    succeeded: int
    failed: int
    dead: int


def delivery_totals(*, since: datetime) -> OutcomeTotals:
    attempts = dict(
        DeliveryAttempt.objects.filter(finished_at__gte=since).order_by()
        .values_list("outcome").annotate(n=Count("id"))
    )
    dead = Delivery.objects.filter(status__in=FINISHED_BADLY, finished_at__gte=since).count()
    return OutcomeTotals(
        succeeded=attempts.get(AttemptOutcome.SUCCEEDED, 0),
        failed=sum(attempts.get(outcome, 0) for outcome in FAILED_OUTCOMES),
        dead=dead,
    )


# Backlogs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    bus: str
    rule: str
    target_id: str
    target_pk: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.bus}/{self.rule} → {self.target_id}"


def dead_letter_backlog(*, status: str = DeliveryStatus.DEAD) -> list[Backlog]:
    """Dead letters waiting for a redrive, per target, most first."""
    rows = (
        Delivery.objects.filter(status=status).order_by()
        .values_list("target__rule__bus__name", "target__rule__name", "target__target_id",
                     "target_id")
        .annotate(n=Count("id")).order_by("-n")
    )
    return [Backlog(bus, rule, target_id, pk, count) for bus, rule, target_id, pk, count in rows]


def deliveries_by_status(statuses: Sequence[str]) -> dict[tuple[str, str], int]:
    """(bus, status) → deliveries in that status now, for the (small) unfinished statuses."""
    rows = (
        Delivery.objects.filter(status__in=statuses).order_by()
        .values_list("target__rule__bus__name", "status").annotate(n=Count("id"))
    )
    return {(bus, status): count for bus, status, count in rows}


def attempts_by_target(*, since: datetime) -> dict[tuple[str, str, str, str], int]:
    """(bus, rule, target id, outcome) → attempts finished since `since`."""
    rows = (
        DeliveryAttempt.objects.filter(finished_at__gte=since).order_by()
        .values_list("delivery__target__rule__bus__name", "delivery__target__rule__name",
                     "delivery__target__target_id", "outcome")
        .annotate(n=Count("id"))
    )
    return {(bus, rule, target, outcome): n for bus, rule, target, outcome, n in rows}
