"""The registry through which other apps add their own figures to the dashboard's metrics page
and to `GET /metrics`, so that routing never reads another app's tables.

An app registers a provider when it is ready, as it registers its handlers:

    from routing.metric_providers import register_metrics_provider

    class ShopMetrics:
        key = "orders"
        def dashboard(self, *, days, now): return DashboardSection(...)
        def prometheus(self, *, now): return [PrometheusFamily(...), ...]

    register_metrics_provider(ShopMetrics())

The figures are plain typed values (charts to draw, samples to expose); what they mean and how
they are counted stays with the app that owns them. Routing draws and writes them as it does
its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

# Dashboard charts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySeries:
    name: str
    values: Sequence[float]  # one per day of the chart, oldest first


@dataclass(frozen=True)
class DailyColumns:
    """Grouped columns, one group per day, one column per series."""

    title: str
    label: str  # the chart's accessible name
    days: Sequence[date]
    series: Sequence[DailySeries]
    note: str = ""


@dataclass(frozen=True)
class RankedBar:
    label: str
    value: float


@dataclass(frozen=True)
class RankedBars:
    """Horizontal bars in the order given (largest first, usually)."""

    title: str
    label: str
    bars: Sequence[RankedBar]
    empty_text: str
    unit: Literal["count", "seconds"] = "count"
    colour: str | None = None  # the dashboard's first colour when None
    note: str = ""


Chart = DailyColumns | RankedBars


@dataclass(frozen=True)
class Panel:
    """One subject's charts (one shop, say) under a heading."""

    name: str
    key: str  # a short identifier shown beside the name
    period: str  # which days the charts cover, in words
    charts: Sequence[Chart]


@dataclass(frozen=True)
class DashboardSection:
    title: str
    panels: Sequence[Panel]
    empty_text: str  # shown when there are no panels


# Prometheus families -------------------------------------------------------------------------

MetricKind = Literal["counter", "gauge", "histogram", "summary"]


@dataclass(frozen=True)
class Sample:
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    suffix: str = ""  # "_sum", "_count", "_bucket" for summaries and histograms


@dataclass(frozen=True)
class PrometheusFamily:
    name: str
    kind: MetricKind
    help: str
    samples: Sequence[Sample]


# The registry --------------------------------------------------------------------------------


class MetricsProvider(Protocol):
    @property
    def key(self) -> str:
        """Unique among providers; registering the same key twice is refused."""
        ...

    def dashboard(self, *, days: int, now: datetime) -> DashboardSection:
        """The section of the metrics page: daily figures of the last `days` days."""
        ...

    def prometheus(self, *, now: datetime) -> Sequence[PrometheusFamily]:
        """Families for `GET /metrics`; their names must not clash with routing's own."""
        ...


_providers: dict[str, MetricsProvider] = {}


def register_metrics_provider(provider: MetricsProvider) -> MetricsProvider:
    existing = _providers.get(provider.key)
    if existing is not None and existing is not provider:
        raise ValueError(f"a metrics provider with key {provider.key!r} is already registered "
                         f"({existing!r})")
    _providers[provider.key] = provider
    return provider


def unregister_metrics_provider(key: str) -> None:
    _providers.pop(key, None)


def metrics_providers() -> list[MetricsProvider]:
    """Every registered provider, in the order they registered."""
    return list(_providers.values())


def dashboard_sections(*, days: int, now: datetime) -> list[DashboardSection]:
    return [provider.dashboard(days=days, now=now) for provider in metrics_providers()]


def prometheus_families(*, now: datetime) -> list[PrometheusFamily]:
    return [family for provider in metrics_providers() for family in provider.prometheus(now=now)]
