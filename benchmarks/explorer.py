"""The event explorer with a million events: how long its queries take.

    .venv/bin/python -m benchmarks.explorer               # 1,000,000 events (a few minutes)
    .venv/bin/python -m benchmarks.explorer --events 200000 --keep

Builds a throwaway SQLite database (migrated like the real one), bulk-inserts the events
spread over the last 7 days on three buses, 100,000 deliveries with their attempts (2% of them
dead letters), then times the explorer's own selectors — the newest page, filtered pages, a
page a million rows deep (and, for comparison, the same page by OFFSET), field searches, the
live tail's poll, the dead-letter list, the metrics — printing the median of several runs in
milliseconds and the query plan of the interesting ones. Figures, not assertions: they vary
with the machine."""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BUSES = (("default", 0.7), ("payments", 0.2), ("Serverlesspresso", 0.1))
SOURCES = ("shop", "till", "kitchen", "loyalty", "inventory", "website", "kiosk", "courier")
TYPES = tuple(f"{kind}.{step}" for kind in ("Order", "Payment", "Stock", "Visit")
              for step in ("Created", "Updated", "Completed", "Cancelled", "Failed"))
DRINKS = ("Latte", "Espresso", "Cappuccino", "Flat White", "Americano", "Mocha")
SPAN = timedelta(days=7)
DELIVERIES = 100_000


def configure(database: Path) -> None:
    """Points Django at the throwaway database before anything imports it."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "coffeeshop.settings.local"
    import django

    django.setup()


def stamp(moment: datetime) -> str:
    # How Django stores an aware datetime on SQLite: UTC, no offset.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class RawInsert:
    """A multi-row INSERT of a model's table that names every column: the given values by
    name, each other column its model default, so a column added later needs no change here."""

    def __init__(self, model: Any, given: tuple[str, ...]) -> None:
        from django.db import connection

        fields = [field for field in model._meta.concrete_fields if field.column not in given]
        self.given = given
        self.defaults = tuple(field.get_db_prep_save(field.get_default(), connection)
                              for field in fields)
        columns = (*given, *(field.column for field in fields))
        self.sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 (names from the model)
                    f"VALUES ({', '.join('?' for _ in columns)})")

    def rows(self, values: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [(*row, *self.defaults) for row in values]


def fill(database: Path, count: int, now: datetime, seed: int = 7) -> dict[str, Any]:
    """Bulk-inserts with the sqlite3 module (no ORM, one transaction, no journal): events,
    then rules, targets, deliveries and attempts for a sample of them."""
    from django.core.management import call_command
    from django.db import connection

    from routing.models import Delivery, DeliveryAttempt, Event, EventBus, Target
    from routing.services import Actor, TargetSpec, rule_put, targets_put

    call_command("migrate", verbosity=0)
    actor = Actor.system("bench")
    buses = {}
    for name, _ in BUSES:  # the migrations made "default"
        buses[name] = EventBus.objects.get_or_create(name=name)[0].pk
    rule = rule_put(bus_name="default", name="orders", event_pattern={"source": ["shop"]},
                    actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("kitchen", "webhook", "http://127.0.0.1:9/k")],
                actor=actor)
    target = Target.objects.get(rule=rule, target_id="kitchen")
    target_id = target.pk
    revision_id = rule.revisions.order_by("-number").values_list("pk", flat=True)[0]
    event_insert = RawInsert(Event, ("id", "bus_id", "source", "detail_type", "time", "detail",
                                     "ingested_at", "account", "region", "published_by",
                                     "publisher_kind", "publisher_ref"))
    delivery_insert = RawInsert(Delivery, ("id", "event_id", "target_id", "rule_revision_id",
                                           "status", "attempt_count", "next_attempt_at",
                                           "expires_at", "created_at", "finished_at",
                                           "last_error"))
    attempt_insert = RawInsert(DeliveryAttempt, ("delivery_id", "number", "started_at",
                                                 "finished_at", "outcome", "latency_ms",
                                                 "worker"))
    connection.close()

    generator = random.Random(seed)  # noqa: S311 (sample data)
    raw = sqlite3.connect(database)
    raw.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                      "PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY;")
    weights = [weight for _, weight in BUSES]
    bus_ids = [buses[name] for name, _ in BUSES]
    span = SPAN.total_seconds()
    started = time.perf_counter()
    sample: list[tuple[str, str]] = []
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        raw.executemany(event_insert.sql, event_insert.rows(batch))
        batch.clear()

    step = span / count
    for index in range(count):
        moment = now - SPAN + timedelta(seconds=index * step + generator.random() * step)
        key = uuid.uuid4().hex
        detail = json.dumps({
            "orderId": f"o-{index}",
            "shopId": generator.choice(("main", "station", "airport")),
            "total": round(generator.uniform(2, 12), 2),
            "drinkOrder": {"drink": generator.choice(DRINKS), "size": generator.choice("SML")},
        }, separators=(",", ":"))
        text = stamp(moment)
        batch.append((key, generator.choices(bus_ids, weights)[0], generator.choice(SOURCES),
                      generator.choice(TYPES), text, detail, text, "000000000000", "local-1",
                      "service:bench", "service", "bench"))
        if index % (count // DELIVERIES or 1) == 0 and len(sample) < DELIVERIES:
            sample.append((key, text))
        if len(batch) == 20_000:
            flush()
    flush()
    raw.commit()
    events_seconds = time.perf_counter() - started

    started = time.perf_counter()
    deliveries, attempts = [], []
    for number, (event_key, text) in enumerate(sample):
        dead = number % 50 == 0
        delivery_key = uuid.uuid4().hex
        deliveries.append((delivery_key, event_key, target_id, revision_id,
                           "dead" if dead else "succeeded", 1, text, text, text, text,
                           "HTTP 500" if dead else ""))
        latency = generator.lognormvariate(2.3, 0.8)
        attempts.append((delivery_key, 1, text, text, "failed" if dead else "succeeded",
                         latency, "bench"))
    raw.executemany(delivery_insert.sql, delivery_insert.rows(deliveries))
    raw.executemany(attempt_insert.sql, attempt_insert.rows(attempts))
    raw.commit()
    raw.execute("ANALYZE")
    raw.commit()
    raw.close()
    return {"events_seconds": events_seconds,
            "deliveries_seconds": time.perf_counter() - started,
            "rare_order": f"o-{count // 3}"}


def timed(function: Callable[[], Any], runs: int) -> float:
    function()  # warm the cache: we measure queries, not the disk
    samples = []
    for _ in range(runs):
        clock = time.perf_counter()
        function()
        samples.append((time.perf_counter() - clock) * 1000)
    return statistics.median(samples)


def plan(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "; ".join(str(row[-1]) for row in cursor.fetchall())


def measure(count: int, now: datetime, rare_order: str, runs: int) -> None:
    from django.db import connection

    from routing.selectors import deliveries as delivery_selectors
    from routing.selectors import metrics
    from routing.selectors.events import (
        EventFilters,
        encode_cursor,
        event_keys_since,
        event_search,
        parse_field_condition,
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT ingested_at, id FROM routing_event ORDER BY ingested_at DESC, "
                       "id DESC LIMIT 1 OFFSET %s", [int(count * 0.9)])
        deep_at, deep_id = cursor.fetchone()
    deep_cursor = encode_cursor(datetime.fromisoformat(str(deep_at)).replace(tzinfo=UTC),
                                uuid.UUID(str(deep_id)))
    three_days_ago = now - timedelta(days=3)

    def offset_page() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM routing_event ORDER BY ingested_at DESC, id DESC "
                           "LIMIT 50 OFFSET %s", [int(count * 0.9)])
            cursor.fetchall()

    latte = parse_field_condition("detail.drinkOrder.drink = Latte")
    rare = parse_field_condition(f"detail.orderId = {rare_order}")
    line_1h, line_24h = metrics.timeline("1h", now=now), metrics.timeline("24h", now=now)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("events: newest page (50, no filter)", lambda: event_search(EventFilters())),
        ("events: newest page, bus", lambda: event_search(EventFilters(bus="payments"))),
        ("events: newest page, bus + source + detail-type",
         lambda: event_search(EventFilters(bus="default", source="shop",
                                           detail_type="Order.Created"))),
        (f"events: keyset page {int(count * 0.9):,} rows deep",
         lambda: event_search(EventFilters(), after=deep_cursor)),
        (f"events: OFFSET page {int(count * 0.9):,} rows deep (what keyset avoids)",
         offset_page),
        ("events: 1-hour window 3 days ago",
         lambda: event_search(EventFilters(since=three_days_ago,
                                           until=three_days_ago + timedelta(hours=1)))),
        ("events: field search, common value (drink = Latte)",
         lambda: event_search(EventFilters(condition=latte))),
        ("events: field search, rare value (one orderId), whole history",
         lambda: event_search(EventFilters(condition=rare))),
        ("events: field search, rare value, within its day",
         lambda: event_search(EventFilters(condition=rare, since=now - timedelta(days=5),
                                           until=now - timedelta(days=4)))),
        ("live tail: one poll (keys of the last 10 s)",
         lambda: event_keys_since(EventFilters(), since=now - timedelta(seconds=10),
                                  limit=1000)),
        ("deliveries: newest page", lambda: delivery_selectors.delivery_search(
            delivery_selectors.DeliveryFilters())),
        ("deliveries: dead letters page", lambda: delivery_selectors.delivery_search(
            delivery_selectors.DeliveryFilters(statuses=("dead",)))),
        ("metrics: events per minute, 1 h", lambda: metrics.events_per_minute(line_1h)),
        ("metrics: events per minute, 24 h", lambda: metrics.events_per_minute(line_24h)),
        ("metrics: latency p50/p95 per bucket, 24 h",
         lambda: metrics.latency_over_time(line_24h)),
        ("metrics: overview figures", lambda: metrics.overview(now=now)),
    ]
    width = max(len(name) for name, _ in cases)
    print(f"\n{'query':<{width}}  median ms ({runs} runs)")
    for name, function in cases:
        print(f"{name:<{width}}  {timed(function, runs):>10.1f}", flush=True)

    deep_moment = datetime.fromisoformat(str(deep_at)).replace(tzinfo=UTC)
    print("\nquery plans")
    print("  keyset page:", plan(
        "SELECT id FROM routing_event WHERE ingested_at <= %s AND (ingested_at < %s OR id < %s)"
        " ORDER BY ingested_at DESC, id DESC LIMIT 51",
        [stamp(deep_moment), stamp(deep_moment), str(deep_id)]))
    print("  bus page:   ", plan(
        "SELECT id FROM routing_event WHERE bus_id = 2 ORDER BY ingested_at DESC, id DESC"
        " LIMIT 51", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="coffeeshop-explorer-bench-"))
    database = folder / "bench.sqlite3"
    configure(database)
    now = datetime.now(UTC)
    print(f"explorer benchmark: {args.events:,} events in {database}")
    filled = fill(database, args.events, now)
    size = database.stat().st_size / 1e6
    print(f"inserted {args.events:,} events in {filled['events_seconds']:.1f} s, "
          f"{DELIVERIES:,} deliveries and attempts in {filled['deliveries_seconds']:.1f} s "
          f"({size:,.0f} MB)")
    try:
        measure(args.events, now, filled["rare_order"], args.runs)
    finally:
        if args.keep:
            print(f"\nkept {database}")
        else:
            for leftover in folder.iterdir():
                leftover.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
