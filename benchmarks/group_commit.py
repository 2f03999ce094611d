"""Would group commit pay? Single-event publishes from concurrent clients in one process, each
committed alone (what the publish path does: one CTE statement in autocommit) against the same
events gathered by one committer into one statement per window (bounded in ms and size), each
client answered only after its own event is committed.

    python -m benchmarks.group_commit [--seconds 5] [--clients 8] [--window-ms 2] [--size 8]

It runs the real write (routing.services.event_rows) on BENCH_DATABASE_URL (PostgreSQL, a
database the bench may fill) from threads of one process, without HTTP: the most group commit
could save, since in a web process the request's own work comes on top of it. It prints events/s
and p50/p99 per-event latency for both, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from benchmarks.load import LoadFigures
from coffeeshop.settings.env import BASE_DIR

if TYPE_CHECKING:  # Django is set up only once the bench has chosen its database
    from routing.models import Event, PendingRoute


def _setup(clients: int) -> int:
    database_url = os.environ.get("BENCH_DATABASE_URL")
    if not database_url:
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database the bench may fill")
    os.environ.update(DJANGO_SETTINGS_MODULE="benchmarks.settings", DATABASE_URL=database_url,
                      DEBUG="0", LOG_LEVEL="WARNING",
                      # A connection for every client and the committer.
                      DATABASE_POOL_MAX_SIZE=str(clients + 2))
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v", "0"],
                   check=True)
    import django

    django.setup()
    from routing.services import bus_ensure_default

    return bus_ensure_default().pk


def _rows(bus_id: int, count: int) -> tuple[list[Event], list[PendingRoute]]:
    from django.utils import timezone

    from routing.models import Event, PendingRoute

    now = timezone.now()
    events = [Event(id=uuid.uuid4(), bus_id=bus_id, source="bench.group", detail_type="Bench",
                    time=now, resources=[], detail={"n": 1}, ingested_at=now,
                    published_by="bench", publisher_kind="service", publisher_ref="bench")
              for _ in range(count)]
    routes = [PendingRoute(event=event, created_at=now, enqueued_at=now, enqueue_count=1)
              for event in events]
    return events, routes


def _write(bus_id: int, count: int) -> None:
    from routing.services.event_rows import events_insert_with_outbox

    events, routes = _rows(bus_id, count)
    events_insert_with_outbox(events, routes)


class _GroupCommitter:
    """One thread that gathers waiting publishes for up to `window` seconds or `size` events,
    writes them in one statement, then answers each."""

    def __init__(self, bus_id: int, window: float, size: int) -> None:
        self.bus_id, self.window, self.size = bus_id, window, size
        self.waiting: queue.Queue[Future[None]] = queue.Queue()
        self.batches: list[int] = []
        threading.Thread(target=self._run, daemon=True).start()

    def publish(self) -> None:
        done: Future[None] = Future()
        self.waiting.put(done)
        done.result()

    def _run(self) -> None:
        while True:
            batch = [self.waiting.get()]
            deadline = time.perf_counter() + self.window
            while len(batch) < self.size:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                try:
                    batch.append(self.waiting.get(timeout=left))
                except queue.Empty:
                    break
            try:
                _write(self.bus_id, len(batch))
            except Exception as error:  # each waiting client hears it
                for done in batch:
                    done.set_exception(error)
                continue
            self.batches.append(len(batch))
            for done in batch:
                done.set_result(None)


def _closed_loop(label: str, publish: Callable[[], None], clients: int,
                 seconds: float) -> LoadFigures:
    from django.db import connections

    figures = LoadFigures(label, seconds)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        latencies = []
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            publish()
            latencies.append(1000 * (time.perf_counter() - sent))
        with lock:
            figures.latencies_ms.extend(latencies)
        connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures


def _row(figures: LoadFigures) -> str:
    return (f"{figures.label:<44} {figures.count:>7,} {figures.rate:>9,.0f} "
            f"{figures.percentile(0.5):>8.2f} {figures.percentile(0.99):>8.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--window-ms", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two")
    args = parser.parse_args(argv)
    bus_id = _setup(args.clients)
    committer = _GroupCommitter(bus_id, args.window_ms / 1000, args.size)
    alone_label = f"one commit per event, {args.clients} clients"
    group_label = f"group commit ≤{args.window_ms:g} ms/≤{args.size}, {args.clients} clients"
    _closed_loop("warm-up", lambda: _write(bus_id, 1), args.clients, 1.0)
    results: list[tuple[LoadFigures, LoadFigures]] = []
    for _ in range(args.rounds):
        alone = _closed_loop(alone_label, lambda: _write(bus_id, 1), args.clients, args.seconds)
        grouped = _closed_loop(group_label, committer.publish, args.clients, args.seconds)
        results.append((alone, grouped))
    print(f"\nGroup commit benchmark (PostgreSQL, one process, {os.cpu_count()} cores)")
    print(f"{'':<44} {'events':>7} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for alone, grouped in results:
        print(_row(alone))
        print(_row(grouped))
        print(f"group / alone: {grouped.rate / alone.rate:.2f}x events/s")
    batches = committer.batches
    if batches:
        print(f"events per group commit: mean {sum(batches) / len(batches):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
