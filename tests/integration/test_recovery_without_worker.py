"""With no Celery worker alive, a real beat says so loudly and runs the sweeper itself; the
worker that comes back finds the work waiting for it."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from routing.models import PendingRoute
from routing.services import bus_ensure_default, event_publish
from tests.support.processes import CeleryWorker, ManagedProcess, child_environment
from tests.support.publishers import TEST_PUBLISHER


class CeleryBeat(ManagedProcess):
    def __init__(self) -> None:
        schedule = Path(tempfile.mkdtemp(prefix="coffeeshop-beat-")) / "schedule"
        super().__init__(
            "celery-beat",
            [sys.executable, "-m", "celery", "-A", "coffeeshop", "beat", "--loglevel", "INFO",
             "--schedule", str(schedule)],
            child_environment(COFFEESHOP_WATCHDOG_SECONDS="1", ROUTING_SWEEP_GRACE_SECONDS="0",
                              CELERY_LOG_LEVEL="INFO"),
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(240)
def test_beat_alarms_and_sweeps_when_no_worker_answers() -> None:
    from coffeeshop.celery import app

    app.control.purge()
    assert not app.control.ping(timeout=1), "a worker is alive; this test needs none"
    bus_ensure_default()
    event = event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
                          detail={"orderId": "o-1"})
    # As if its route message had been lost (Redis flushed, say).
    app.control.purge()
    PendingRoute.objects.filter(event=event).update(
        enqueued_at=timezone.now() - timedelta(minutes=1), enqueue_count=0)

    beat = CeleryBeat()
    beat.start()
    try:
        deadline = time.monotonic() + 90
        while "NO CELERY WORKER ANSWERED" not in beat.log():
            assert beat.is_running(), beat.log()[-4000:]
            assert time.monotonic() < deadline, f"no alarm from beat:\n{beat.log()[-4000:]}"
            time.sleep(0.5)
        assert "CRITICAL" in beat.log()
        while PendingRoute.objects.get(event=event).enqueue_count == 0:
            assert time.monotonic() < deadline, f"beat never swept:\n{beat.log()[-4000:]}"
            time.sleep(0.5)

        worker = CeleryWorker().start_and_wait()
        try:
            while PendingRoute.objects.filter(event=event).exists():
                assert time.monotonic() < deadline + 60, worker.log()[-4000:]
                time.sleep(0.5)
            while "answer again after" not in beat.log():
                assert time.monotonic() < deadline + 60, beat.log()[-4000:]
                time.sleep(0.5)
        finally:
            worker.stop()
    finally:
        beat.stop()
