"""Figures other apps give the dashboard through routing.metric_providers: drawn on the metrics
page and written to /metrics as routing's own are, and gone when their provider is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from routing.metric_providers import (
    DailyColumns,
    DailySeries,
    DashboardSection,
    Panel,
    PrometheusFamily,
    RankedBar,
    RankedBars,
    Sample,
    metrics_providers,
    register_metrics_provider,
    unregister_metrics_provider,
)
from tests.routing.dashboard.test_explorer_support import staff_client

pytestmark = pytest.mark.django_db


class KilnMetrics:
    """A second app's figures: one kiln, its firings per day and its hottest glazes."""

    key = "kiln"

    def __init__(self) -> None:
        self.asked: list[int] = []

    def dashboard(self, *, days: int, now: datetime) -> DashboardSection:
        self.asked.append(days)
        today = now.date()
        return DashboardSection(title="The pottery", empty_text="No kiln yet.", panels=[
            Panel(name="Big Kiln", key="big-kiln", period=f"last {days} days", charts=[
                DailyColumns(title="Firings per day", label="Big Kiln: firings per day",
                             days=[today - timedelta(days=1), today],
                             series=[DailySeries("bisque", [2.0, 7.0])]),
                RankedBars(title="Longest firings", label="Big Kiln: longest firings",
                           bars=[RankedBar("Celadon", 125.0)], unit="seconds",
                           empty_text="No firing", note="From lighting to cooling."),
            ]),
        ])

    def prometheus(self, *, now: datetime) -> list[PrometheusFamily]:
        return [PrometheusFamily("pottery_firings_total", "counter", "Firings today.",
                                 [Sample(3, {"kiln": 'big "one"'})])]


@pytest.fixture
def kiln() -> Iterator[KilnMetrics]:
    provider = KilnMetrics()
    register_metrics_provider(provider)
    yield provider
    unregister_metrics_provider(provider.key)


def test_a_key_has_one_provider(kiln: KilnMetrics) -> None:
    assert register_metrics_provider(kiln) is kiln  # the same one again is no change
    with pytest.raises(ValueError, match="'kiln' is already registered"):
        register_metrics_provider(KilnMetrics())
    assert [p for p in metrics_providers() if p.key == "kiln"] == [kiln]


def test_the_metrics_page_draws_a_providers_charts(kiln: KilnMetrics) -> None:
    html = staff_client().get("/dashboard/metrics/", {"range": "7d"}).content.decode()
    assert kiln.asked == [7]
    assert '<h2 class="section-title">The pottery</h2>' in html
    assert 'Big Kiln <span class="muted small mono">big-kiln</span>' in html
    assert 'aria-label="Big Kiln: firings per day"' in html
    assert f"{timezone.now():%a %d}" in html
    assert "2 min 05 s" in html  # the seconds unit is written as a wait
    assert "From lighting to cooling." in html


def test_the_metrics_endpoint_writes_a_providers_families(kiln: KilnMetrics) -> None:
    text = staff_client().get("/metrics").content.decode()
    assert "# TYPE pottery_firings_total counter\n" in text
    assert 'pottery_firings_total{kiln="big \\"one\\""} 3\n' in text


def test_without_the_provider_its_figures_are_gone() -> None:
    client = staff_client()
    assert "The pottery" not in client.get("/dashboard/metrics/").content.decode()
    assert "pottery_firings_total" not in client.get("/metrics").content.decode()
