import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from routing import dispatch
from routing.services.sweeper import sweep


class Command(BaseCommand):
    help = (
        "Runs the sweeper here, without a Celery worker: recovers attempts lost with their "
        "worker and sends lost queue messages again. Safe to run from any process, at any time, "
        "beside beat's own sweeps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=None, metavar="SECONDS",
                            help="Sweep again every SECONDS until stopped (SIGTERM, Ctrl-C).")

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every is not None and every <= 0:
            raise CommandError("--every must be a positive number of seconds.")
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        if every is not None:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            report = sweep()
            if not dispatch.flush():
                self.stderr.write("Some messages could not be sent yet; the next sweep will.")
            self.stdout.write(
                f"events requeued: {report.events_requeued}, deliveries requeued: "
                f"{report.deliveries_requeued}, lost attempts recovered: "
                f"{report.lost_attempts_recovered}")
            if every is None or stopping:
                return
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, every))
            if stopping:
                return
            # A long-running sweeper must not keep a connection the server has dropped.
            close_old_connections()
