"""The bus's figures for the dashboard's charts, its overview and the Prometheus endpoint: events
per minute per bus, matches per rule, delivery outcomes and latency, the dead-letter backlog,
the outbox. Other apps' figures (the shop's) come from the providers they register in
`routing.metric_providers`; nothing here reads another app's tables.

Everything is counted from the rows the database holds, with grouped queries over indexed time
ranges: no per-event Python work. One module per area:

- `time_buckets`: the ranges, `Timeline` and the database-side `BucketIndex`;
- `bus`: events, rule matches, rules and replays per state, the outbox;
- `deliveries`: outcomes, totals, backlogs, per-status and per-target counts;
- `latency`: exact quantiles and histograms;
- `overview`: the overview page's figures together."""

from routing.selectors.metrics.bus import (
    Outbox,
    RuleMatches,
    Series,
    events_by_bus,
    events_count,
    events_per_minute,
    outbox,
    replays_by_state,
    rule_matches,
    rules_by_state,
)
from routing.selectors.metrics.deliveries import (
    FAILED_OUTCOMES,
    FINISHED_BADLY,
    Backlog,
    DeliveryOutcomes,
    OutcomeTotals,
    attempts_by_target,
    dead_letter_backlog,
    deliveries_by_status,
    delivery_outcomes,
    delivery_totals,
)
from routing.selectors.metrics.latency import (
    LATENCY_BOUNDS_MS,
    LatencyHistogram,
    LatencySeries,
    latency_histograms,
    latency_over_time,
    latency_quantiles,
)
from routing.selectors.metrics.overview import Overview, overview
from routing.selectors.metrics.time_buckets import (
    DEFAULT_RANGE,
    RANGE_CHOICES,
    BucketIndex,
    RangeChoice,
    Timeline,
    day_start,
    fold,
    timeline,
)

__all__ = [
    "DEFAULT_RANGE",
    "FAILED_OUTCOMES",
    "FINISHED_BADLY",
    "LATENCY_BOUNDS_MS",
    "RANGE_CHOICES",
    "Backlog",
    "BucketIndex",
    "DeliveryOutcomes",
    "LatencyHistogram",
    "LatencySeries",
    "Outbox",
    "OutcomeTotals",
    "Overview",
    "RangeChoice",
    "RuleMatches",
    "Series",
    "Timeline",
    "attempts_by_target",
    "day_start",
    "dead_letter_backlog",
    "deliveries_by_status",
    "delivery_outcomes",
    "delivery_totals",
    "events_by_bus",
    "events_count",
    "events_per_minute",
    "fold",
    "latency_histograms",
    "latency_over_time",
    "latency_quantiles",
    "outbox",
    "overview",
    "replays_by_state",
    "rule_matches",
    "rules_by_state",
    "timeline",
]
