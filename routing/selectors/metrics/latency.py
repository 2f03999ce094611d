"""Delivery latency: exact quantiles (overall and per bucket) and Prometheus' histograms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber

from routing.models import AttemptOutcome, DeliveryAttempt
from routing.selectors.metrics.time_buckets import BucketIndex, Timeline

# Upper bounds (ms) of the latency histogram's buckets: steps of at most 1.5x, so a quantile
# estimated inside a bucket is never far off. The same buckets go to Prometheus.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
    1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 30000,
)


def _timed_attempts(since: datetime, until: datetime | None) -> QuerySet[DeliveryAttempt]:
    # A lost attempt (its worker died) has no real latency.
    attempts = DeliveryAttempt.objects.filter(finished_at__gte=since).exclude(
        outcome=AttemptOutcome.LOST)
    if until is not None:
        attempts = attempts.filter(finished_at__lt=until)
    return attempts.order_by()


def latency_quantiles(
    *, since: datetime, until: datetime | None = None, quantiles: Sequence[float] = (0.5, 0.95),
    line: Timeline | None = None,
) -> dict[int | None, dict[float, float]]:
    """Exact nearest-rank quantiles of the attempts' latency (ms): for the whole period (key
    None), or per bucket of `line` (key: the bucket's index).

    One query: the database ranks each group's latencies with window functions and returns
    only the rows at the wanted ranks (rank = ceil(q * size), i.e. q*size <= rank < q*size+1)."""
    attempts = _timed_attempts(since, until)
    partition = [BucketIndex("finished_at", line)] if line is not None else None
    ranked = attempts.annotate(
        rank=Window(RowNumber(), partition_by=partition, order_by=F("latency_ms").asc()),
        size=Window(Count("id"), partition_by=partition),
    )
    if line is not None:
        ranked = ranked.annotate(slot=BucketIndex("finished_at", line))
    wanted = Q()
    for quantile in quantiles:
        wanted |= Q(rank__gte=F("size") * Value(quantile),
                    rank__lt=F("size") * Value(quantile) + Value(1))
    columns = ["slot"] if line is not None else []
    rows = ranked.filter(wanted).values_list(*columns, "rank", "size", "latency_ms")
    result: dict[int | None, dict[float, float]] = defaultdict(dict)
    for row in rows:
        key = row[0] if line is not None else None
        rank, size, latency = row[-3:]
        for quantile in quantiles:
            if quantile * size <= rank < quantile * size + 1:
                result[key][quantile] = float(latency)
    return dict(result)


@dataclass
class LatencySeries:
    p50: list[float | None]
    p95: list[float | None]
    overall: dict[float, float]


def latency_over_time(line: Timeline) -> LatencySeries:
    per_bucket = latency_quantiles(since=line.start, until=line.end, line=line)
    overall = latency_quantiles(since=line.start, until=line.end).get(None, {})
    p50: list[float | None] = [None] * line.count
    p95: list[float | None] = [None] * line.count
    for position, values in per_bucket.items():
        if position is not None and 0 <= position < line.count:
            p50[position], p95[position] = values.get(0.5), values.get(0.95)
    return LatencySeries(p50, p95, overall)


@dataclass
class LatencyHistogram:
    """Cumulative counts per upper bound (ms), as Prometheus wants them, plus sum and count."""

    buckets: list[tuple[float, int]]
    total: int
    sum_ms: float


def latency_histograms(*, since: datetime) -> dict[str, LatencyHistogram]:
    """Per bus, the histogram of attempt latencies since `since` (one grouped query)."""
    index = Case(
        *[When(latency_ms__lte=bound, then=Value(position))
          for position, bound in enumerate(LATENCY_BOUNDS_MS)],
        default=Value(len(LATENCY_BOUNDS_MS)),
        output_field=IntegerField(),
    )
    rows = (
        _timed_attempts(since, None).annotate(slot=index)
        .values_list("delivery__event__bus__name", "slot")
        .annotate(n=Count("id"), total=Sum("latency_ms"))
    )
    raw: dict[str, list[int]] = defaultdict(lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))
    sums: dict[str, float] = defaultdict(float)
    for bus, slot, count, total in rows:
        raw[bus][slot] += count
        sums[bus] += total or 0.0
    histograms = {}
    for bus, counts in raw.items():
        running, buckets = 0, []
        for bound, count in zip(LATENCY_BOUNDS_MS, counts, strict=False):
            running += count
            buckets.append((bound, running))
        histograms[bus] = LatencyHistogram(buckets, sum(counts), sums[bus])
    return histograms
