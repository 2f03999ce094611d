"""GET /metrics: who may read it, and that what it writes is Prometheus' text format 0.0.4 —
every line parseable, HELP and TYPE before each family's samples, labels escaped, histograms
cumulative — with the figures the database holds."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from routing.metrics_export import (
    Family,
    escape_help,
    escape_label_value,
    format_value,
    render,
)
from routing.models import AttemptOutcome, DeliveryStatus, EventBus, PendingRoute
from tests.routing.dashboard.test_explorer_support import (
    make_delivery,
    make_event,
    make_rule_with_target,
    make_user,
    staff_client,
)

pytestmark = pytest.mark.django_db

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
LABEL = rf"[a-zA-Z_][a-zA-Z0-9_]*={LABEL_VALUE}"
LABELS = rf"\{{(?:{LABEL}(?:,{LABEL})*)?\}}"
VALUE = r"(?:[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|NaN|[+-]Inf)"
SAMPLE = re.compile(rf"^({NAME})({LABELS})? ({VALUE})$")
LABEL_PAIR = re.compile(rf'([a-zA-Z_][a-zA-Z0-9_]*)=({LABEL_VALUE})')
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}


def unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), quoted[1:-1])


def parse(text: str) -> dict[str, dict]:
    """A strict reader of the format: fails on any line that is not HELP, TYPE or a sample of
    a family declared before it."""
    assert text.endswith("\n")
    families: dict[str, dict] = {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            _, _, name, *help_words = line.split(" ")
            assert re.fullmatch(NAME, name), line
            assert name not in families, line
            families[name] = {"help": " ".join(help_words), "type": None, "samples": []}
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert families[name]["type"] is None, line
            assert not families[name]["samples"], line
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            families[name]["type"] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            sample_name, labels, value = match.groups()
            family = next((name for name, data in families.items()
                           if sample_name == name or any(
                               sample_name == name + suffix
                               for suffix in SUFFIXES.get(data["type"], ()))), None)
            assert family is not None, f"sample of an undeclared family: {line!r}"
            assert families[family]["type"] is not None, line
            pairs = {key: unescape(raw) for key, raw in LABEL_PAIR.findall(labels or "")}
            families[family]["samples"].append((sample_name, pairs, float(value)))
    return families


def scrape(client: Client) -> dict[str, dict]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.content.decode())


def test_metrics_need_staff_or_the_bearer_token() -> None:
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    customer = Client()
    customer.force_login(make_user("customer", staff=False))
    assert customer.get("/metrics").status_code == 403
    assert staff_client().get("/metrics").status_code == 200

    with override_settings(METRICS_BEARER_TOKEN="scrape-me"):
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Basic scrape-me").status_code == 401
    with override_settings(METRICS_BEARER_TOKEN=""):
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert Client().post("/metrics").status_code in (401, 405)


def test_every_family_is_declared_and_parseable_on_an_empty_bus(default_bus: EventBus) -> None:
    families = scrape(staff_client())
    for name, data in families.items():
        assert data["help"], name
        assert data["type"], name
    assert families["coffeeshop_events_total"]["type"] == "counter"
    assert families["coffeeshop_dead_letters"]["type"] == "gauge"
    assert families["coffeeshop_delivery_latency_milliseconds"]["type"] == "histogram"
    assert families["coffeeshop_shop_wait_seconds"]["type"] == "summary"
    (p50,) = families["coffeeshop_delivery_latency_p50_milliseconds"]["samples"]
    assert p50[2] != p50[2]  # NaN: no attempt in the window


def test_figures_match_the_database(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus, name="orders", target_id="kitchen")
    for latency in (0.5, 4.0, 40.0):
        make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                      attempts=[(AttemptOutcome.SUCCEEDED, latency)])
    make_delivery(make_event(default_bus), target, status=DeliveryStatus.DEAD,
                  attempts=[(AttemptOutcome.FAILED, 7.0), (AttemptOutcome.FAILED, 9.0)])
    waiting = make_event(default_bus)
    PendingRoute.objects.create(event=waiting, created_at=timezone.now() - timedelta(seconds=8))
    yesterday = timezone.now() - timedelta(days=1, hours=1)
    make_event(default_bus, ingested_at=yesterday)  # before today's counters started

    families = scrape(staff_client())
    samples = defaultdict(list)
    for data in families.values():
        for name, labels, value in data["samples"]:
            samples[name].append((labels, value))

    assert samples["coffeeshop_events_total"] == [({"bus": "default"}, 5.0)]
    assert samples["coffeeshop_rule_matches_total"] == [({"bus": "default", "rule": "orders"},
                                                         4.0)]
    attempts = {labels["outcome"]: value for labels, value in
                samples["coffeeshop_delivery_attempts_total"]}
    assert attempts == {"succeeded": 3.0, "failed": 2.0}
    assert samples["coffeeshop_dead_letters"] == [
        ({"bus": "default", "rule": "orders", "target": "kitchen"}, 1.0)]
    assert samples["coffeeshop_pending_routes"] == [({}, 1.0)]
    assert 7 < samples["coffeeshop_pending_route_oldest_age_seconds"][0][1] < 30

    buckets = [(labels["le"], value) for labels, value in
               samples["coffeeshop_delivery_latency_milliseconds_bucket"]]
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), "histogram buckets must be cumulative"
    assert buckets[-1] == ("+Inf", 5.0)
    assert dict(buckets)["1"] == 1.0
    assert dict(buckets)["5"] == 2.0
    assert dict(buckets)["10"] == 4.0
    assert samples["coffeeshop_delivery_latency_milliseconds_count"] == [({"bus": "default"},
                                                                         5.0)]
    assert samples["coffeeshop_delivery_latency_milliseconds_sum"][0][1] == pytest.approx(60.5)
    assert samples["coffeeshop_delivery_latency_p95_milliseconds"] == [({}, 40.0)]
    assert ({"bus": "default", "status": "dead"}, 1.0) in samples["coffeeshop_deliveries"]


def test_shop_counters_with_awkward_names_are_escaped() -> None:
    from orders.models import DailyMetric
    from tests.orders.test_live_support import make_shop

    shop = make_shop("corner")
    today = shop.business_date(timezone.now())
    awkward = 'Say "hi" \\ to\nme'
    DailyMetric.objects.create(shop=shop, business_date=today, name=f"drink.{awkward}", count=2)
    DailyMetric.objects.create(shop=shop, business_date=today, name="orders.completed", count=3)
    DailyMetric.objects.create(shop=shop, business_date=today, name="wait.Latte", count=2,
                               total=190.0)
    DailyMetric.objects.create(shop=shop, business_date=today - timedelta(days=1),
                               name="orders.completed", count=9)  # yesterday: not counted
    families = scrape(staff_client())
    drinks = families["coffeeshop_shop_drinks_total"]["samples"]
    assert drinks == [("coffeeshop_shop_drinks_total", {"shop": "corner", "drink": awkward}, 2.0)]
    orders = {labels["outcome"]: value for _, labels, value in
              families["coffeeshop_shop_orders_total"]["samples"]}
    assert orders["completed"] == 3.0
    assert orders["started"] == 0.0
    waits = {name: value for name, _, value in families["coffeeshop_shop_wait_seconds"]["samples"]}
    assert waits == {"coffeeshop_shop_wait_seconds_sum": 190.0,
                     "coffeeshop_shop_wait_seconds_count": 2.0}


def test_the_writer_escapes_and_formats() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert escape_help("line\nwith \\ and \"quotes\"") == 'line\\nwith \\\\ and "quotes"'
    assert [format_value(v) for v in (3.0, 0.25, float("nan"), float("inf"), -float("inf"))] == [
        "3", "0.25", "NaN", "+Inf", "-Inf"]
    family = Family("x_total", "counter", "Help with\na newline.")
    family.add(1, path='C:\\tmp "x"')
    family.add(2)
    text = render([family])
    assert text == ('# HELP x_total Help with\\na newline.\n# TYPE x_total counter\n'
                    'x_total{path="C:\\\\tmp \\"x\\""} 1\nx_total 2\n')
    assert parse(text)["x_total"]["samples"][0][1] == {"path": 'C:\\tmp "x"'}
