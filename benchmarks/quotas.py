"""What the PutEvents rate limit costs a publish: PutEvents in-process (a throwaway SQLite database,
an embedded Redis unless REDIS_URL is set) by an outside caller with the quota off, then on, in
the same run; and the token bucket's own round trip beside a Redis PING.

    .venv/bin/python -m benchmarks.quotas [--requests 400]

Figures, not assertions: medians in milliseconds and the ratio on / off."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def _median_ms(call: Callable[[], object], count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="coffeeshop-quota-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "coffeeshop.settings.local"
    from coffeeshop.embedded_redis import ensure_redis_url_in_environment

    embedded = ensure_redis_url_in_environment()
    try:
        import django

        django.setup()
        import redis
        from django.conf import settings
        from django.core.management import call_command
        from django.test import override_settings

        from routing.publishers import Publisher
        from routing.services import bus_ensure_default, put_events
        from routing.services.quotas import put_events_throttle

        call_command("migrate", verbosity=0)
        bus_ensure_default()
        publisher = Publisher.api_key(key_id=1, name="bench")
        entry = {"Source": "bench", "DetailType": "x", "Detail": '{"n": 1}'}
        count = args.requests

        # Interleaved, so that the growing database weighs on both alike.
        samples: dict[bool, list[float]] = {False: [], True: []}
        for n in range(2 * count):
            quota_on = n % 2 == 1
            with override_settings(ROUTING_PUT_EVENTS_PER_SECOND=1_000_000 if quota_on else 0):
                samples[quota_on].append(
                    _median_ms(lambda: put_events([entry], publisher=publisher), 1))
        off, on = statistics.median(samples[False]), statistics.median(samples[True])
        with override_settings(ROUTING_PUT_EVENTS_PER_SECOND=1_000_000):
            bucket = _median_ms(lambda: put_events_throttle(publisher=publisher,
                                                            bus_names={"default"}), count)
        client = redis.Redis.from_url(settings.REDIS_URL)
        ping = _median_ms(client.ping, count)
        client.close()
        print(f"PutEvents, one entry, {count} requests (median ms)")
        print(f"  quota off   {off:8.3f}")
        print(f"  quota on    {on:8.3f}   ratio on/off {on / off:5.2f}")
        print(f"  bucket only {bucket:8.3f}   ratio bucket/PING {bucket / ping:5.2f} "
              f"(PING {ping:.3f})")
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
