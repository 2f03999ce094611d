"""What one beat poll of the EventBridge Scheduler costs with many schedules.

    .venv/bin/python -m benchmarks.scheduler [--schedules 2000] [--due 20]

Builds a throwaway SQLite database (migrated like the real one) with N cron schedules of which
`--due` have a tick due, then times `due_firings` — which reads only the schedules whose indexed
`next_due_at` has come — against the baseline measured in the same run: reading every enabled
schedule and evaluating its expression, as a poll would without the index. Prints the median
of several runs in milliseconds and the ratio. Figures, not assertions: they vary with the
machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def configure(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "coffeeshop.settings.local"
    import django

    django.setup()


def median_ms(run: Callable[[], object], repeat: int = 7) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=2000)
    parser.add_argument("--due", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        configure(Path(directory) / "bench.sqlite3")
        from django.core.management import call_command
        from django.db.models import Max

        from routing.publishers import Publisher
        from routing.schedules.models import Schedule, ScheduleState
        from routing.schedules.scheduler import ScheduleSpec, schedule_create, timing_of
        from routing.schedules.scheduler_firing import due_firings
        from routing.schedules.targets import Creator, ScheduleTarget
        from routing.services import Actor, bus_create, bus_ensure_default

        call_command("migrate", verbosity=0)
        bus_ensure_default()
        creator = Creator(actor=Actor.system("bench"), publisher=Publisher.service("bench"))
        bus_create(name="bench", actor=creator.actor)
        target = ScheduleTarget(arn="arn:aws:events:us-east-1:000000000000:event-bus/bench",
                                role_arn="", kind="bus", address="bench",
                                event_source="bench.clock", event_detail_type="Tick")
        started = time.perf_counter()
        for index in range(options.schedules):
            # The due ones tick every minute; the others once a year.
            expression = "cron(* * * * ? *)" if index < options.due else "cron(0 3 1 JAN ? *)"
            schedule_create(spec=ScheduleSpec(name=f"s{index:05d}", expression=expression,
                                              target=target), creator=creator)
        print(f"created {options.schedules} schedules in {time.perf_counter() - started:.1f} s")
        now = datetime.now(UTC) + timedelta(minutes=2)

        def baseline() -> int:
            schedules = (Schedule.objects.select_related("group")
                         .filter(deleted_at__isnull=True, state=ScheduleState.ENABLED)
                         .annotate(last_tick=Max("firings__tick_at")))
            return sum(1 for s in schedules
                       if timing_of(s).due(now=now, last_tick=s.last_tick) is not None)

        assert baseline() == len(due_firings(now=now)) == options.due
        indexed = median_ms(lambda: due_firings(now=now))
        every = median_ms(baseline)
        print(f"one poll, {options.due} of {options.schedules} due: indexed {indexed:.1f} ms, "
              f"reading every schedule {every:.1f} ms ({every / indexed:.0f}x)")


if __name__ == "__main__":
    main()
