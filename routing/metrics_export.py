"""`GET /metrics`: the bus's and the shop's figures for Prometheus, in the text exposition format
0.0.4, written here (no client library: the figures are read from the database per scrape).

Counters count since 00:00 UTC today and so fall back to zero once a day, which Prometheus'
rate() and increase() read as an ordinary counter reset. A counter of every row ever stored
could not be kept honest: the retention purge deletes old events, and a counter that shrinks by
the purged amount is not a reset Prometheus can recognise. Today's rows are never purged (the
retention is at least a day), so a counter over them only grows. Other apps' families come from
the providers they register (routing.metric_providers): the shop's counters are its current
business day's. Gauges are the current state.

Access: `Authorization: Bearer <METRICS_BEARER_TOKEN>` when that setting is set, or a staff
session. See docs/dashboard.md."""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from coffeeshop.authorisation import is_staff
from routing.metric_providers import PrometheusFamily, prometheus_families
from routing.models import DeliveryStatus, ReplayState
from routing.selectors import metrics as figures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RECENT_LATENCY_WINDOW = timedelta(minutes=5)


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


@dataclass
class Family:
    """One metric: its name, help, type and samples (suffix, labels, value)."""

    name: str
    kind: str  # counter | gauge | histogram | summary
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((suffix, labels, value))

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {escape_help(self.help)}"
        yield f"# TYPE {self.name} {self.kind}"
        for suffix, labels, value in self.samples:
            text = ",".join(f'{key}="{escape_label_value(str(val))}"'
                            for key, val in labels.items())
            yield f"{self.name}{suffix}{{{text}}} {format_value(value)}" if text else \
                f"{self.name}{suffix} {format_value(value)}"


def render(families: Iterable[Family]) -> str:
    return "".join(f"{line}\n" for family in families for line in family.lines())


def collect(*, now: datetime | None = None) -> list[Family]:
    """Every family, read from the database now."""
    clock = time.perf_counter()
    now = now or timezone.now()
    since = figures.day_start(now)
    families: list[Family] = []

    started = Family("coffeeshop_counters_start_time_seconds", "gauge",
                     "When the *_total counters started counting (00:00 UTC today); they "
                     "reset to zero daily.")
    started.add(since.timestamp())
    families.append(started)

    events = Family("coffeeshop_events_total", "counter",
                    "Events ingested on each bus (PutEvents, the shop's services, forwards and "
                    "replays) since 00:00 UTC.")
    for bus, count in sorted(figures.events_by_bus(since=since).items()):
        events.add(count, bus=bus)
    families.append(events)

    matches = Family("coffeeshop_rule_matches_total", "counter",
                     "Events each rule matched (and created deliveries for) since 00:00 UTC.")
    for item in sorted(figures.rule_matches(since=since, limit=None),
                       key=lambda m: (m.bus, m.rule)):
        matches.add(item.matches, bus=item.bus, rule=item.rule)
    families.append(matches)

    attempts = Family("coffeeshop_delivery_attempts_total", "counter",
                      "Delivery attempts per target and outcome (succeeded, failed, lost) since "
                      "00:00 UTC.")
    for (bus, rule, target, outcome), count in sorted(
            figures.attempts_by_target(since=since).items()):
        attempts.add(count, bus=bus, rule=rule, target=target, outcome=outcome)
    families.append(attempts)

    histogram = Family("coffeeshop_delivery_latency_milliseconds", "histogram",
                       "Latency of delivery attempts (sending to the target and its answer), "
                       "in milliseconds, since 00:00 UTC.")
    for bus, data in sorted(figures.latency_histograms(since=since).items()):
        for bound, cumulative in data.buckets:
            histogram.add(cumulative, "_bucket", bus=bus, le=format_value(float(bound)))
        histogram.add(data.total, "_bucket", bus=bus, le="+Inf")
        histogram.add(data.sum_ms, "_sum", bus=bus)
        histogram.add(data.total, "_count", bus=bus)
    families.append(histogram)

    recent = figures.latency_quantiles(since=now - RECENT_LATENCY_WINDOW).get(None, {})
    for quantile, name in ((0.5, "p50"), (0.95, "p95")):
        family = Family(f"coffeeshop_delivery_latency_{name}_milliseconds", "gauge",
                        f"The {name} latency of delivery attempts over the last 5 minutes "
                        "(exact, nearest rank); NaN when there were none.")
        family.add(recent.get(quantile, math.nan))
        families.append(family)

    by_status = Family("coffeeshop_deliveries", "gauge",
                       "Deliveries not succeeded, per bus and status: pending and running are "
                       "in flight, dead are dead letters, dropped had dead-lettering off.")
    unfinished = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING, DeliveryStatus.DEAD,
                  DeliveryStatus.DROPPED)
    for (bus, status), count in sorted(figures.deliveries_by_status(unfinished).items()):
        by_status.add(count, bus=bus, status=status)
    families.append(by_status)

    dead = Family("coffeeshop_dead_letters", "gauge",
                  "Dead letters waiting for a redrive, per target.")
    for backlog in sorted(figures.dead_letter_backlog(),
                          key=lambda b: (b.bus, b.rule, b.target_id)):
        dead.add(backlog.count, bus=backlog.bus, rule=backlog.rule, target=backlog.target_id)
    families.append(dead)

    box = figures.outbox(now=now)
    pending = Family("coffeeshop_pending_routes", "gauge",
                     "Events stored but not yet matched against their bus's rules (the outbox).")
    pending.add(box.count)
    oldest = Family("coffeeshop_pending_route_oldest_age_seconds", "gauge",
                    "How long the oldest event in the outbox has waited (0 when it is empty).")
    oldest.add(box.oldest_age_seconds)
    families += [pending, oldest]

    rules = Family("coffeeshop_rules", "gauge", "Live rules per bus and state.")
    for (bus, state), count in sorted(figures.rules_by_state().items()):
        rules.add(count, bus=bus, state=state)
    replays = Family("coffeeshop_replays", "gauge", "Replays per state.")
    replay_counts = figures.replays_by_state()
    for state in ReplayState.values:
        replays.add(replay_counts.get(state, 0), state=state)
    families += [rules, replays]

    families += [_provided(family) for family in prometheus_families(now=now)]

    took = Family("coffeeshop_metrics_scrape_duration_seconds", "gauge",
                  "How long reading these figures from the database took.")
    took.add(round(time.perf_counter() - clock, 6))
    families.append(took)
    return families


def _provided(family: PrometheusFamily) -> Family:
    """A family another app's metrics provider gave, as this module writes its own."""
    return Family(family.name, family.kind, family.help,
                  [(sample.suffix, dict(sample.labels), sample.value)
                   for sample in family.samples])


def _bearer(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _allowed(request: HttpRequest) -> bool:
    token = str(settings.METRICS_BEARER_TOKEN or "")
    presented = _bearer(request)
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    return is_staff(request.user)


def _refusal(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not _bearer(request):
        return HttpResponse("Metrics are for staff or a scraper with the bearer token.\n",
                            status=403, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        "Send 'Authorization: Bearer <METRICS_BEARER_TOKEN>' or log in as staff.\n",
        status=401, content_type="text/plain; charset=utf-8",
    )
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return _refusal(request)
    response = HttpResponse(render(collect()), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
