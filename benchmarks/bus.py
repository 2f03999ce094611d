"""End-to-end benchmark of the bus: events published over HTTP → delivered to a no-op handler,
beside a bare Celery no-op task round trip measured in the same run, on the same Redis.

    python -m benchmarks.bus [--events 2000] [--paced-seconds 10] [--quick]

It starts its own stack in a temporary directory (an embedded Redis unless BENCH_REDIS_URL is
set, a SQLite file unless BENCH_DATABASE_URL is set, one uvicorn process, one Celery worker with
the default prefork pool) and prints:

- throughput: N events in batches of 10 over HTTP (4 client threads) until the last one reached
  its handler, against N bare Celery no-op tasks sent from one process until the last ran;
- latency: publish → handler (and send → task run for Celery) p50 / p99, both in the throughput
  run and in paced runs at 100 events/s, the load the issue names: ten requests a second of ten
  events, and a hundred requests a second of one event (which one uvicorn process may not keep
  up with: the reached rate is printed).

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

from coffeeshop.embedded_redis import EmbeddedRedis, free_tcp_port
from coffeeshop.settings.env import BASE_DIR

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


class Stack:
    """uvicorn + a Celery worker on a fresh database and Redis, torn down on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis: EmbeddedRedis | None = None
        self.processes: list[object] = []
        self.port = free_tcp_port()

    def __enter__(self) -> Stack:
        from tests.support.processes import ManagedProcess

        redis_url = os.environ.get("BENCH_REDIS_URL")
        if not redis_url:
            self.redis = EmbeddedRedis().start()
            redis_url = self.redis.url
        self.redis_url = redis_url
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{self.workdir}/bench.db"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "coffeeshop.settings.local",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "COFFEESHOP_VAR_DIR": str(self.workdir),
            "PYTHONPATH": str(BASE_DIR),
        }
        os.environ.update({k: self.env[k] for k in
                           ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL",
                            "COFFEESHOP_VAR_DIR", "DEBUG")})
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        client.close()
        import subprocess

        subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v", "0"],
                       env=self.env, check=True)
        web = ManagedProcess("bench-web", [
            sys.executable, "-m", "uvicorn", "coffeeshop.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            "--log-level", "warning",
        ], self.env)
        worker = ManagedProcess("bench-worker", [
            sys.executable, "-m", "celery", "-A", "coffeeshop", "worker", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--include", "benchmarks.handlers",
        ], self.env)
        for process in (web, worker):
            process.start()
            self.processes.append(process)
        self._wait_for_web()
        import django

        django.setup()
        return self

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # it answered (503 until the worker is up is fine)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the ASGI server did not start")

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.stop()  # type: ignore[attr-defined]
        if self.redis is not None:
            self.redis.stop()


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
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.paced_seconds = 200, 2.0

    with tempfile.TemporaryDirectory(prefix="coffeeshop-bench-") as workdir, \
            Stack(Path(workdir)) as stack:
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
    print("End-to-end bus benchmark (one uvicorn process, one prefork Celery worker, "
          f"{os.cpu_count()} cores)")
    print(f"{'':<32} {'events':>7} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for figures in (celery, bus, paced_batches, paced):
        print(_row(figures))
    ratio = bus.rate / celery.rate if celery.rate else float("nan")
    print(f"\nbus throughput / bare Celery throughput: {ratio:.2f}x  (goal ≥ 0.5x)")
    print(f"p99 publish → delivery at 100 events/s: {paced_batches.percentile(0.99):.1f} ms "
          f"in batches of 10, {paced.percentile(0.99):.1f} ms one event per request "
          f"({paced.rate:.0f}/s reached)  (goal ≤ 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
