"""Beat's watchdog: recovery does not wait for a worker to be alive to receive the sweep.

Beat sends the sweep as a Celery task every few seconds; with no worker alive nobody receives
it. So beat also asks the workers for a ping on each tick. When none answers, it says so loudly
and runs the sweeper itself, at once and then once a minute while the silence lasts: lost
leases are recovered and lost messages (Redis restarted or flushed) are sent again, to wait in
the broker for the worker that comes back (the runner or systemd restarts it). Not on every
tick: the messages it sent wait in the queue, unconsumed, and more sweeps would only pile up
copies of them (one per stuck item a minute is the bound).

The sweeper is safe from any process, as often as wanted: every row it takes is taken with a
conditional UPDATE, and every task it enqueues is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger("coffeeshop.watchdog")

TICK_SECONDS = 5.0
PING_TIMEOUT_SECONDS = 1.0
REPEAT_ALARM_SECONDS = 60.0

Verdict = Literal["workers", "no-worker", "no-broker"]


@dataclass
class WatchState:
    silent_since: float | None = None
    last_alarm: float | None = None


def watch_once(*, ping: Callable[[], int], sweep: Callable[[], object], now: float,
               state: WatchState) -> Verdict:
    """One tick: how many workers answered; when none did, the alarm and a sweep (at once,
    then once a minute)."""
    try:
        answered = ping()
    except Exception as exc:  # kombu raises several connection error types
        logger.error("watchdog: cannot ask the workers (the broker is unreachable: %s); "
                     "nothing is routed or delivered until it is back", exc)
        return "no-broker"
    if answered:
        if state.silent_since is not None:
            logger.warning("watchdog: %d Celery worker(s) answer again after %.0f s of silence",
                           answered, now - state.silent_since)
        state.silent_since = state.last_alarm = None
        return "workers"
    if state.silent_since is None:
        state.silent_since = now
    if state.last_alarm is None or now - state.last_alarm >= REPEAT_ALARM_SECONDS:
        state.last_alarm = now
        logger.critical(
            "watchdog: NO CELERY WORKER ANSWERED for %.0f s: events are stored but not routed "
            "or delivered. Start or restart a worker (`celery -A coffeeshop worker`); beat "
            "runs the sweeper itself meanwhile.", now - state.silent_since)
        report = sweep()
        logger.warning("watchdog: swept without a worker: %s", report)
    return "no-worker"


def _ping_workers() -> int:
    from coffeeshop.celery import app

    return len(app.control.ping(timeout=PING_TIMEOUT_SECONDS) or [])


def _sweep_here() -> object:
    from django.db import close_old_connections, connection

    from routing import dispatch
    from routing.services.sweeper import sweep

    close_old_connections()
    try:
        return sweep()
    finally:
        dispatch.flush()
        connection.close()  # this thread's connection, back to the pool


def start(tick: float = TICK_SECONDS) -> threading.Thread:
    """Runs the watchdog in a daemon thread of the calling (beat) process."""
    state = WatchState()

    def loop() -> None:
        while True:
            started = time.monotonic()
            try:
                watch_once(ping=_ping_workers, sweep=_sweep_here, now=started, state=state)
            except Exception:  # the watchdog must outlive a failed tick (a database outage)
                logger.exception("watchdog: tick failed; trying again in %g s", tick)
            time.sleep(max(0.0, tick - (time.monotonic() - started)))

    thread = threading.Thread(target=loop, daemon=True, name="watchdog")
    thread.start()
    return thread
