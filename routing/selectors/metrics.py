"""The bus's figures for the dashboard's charts, its overview and the Prometheus endpoint: events
per minute per bus, matches per rule, delivery outcomes and latency, the dead-letter backlog,
the outbox; and, when the shop (the `orders` app) is installed, its daily counters.

Everything is counted from the rows the database holds, with grouped queries over indexed time
ranges: no per-event Python work. Each row's time bucket is computed by the database itself
(`BucketIndex`), with native date arithmetic: Django's Trunc functions would call a Python
function per row on SQLite."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from routing.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventBus,
    PendingRoute,
    Replay,
    ReplayState,
    Rule,
)

# Upper bounds (ms) of the latency histogram's buckets: steps of at most 1.5x, so a quantile
# estimated inside a bucket is never far off. The same buckets go to Prometheus.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
    1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 30000,
)
FAILED_OUTCOMES = (AttemptOutcome.FAILED, AttemptOutcome.LOST)
FINISHED_BADLY = (DeliveryStatus.DEAD, DeliveryStatus.DROPPED)


# Time ranges and buckets ---------------------------------------------------------------------

@dataclass(frozen=True)
class RangeChoice:
    key: str
    label: str
    seconds: int
    bucket_seconds: int


RANGE_CHOICES: tuple[RangeChoice, ...] = (
    RangeChoice("15m", "15 minutes", 15 * 60, 60),
    RangeChoice("1h", "1 hour", 3600, 60),
    RangeChoice("6h", "6 hours", 6 * 3600, 5 * 60),
    RangeChoice("24h", "24 hours", 24 * 3600, 15 * 60),
    RangeChoice("7d", "7 days", 7 * 24 * 3600, 2 * 3600),
)
DEFAULT_RANGE = "1h"


@dataclass(frozen=True)
class Timeline:
    """`count` buckets of `bucket_seconds`, the last one holding `now` (so it is partial)."""

    start: datetime
    end: datetime
    bucket_seconds: int
    choice: RangeChoice

    @property
    def count(self) -> int:
        return int((self.end - self.start).total_seconds()) // self.bucket_seconds

    @property
    def starts(self) -> list[datetime]:
        step = timedelta(seconds=self.bucket_seconds)
        return [self.start + step * index for index in range(self.count)]

    def index(self, moment: datetime) -> int | None:
        offset = int((moment - self.start).total_seconds() // self.bucket_seconds)
        return offset if 0 <= offset < self.count else None

    def zeros(self) -> list[float]:
        return [0.0] * self.count


def timeline(key: str = DEFAULT_RANGE, *, now: datetime | None = None) -> Timeline:
    choice = next((c for c in RANGE_CHOICES if c.key == key), None)
    if choice is None:
        choice = next(c for c in RANGE_CHOICES if c.key == DEFAULT_RANGE)
    now = now or timezone.now()
    epoch = int(now.timestamp())
    end = datetime.fromtimestamp(epoch - epoch % choice.bucket_seconds + choice.bucket_seconds,
                                 tz=UTC)
    return Timeline(start=end - timedelta(seconds=choice.seconds), end=end,
                    bucket_seconds=choice.bucket_seconds, choice=choice)


class BucketIndex(Func):
    """Which of the timeline's buckets a timestamp column falls in (0, 1, ...), computed by the
    database: whole seconds since the timeline's start, divided by the bucket's length."""

    output_field = IntegerField()

    def __init__(self, expression: Any, line: Timeline) -> None:
        self.start_epoch = int(line.start.timestamp())
        self.bucket_seconds = int(line.bucket_seconds)
        super().__init__(expression)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
                  **extra: Any) -> Any:
        # strftime('%s') reads Django's UTC text as whole Unix seconds (integer arithmetic, so
        # a row on a bucket's edge lands in that bucket). '%%%%' reaches SQLite as one '%'.
        template = (f"((CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) "
                    f"- {self.start_epoch}) / {self.bucket_seconds})")
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
                      **extra: Any) -> Any:
        template = (f"CAST(FLOOR((EXTRACT(EPOCH FROM %(expressions)s) - {self.start_epoch}) "
                    f"/ {self.bucket_seconds}) AS INTEGER)")
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               function: str | None = None, template: str | None = None,
               arg_joiner: str | None = None, **extra: Any) -> Any:
        if template is None:
            raise NotSupportedError("The dashboard's metrics support SQLite and PostgreSQL.")
        return super().as_sql(compiler, connection, function=function, template=template,
                              arg_joiner=arg_joiner, **extra)


def _fold(line: Timeline, rows: Iterable[tuple[int, float]]) -> list[float]:
    """(bucket index, value) rows summed into the timeline's buckets."""
    values = line.zeros()
    for position, value in rows:
        if position is not None and 0 <= position < line.count:
            values[position] += value
    return values


# Events --------------------------------------------------------------------------------------

@dataclass
class Series:
    name: str
    values: list[float]


def events_per_minute(line: Timeline) -> list[Series]:
    """Per bus, the events ingested per minute (averaged over each bucket). Busiest first."""
    rows = (
        Event.objects.filter(ingested_at__gte=line.start, ingested_at__lt=line.end).order_by()
        .annotate(slot=BucketIndex("ingested_at", line))
        .values_list("bus_id", "slot").annotate(n=Count("id"))
    )
    per_bus: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for bus_id, slot, count in rows:
        per_bus[bus_id].append((slot, count))
    names = dict(EventBus.all_objects.filter(pk__in=per_bus).values_list("pk", "name"))
    minutes = line.bucket_seconds / 60
    series = [Series(names[bus_id], [value / minutes for value in _fold(line, keyed)])
              for bus_id, keyed in per_bus.items()]
    return sorted(series, key=lambda s: (-sum(s.values), s.name))


def events_count(*, since: datetime, until: datetime | None = None) -> int:
    events = Event.objects.filter(ingested_at__gte=since)
    if until is not None:
        events = events.filter(ingested_at__lt=until)
    return events.count()


# Rules ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleMatches:
    bus: str
    rule: str
    rule_id: int
    matches: int
    deleted: bool

    @property
    def label(self) -> str:
        return f"{self.bus}/{self.rule}"


def rule_matches(*, since: datetime, until: datetime | None = None,
                 limit: int | None = 20) -> list[RuleMatches]:
    """Events each rule matched in the period, most first. A match leaves a record only as a
    delivery, so a rule without targets (which delivers nothing) is not counted."""
    deliveries = Delivery.objects.filter(created_at__gte=since)
    if until is not None:
        deliveries = deliveries.filter(created_at__lt=until)
    counts = list(
        deliveries.order_by().values_list("target__rule_id")
        .annotate(n=Count("event_id", distinct=True)).order_by("-n")
    )
    if limit is not None:
        counts = counts[:limit]
    rules = {rule.pk: rule for rule in
             Rule.objects.select_related("bus").filter(pk__in=[pk for pk, _ in counts])}
    return [RuleMatches(rules[pk].bus.name, rules[pk].name, pk, n,
                        rules[pk].deleted_at is not None) for pk, n in counts]


# Deliveries ----------------------------------------------------------------------------------

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
    return DeliveryOutcomes(_fold(line, good), _fold(line, bad), _fold(line, dead))


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


# Latency -------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Outbox:
    count: int
    oldest_age_seconds: float


def outbox(*, now: datetime | None = None) -> Outbox:
    """Events stored but not routed yet (PendingRoute rows) and how long the oldest waited."""
    now = now or timezone.now()
    figures = PendingRoute.objects.aggregate(n=Count("event_id"), oldest=Min("created_at"))
    oldest = figures["oldest"]
    return Outbox(figures["n"], (now - oldest).total_seconds() if oldest else 0.0)


def replays_by_state() -> dict[str, int]:
    return dict(Replay.objects.order_by().values_list("state").annotate(n=Count("id")))


def rules_by_state() -> dict[tuple[str, str], int]:
    rows = (Rule.objects.filter(deleted_at__isnull=True).order_by()
            .values_list("bus__name", "state").annotate(n=Count("id")))
    return {(bus, state): count for bus, state, count in rows}


# The overview --------------------------------------------------------------------------------

@dataclass
class Overview:
    events_last_minute: int
    events_per_minute_5m: float
    succeeded_last_hour: int
    failed_last_hour: int
    dead_last_hour: int
    dead_letter_backlog: int
    dropped: int
    in_flight: int
    p50_ms: float | None
    p95_ms: float | None
    outbox: Outbox
    active_replays: int
    sparkline: list[float]
    newest_event_at: datetime | None


def overview(*, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    hour_ago = now - timedelta(hours=1)
    totals = delivery_totals(since=hour_ago)
    latency = latency_quantiles(since=hour_ago).get(None, {})
    unfinished = dict(
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RUNNING,
                                            DeliveryStatus.DEAD, DeliveryStatus.DROPPED])
        .order_by().values_list("status").annotate(n=Count("id"))
    )
    replays = replays_by_state()
    spark = timeline("1h", now=now)
    per_bus = events_per_minute(spark)
    return Overview(
        events_last_minute=events_count(since=now - timedelta(minutes=1)),
        events_per_minute_5m=events_count(since=now - timedelta(minutes=5)) / 5,
        succeeded_last_hour=totals.succeeded,
        failed_last_hour=totals.failed,
        dead_last_hour=totals.dead,
        dead_letter_backlog=unfinished.get(DeliveryStatus.DEAD, 0),
        dropped=unfinished.get(DeliveryStatus.DROPPED, 0),
        in_flight=unfinished.get(DeliveryStatus.PENDING, 0)
        + unfinished.get(DeliveryStatus.RUNNING, 0),
        p50_ms=latency.get(0.5),
        p95_ms=latency.get(0.95),
        outbox=outbox(now=now),
        active_replays=sum(replays.get(state, 0) for state in
                           (ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING)),
        sparkline=[sum(values) for values in zip(*(s.values for s in per_bus), strict=True)]
        if per_bus else spark.zeros(),
        newest_event_at=Event.objects.aggregate(newest=Max("ingested_at"))["newest"],
    )


# The shop ------------------------------------------------------------------------------------

ORDER_OUTCOMES = ("started", "completed", "cancelled", "timed_out", "unavailable")


@dataclass
class ShopFigures:
    slug: str
    name: str
    dates: list[date]
    orders: dict[str, list[int]]  # outcome → count per day
    drinks: list[tuple[str, int]]  # most sold first
    average_wait_seconds: list[tuple[str, float]]  # longest first
    today: dict[str, Any] = field(default_factory=dict)


def shop_installed() -> bool:
    return apps.is_installed("orders")


def shop_figures(*, days: int = 7, now: datetime | None = None) -> list[ShopFigures]:
    """Each shop's daily counters (orders.models.DailyMetric, kept by the shop's metrics
    subscriber) for its last `days` business days. Empty when the shop app is not installed:
    the bus never imports the shop, it reads its tables by name."""
    if not shop_installed():
        return []
    shop_model = apps.get_model("orders", "Shop")
    metric_model = apps.get_model("orders", "DailyMetric")
    now = now or timezone.now()
    figures = []
    for shop in shop_model.objects.order_by("name"):
        today = shop.business_date(now)
        dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
        position = {day: index for index, day in enumerate(dates)}
        orders = {outcome: [0] * days for outcome in ORDER_OUTCOMES}
        drinks: dict[str, int] = defaultdict(int)
        waits: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        rows = metric_model.objects.filter(shop=shop, business_date__in=dates).values_list(
            "business_date", "name", "count", "total")
        for day, name, count, total in rows:
            kind, _, rest = name.partition(".")
            if kind == "orders" and rest in orders:
                orders[rest][position[day]] += count
            elif kind == "drink" and rest:
                drinks[rest] += count
            elif kind == "wait" and rest:
                waits[rest][0] += total
                waits[rest][1] += count
        figures.append(ShopFigures(
            slug=shop.slug,
            name=shop.name,
            dates=dates,
            orders=orders,
            drinks=sorted(drinks.items(), key=lambda item: (-item[1], item[0])),
            average_wait_seconds=sorted(
                ((drink, total / count) for drink, (total, count) in waits.items() if count),
                key=lambda item: (-item[1], item[0]),
            ),
        ))
    return figures


@dataclass
class ShopToday:
    """One shop's counters for its current business day (the Prometheus endpoint's)."""

    slug: str
    orders: dict[str, int]
    drinks: dict[str, int]
    waits: dict[str, tuple[int, float]]  # drink → (count, total seconds)


def shop_today(*, now: datetime | None = None) -> list[ShopToday]:
    if not shop_installed():
        return []
    shop_model = apps.get_model("orders", "Shop")
    metric_model = apps.get_model("orders", "DailyMetric")
    now = now or timezone.now()
    result = []
    for shop in shop_model.objects.order_by("slug"):
        orders = dict.fromkeys(ORDER_OUTCOMES, 0)
        drinks: dict[str, int] = {}
        waits: dict[str, tuple[int, float]] = {}
        rows = metric_model.objects.filter(shop=shop, business_date=shop.business_date(now))
        for name, count, total in rows.values_list("name", "count", "total"):
            kind, _, rest = name.partition(".")
            if kind == "orders" and rest in orders:
                orders[rest] = count
            elif kind == "drink" and rest:
                drinks[rest] = count
            elif kind == "wait" and rest:
                waits[rest] = (count, total)
        result.append(ShopToday(shop.slug, orders, drinks, waits))
    return result


# Counters for Prometheus ---------------------------------------------------------------------

def day_start(now: datetime | None = None) -> datetime:
    """00:00 UTC today: the Prometheus counters count from here (see docs/dashboard.md)."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def events_by_bus(*, since: datetime) -> dict[str, int]:
    return dict(Event.objects.filter(ingested_at__gte=since).order_by()
                .values_list("bus__name").annotate(n=Count("id")))


def attempts_by_target(*, since: datetime) -> dict[tuple[str, str, str, str], int]:
    """(bus, rule, target id, outcome) → attempts finished since `since`."""
    rows = (
        DeliveryAttempt.objects.filter(finished_at__gte=since).order_by()
        .values_list("delivery__target__rule__bus__name", "delivery__target__rule__name",
                     "delivery__target__target_id", "outcome")
        .annotate(n=Count("id"))
    )
    return {(bus, rule, target, outcome): n for bus, rule, target, outcome, n in rows}
