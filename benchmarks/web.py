"""The web tier under load: single-event publishing beside the stack's own ceiling, and /healthz
while slow work runs.

    python -m benchmarks.web [--seconds 10] [--workers 1,2] [--quick]

For each web process count in --workers (default: 1 and the number of cores) it starts a fresh
stack (benchmarks.stack: uvicorn with that many processes, one Celery worker) and measures, with 8
keep-alive client connections sending back to back:

- the ceiling: a minimal Django view on the same server, through the same middleware, doing one
  INSERT and its COMMIT (benchmarks/urls.py, which only the bench's settings route to);
- single-event PutEvents (POST /api/events with an API key, one entry): requests/s, p50/p99,
  and the ratio to the ceiling;
- on PostgreSQL, the same ceiling as an async view on psycopg's async pool: the other way (than
  more processes) to stop funnelling every request through threads;

and, on the last stack, /healthz p50/p99 (20 requests/s) on its own, then while one client keeps
running a one-second query (standing in for a heavy dashboard report) and every Celery process
is busy delivering to a webhook that takes 4 s to answer.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks.load import LoadFigures, closed_loop, http_request
from benchmarks.stack import Stack, default_web_workers
from coffeeshop.embedded_redis import EmbeddedRedis

CONNECTIONS = 8
SLOW_WEBHOOK_SECONDS = 4.0  # under the target's default 5 s time-out


def _api_key() -> str:
    from routing.services.apikeys import apikey_create

    return apikey_create(name=f"bench-{time.time_ns()}")[1]


def _publish_request(key: str) -> bytes:
    body = json.dumps({"Entries": [{"Source": "bench.web", "DetailType": "Bench.Request",
                                    "Detail": json.dumps({"n": 1})}]}).encode()
    return http_request("POST", "/api/events", body=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})


def _ceiling_request(path: str = "/bench/ceiling") -> bytes:
    return http_request("POST", path, body=b'{"n": 1}',
                        headers={"Content-Type": "application/json"})


def measure_publish(stack: Stack, seconds: float) -> tuple[LoadFigures, LoadFigures,
                                                           LoadFigures | None]:
    """The ceiling, single-event PutEvents, and (PostgreSQL) the ceiling as an async view."""
    key = _api_key()
    publish, ceiling = _publish_request(key), _ceiling_request()
    # Warm every web process (imports, pooled connections, the key in its cache).
    closed_loop("warm-up", stack.port, lambda: ceiling, seconds=1.0)
    closed_loop("warm-up", stack.port, lambda: publish, seconds=1.0)
    workers = stack.web_workers
    ceiling_figures = closed_loop(f"ceiling: INSERT+COMMIT view, {workers} web", stack.port,
                                  lambda: ceiling, connections=CONNECTIONS, seconds=seconds)
    publish_figures = closed_loop(f"PutEvents, 1 event, {workers} web", stack.port,
                                  lambda: publish, connections=CONNECTIONS, seconds=seconds)
    async_figures = None
    if os.environ.get("BENCH_DATABASE_URL"):
        async_ceiling = _ceiling_request("/bench/ceiling-async")
        closed_loop("warm-up", stack.port, lambda: async_ceiling, seconds=1.0)
        async_figures = closed_loop(f"ceiling, async view + psycopg, {workers} web",
                                    stack.port, lambda: async_ceiling,
                                    connections=CONNECTIONS, seconds=seconds)
    return ceiling_figures, publish_figures, async_figures


def _paced_get(url: str, rate: float, seconds: float) -> LoadFigures:
    figures = LoadFigures(f"/healthz at {rate:g}/s", seconds)
    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own)
                response.read()
        except urllib.error.HTTPError as error:  # 503 is an answer too: time it
            figures.errors += 1
            figures.first_error = figures.first_error or f"{error.code}: {error.read()[:200]!r}"
        figures.latencies_ms.append(1000 * (time.perf_counter() - sent))
    return figures


def _slow_webhook(stack: Stack, webhook_url: str) -> str:
    from routing.services import Actor, TargetSpec, rule_put, targets_put

    actor = Actor.system("bench")
    rule = rule_put(bus_name="default", name="bench-slow", actor=actor,
                    event_pattern={"source": ["bench.slow"]})
    failures = targets_put(rule=rule, actor=actor,
                           targets=[TargetSpec("slow", "webhook", f"{webhook_url}/slow")])
    if failures:
        raise RuntimeError(f"could not create the slow webhook target: {failures}")
    return _api_key()


class _SlowWebhook:
    """A webhook endpoint that takes SLOW_WEBHOOK_SECONDS to answer each request."""

    def __init__(self) -> None:
        self.received = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.received.set()
                time.sleep(SLOW_WEBHOOK_SECONDS)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def measure_healthz(stack: Stack, seconds: float) -> tuple[LoadFigures, LoadFigures]:
    url = f"{stack.url}/healthz"
    _paced_get(url, 20, 1.0)  # warm-up
    quiet = _paced_get(url, 20, seconds)
    webhook = _SlowWebhook()
    key = _slow_webhook(stack, webhook.url)
    stop = threading.Event()

    def heavy_client() -> None:
        while not stop.is_set():
            with urllib.request.urlopen(f"{stack.url}/bench/heavy",  # noqa: S310 (our own)
                                        timeout=120) as response:
                response.read()

    def slow_publisher() -> None:
        # Keeps every Celery process of the worker busy with a delivery that takes 4 s.
        while not stop.is_set():
            request = urllib.request.Request(  # noqa: S310 (our own server)
                f"{stack.url}/api/events",
                data=json.dumps({"Entries": [{"Source": "bench.slow", "DetailType": "Slow",
                                              "Detail": "{}"}] * 4}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                response.read()
            stop.wait(SLOW_WEBHOOK_SECONDS)

    helpers = [threading.Thread(target=heavy_client, daemon=True)]
    helpers.append(threading.Thread(target=slow_publisher, daemon=True))
    for helper in helpers:
        helper.start()
    try:
        if not webhook.received.wait(30):
            raise RuntimeError("the slow webhook received nothing within 30 s")
        busy = _paced_get(url, 20, seconds)
    finally:
        stop.set()
        webhook.stop()
    busy.label = "/healthz, heavy query + slow webhook"
    return quiet, busy


def _row(figures: LoadFigures) -> str:
    return (f"{figures.label:<40} {figures.count:>7,} {figures.rate:>9,.0f} "
            f"{figures.percentile(0.5):>8.1f} {figures.percentile(0.99):>8.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", default=f"1,{default_web_workers()}",
                        help="web process counts to compare, comma-separated")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 2.0
    counts = list(dict.fromkeys(int(n) for n in args.workers.split(",")))
    results: list[tuple[LoadFigures, LoadFigures, LoadFigures | None]] = []
    healthz: tuple[LoadFigures, LoadFigures] | None = None
    # One database and one Redis for every stack of the run: this process's Django settings
    # are read once.
    redis_server = None if os.environ.get("BENCH_REDIS_URL") else EmbeddedRedis().start()
    if redis_server is not None:
        os.environ["BENCH_REDIS_URL"] = redis_server.url
    try:
        with tempfile.TemporaryDirectory(prefix="coffeeshop-bench-") as workdir:
            for position, workers in enumerate(counts):
                with Stack(Path(workdir), web_workers=workers) as stack:
                    results.append(measure_publish(stack, args.seconds))
                    if position == len(counts) - 1:
                        healthz = measure_healthz(stack, args.seconds)
    finally:
        if redis_server is not None:
            redis_server.stop()
            del os.environ["BENCH_REDIS_URL"]

    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print()
    print(f"Web tier benchmark ({database}, {CONNECTIONS} client connections, one Celery worker, "
          f"{os.cpu_count()} cores)")
    print(f"{'':<40} {'requests':>7} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for ceiling, publish, async_ceiling in results:
        print(_row(ceiling))
        print(_row(publish))
        if async_ceiling is not None:
            print(_row(async_ceiling))
    for (ceiling, publish, _), workers in zip(results, counts, strict=True):
        ratio = publish.rate / ceiling.rate if ceiling.rate else float("nan")
        print(f"single-event PutEvents / INSERT+COMMIT ceiling, {workers} web process(es): "
              f"{ratio:.2f}x ({publish.rate:,.0f}/s)  (goal ≥ 0.5x)")
    if len(results) > 1:
        first, last = results[0][1], results[-1][1]
        print(f"PutEvents with {counts[-1]} web processes / with {counts[0]}: "
              f"{last.rate / first.rate if first.rate else float('nan'):.2f}x")
    if healthz is not None:
        quiet, busy = healthz
        print(_row(quiet))
        print(_row(busy))
        print(f"/healthz p99 while a heavy query and a slow webhook run: "
              f"{busy.percentile(0.99):.1f} ms (quiet: {quiet.percentile(0.99):.1f} ms)  "
              f"(goal ≤ 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
