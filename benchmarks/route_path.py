"""The route task on its own: what routing one stored event to one no-op handler costs (the
route transaction, then the inline delivery: claim, attempt, outcome), in-process, without the
broker, so that two versions of the code compare on the same database in the same minute.

    python -m benchmarks.route_path [--seconds 5] [--batch 1]

On BENCH_DATABASE_URL (a PostgreSQL database the bench may fill; a SQLite file in a temporary
directory without it). It prints the statements one route task sends, then routes events
back to back for --seconds (each task given --batch events, as the sender merges them) and
prints events/s and p50/p99 per task.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any

from benchmarks.load import LoadFigures
from coffeeshop.settings.env import BASE_DIR

HANDLER = "bench.route-noop"


def _setup(workdir: str, source: str) -> int:
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/route.db"
    os.environ.update(DJANGO_SETTINGS_MODULE="benchmarks.settings", DATABASE_URL=database_url,
                      DEBUG="0", LOG_LEVEL="WARNING", COFFEESHOP_VAR_DIR=workdir)
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v", "0"],
                   check=True)
    import django

    django.setup()
    from routing.handlers import HandlerContext, register_handler
    from routing.services import Actor, TargetSpec, bus_ensure_default, rule_put, targets_put

    @register_handler(HANDLER)
    def noop(payload: Any, context: HandlerContext) -> None:
        pass

    bus = bus_ensure_default()
    actor = Actor.system("bench")
    # A source of this run's own: rules left by earlier runs on the same database match none
    # of its events.
    rule = rule_put(bus_name="default", name=f"bench-route-{time.time_ns()}", actor=actor,
                    event_pattern={"source": [source]})
    failures = targets_put(rule=rule, actor=actor,
                           targets=[TargetSpec("noop", "handler", HANDLER)])
    if failures:
        raise RuntimeError(f"could not create the bench target: {failures}")
    return bus.pk


def _stored(bus_id: int, source: str, count: int) -> list[str]:
    """Events with their outbox rows, as a publish leaves them (no route message is sent)."""
    from django.utils import timezone

    from routing.models import Event, PendingRoute
    from routing.services.event_rows import events_insert_with_outbox

    now = timezone.now()
    events = [Event(id=uuid.uuid4(), bus_id=bus_id, source=source, detail_type="Bench",
                    time=now, resources=[], detail={"n": n}, ingested_at=now,
                    published_by="bench", publisher_kind="service", publisher_ref="bench")
              for n in range(count)]
    events_insert_with_outbox(events, [PendingRoute(event=event, created_at=now,
                                                    enqueued_at=now, enqueue_count=1)
                                       for event in events])
    return [str(event.pk) for event in events]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coffeeshop-route-") as workdir:
        source = f"bench.route.{time.time_ns()}"
        bus_id = _setup(workdir, source)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from routing.tasks import route_events

        route_events(_stored(bus_id, source, args.batch))  # compiles the rule index
        ids = _stored(bus_id, source, args.batch)
        with CaptureQueriesContext(connection) as captured:
            route_events(ids)
        figures = LoadFigures(f"route task, {args.batch} event(s) each", args.seconds)
        routed = 0
        stop_at = time.perf_counter() + args.seconds
        while time.perf_counter() < stop_at:
            ids = _stored(bus_id, source, args.batch)
            started = time.perf_counter()
            result = route_events(ids)
            figures.latencies_ms.append(1000 * (time.perf_counter() - started))
            routed += result["routed"]
            if result["attempted_now"] != args.batch:
                raise RuntimeError(f"expected {args.batch} deliveries, got {result}")
        vendor = connection.vendor
    print(f"\nRoute task benchmark ({vendor}, in-process, one handler target)")
    print(f"statements per task of {args.batch}: {len(captured.captured_queries)}")
    for query in captured.captured_queries:
        print(f"  {query['sql'][:90]}")
    print(f"{'':<32} {'tasks':>7} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{figures.label:<32} {figures.count:>7,} {routed / args.seconds:>9,.0f} "
          f"{figures.percentile(0.5):>8.2f} {figures.percentile(0.99):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
