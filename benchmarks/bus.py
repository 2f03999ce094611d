"""End-to-end benchmark of the bus: events published over HTTP → delivered to a no-op handler,
beside a bare Celery no-op task round trip measured in the same run, on the same Redis.

    python -m benchmarks.bus [--events 2000] [--paced-seconds 10] [--web-workers N]
                             [--prefetch N] [--quick]

It starts its own stack in a temporary directory (benchmarks.stack: an embedded Redis unless
BENCH_REDIS_URL is set, a SQLite file unless BENCH_DATABASE_URL is set, uvicorn with one process
per core unless --web-workers says otherwise, one Celery worker with the default prefork pool)
and prints:

- throughput: N events in batches of 10 over HTTP (4 client threads) until the last one reached
  its handler, against N bare Celery no-op tasks sent from one process until the last ran;
- latency: publish → handler (and send → task run for Celery) p50 / p99, both in the throughput
  run and in paced runs at 100 events/s, the load the issue names: ten requests a second of ten
  events, and a hundred requests a second of one event (the reached rate is printed).

Latencies are measured on one clock: the publisher stamps `sentAt` (time.time()) into the event's
detail or the task's argument; the handler or task pushes `now - sentAt` into a Redis list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis

from benchmarks.stack import Stack, default_web_workers

RECEIVED_KEY = "bench:received"
BATCH = 10


@dataclass(frozen=True)
class Figures:
    label: str
    count: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _received(client: redis.Redis, expected: int, timeout: float) -> tuple[list[float], float]:
    """The latencies (seconds) of what arrived, and when the last of it arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen(RECEIVED_KEY) >= expected:
            break
        time.sleep(0.01)
    raw: list[bytes] = client.lrange(RECEIVED_KEY, 0, -1)  # type: ignore[assignment]
    pairs = [tuple(map(float, value.split(b","))) for value in raw]
    if len(pairs) < expected:
        raise RuntimeError(f"only {len(pairs)} of {expected} arrived within {timeout:.0f}s")
    return [ran - sent for sent, ran in pairs], max(ran for _, ran in pairs)


def _publish(url: str, key: str, entries: list[dict[str, str]]) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own server)
        url, data=json.dumps({"Entries": entries}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = json.load(response)
    if body["FailedEntryCount"]:
        raise RuntimeError(f"publish failed: {body}")


def _entry(n: int) -> dict[str, str]:
    return {
        "Source": "bench", "DetailType": "Bench.Tick",
        "Detail": json.dumps({"n": n, "sentAt": time.time()}),
    }


def measure_bus(stack: Stack, key: str, count: int, threads: int = 4) -> Figures:
    client = redis.Redis.from_url(stack.redis_url)
    client.delete(RECEIVED_KEY)
    url = f"http://127.0.0.1:{stack.port}/api/events"
    batches = [list(range(start, min(start + BATCH, count))) for start in range(0, count, BATCH)]
    lock = threading.Lock()

    def publisher() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            _publish(url, key, [_entry(n) for n in batch])

    started = time.time()
    workers = [threading.Thread(target=publisher) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies, finished = _received(client, count, timeout=300)
    client.close()
    return Figures("bus: HTTP publish → handler", count, finished - started,
                   [1000 * value for value in latencies])


def measure_bus_paced(stack: Stack, key: str, rate: float, seconds: float,
                      batch: int = 1) -> Figures:
    """`rate` events per second, sent `batch` per request, each request at its own moment."""
    client = redis.Redis.from_url(stack.redis_url)
    client.delete(RECEIVED_KEY)
    url = f"http://127.0.0.1:{stack.port}/api/events"
    count = int(rate * seconds) // batch
    rate = rate / batch  # requests per second from here on
    started = time.time() + 0.1
    next_n = iter(range(count))
    lock = threading.Lock()

    def publisher() -> None:
        # Each event goes out at its own moment (started + n / rate), whoever sends it, so a
        # slow request delays nothing that follows it.
        while True:
            with lock:
                n = next(next_n, None)
            if n is None:
                return
            delay = started + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            _publish(url, key, [_entry(n * batch + i) for i in range(batch)])

    senders = [threading.Thread(target=publisher) for _ in range(8)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    latencies, finished = _received(client, count * batch, timeout=120)
    client.close()
    label = f"bus at {rate * batch:g} events/s, {batch}/request"
    return Figures(label, count * batch, finished - started,
                   [1000 * value for value in latencies])


def measure_celery(stack: Stack, count: int) -> Figures:
    from benchmarks.handlers import noop_task

    client = redis.Redis.from_url(stack.redis_url)
    client.delete(RECEIVED_KEY)
    started = time.time()
    for _ in range(count):
        noop_task.delay(time.time())
    latencies, finished = _received(client, count, timeout=300)
    client.close()
    return Figures("bare Celery no-op task", count, finished - started,
                   [1000 * value for value in latencies])


def _setup_bus(stack: Stack) -> str:
    import benchmarks.handlers  # noqa: F401 (registers the bench.noop handler here too)
    from routing.services import Actor, TargetSpec, rule_put, targets_put
    from routing.services.apikeys import apikey_create

    actor = Actor.system("bench")
    rule = rule_put(bus_name="default", name="bench-noop", actor=actor,
                    event_pattern={"source": ["bench"], "detail-type": ["Bench.Tick"]})
    failures = targets_put(rule=rule, actor=actor,
                           targets=[TargetSpec("noop", "handler", "bench.noop")])
    if failures:
        raise RuntimeError(f"could not create the bench target: {failures}")
    _, key = apikey_create(name=f"bench-{time.time_ns()}")
    return key


def _row(figures: Figures) -> str:
    return (f"{figures.label:<32} {figures.count:>7,} {figures.rate:>10,.0f} "
            f"{figures.percentile(0.5):>9.1f} {figures.percentile(0.99):>9.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=default_web_workers(),
                        help="uvicorn processes (default: one per core)")
    parser.add_argument("--prefetch", type=int, default=None,
                        help="the worker's prefetch multiplier (default: the settings')")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.paced_seconds = 200, 2.0
    worker_args = () if args.prefetch is None else ("--prefetch-multiplier", str(args.prefetch))

    with tempfile.TemporaryDirectory(prefix="coffeeshop-bench-") as workdir, \
            Stack(Path(workdir), web_workers=args.web_workers, worker_args=worker_args) as stack:
        key = _setup_bus(stack)
        # Warm up both paths (imports, connections, the worker's compiled rule index).
        measure_celery(stack, 50)
        measure_bus(stack, key, 50)
        # The steady-load latency runs come first: after the floods of the throughput runs the
        # database is busy checkpointing for a while, which is a different question.
        paced_batches = measure_bus_paced(stack, key, 100.0, args.paced_seconds, batch=10)
        paced = measure_bus_paced(stack, key, 100.0, args.paced_seconds)
        celery = measure_celery(stack, args.events)
        bus = measure_bus(stack, key, args.events)

    print()
    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    prefetch = "" if args.prefetch is None else f", prefetch multiplier {args.prefetch}"
    print(f"End-to-end bus benchmark ({database}, {args.web_workers} uvicorn process(es), one "
          f"prefork Celery worker{prefetch}, {os.cpu_count()} cores)")
    print(f"{'':<32} {'events':>7} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for figures in (celery, bus, paced_batches, paced):
        print(_row(figures))
    ratio = bus.rate / celery.rate if celery.rate else float("nan")
    print(f"\nbus throughput / bare Celery throughput: {ratio:.2f}x  (goal ≥ 1.0x)")
    print(f"p99 publish → delivery at 100 events/s: {paced_batches.percentile(0.99):.1f} ms "
          f"in batches of 10, {paced.percentile(0.99):.1f} ms one event per request "
          f"({paced.rate:.0f}/s reached)  (goal ≤ 25 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
