"""Beat's watchdog, one tick at a time: the ping and the sweep are passed in as callables (the
integration test runs the real ones in a real beat with no worker)."""

from __future__ import annotations

import logging

import pytest

from coffeeshop.watchdog import REPEAT_ALARM_SECONDS, WatchState, watch_once


class Sweeps:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return "report"


def _broker_down() -> int:
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")


def test_silence_raises_the_alarm_and_sweeps_at_once_then_once_a_minute(
        caplog: pytest.LogCaptureFixture) -> None:
    state, sweeps = WatchState(), Sweeps()
    caplog.set_level(logging.INFO, logger="coffeeshop.watchdog")

    assert watch_once(ping=lambda: 1, sweep=sweeps, now=0.0,
                      state=state) == "workers"
    assert sweeps.count == 0  # a live worker receives beat's sweep task itself

    for now in (5.0, 10.0, 15.0):
        assert watch_once(ping=lambda: 0, sweep=sweeps, now=now,
                          state=state) == "no-worker"
    # Once: what it sent waits in the queue, and more sweeps would only pile up copies.
    assert sweeps.count == 1
    alarms = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(alarms) == 1
    assert "NO CELERY WORKER ANSWERED" in alarms[0].getMessage()

    watch_once(ping=lambda: 0, sweep=sweeps, now=5.0 + REPEAT_ALARM_SECONDS, state=state)
    assert sweeps.count == 2
    alarms = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(alarms) == 2
    assert f"for {REPEAT_ALARM_SECONDS:.0f} s" in alarms[1].getMessage()

    assert watch_once(ping=lambda: 2, sweep=sweeps, now=70.0,
                      state=state) == "workers"
    assert "answer again after 65 s" in caplog.records[-1].getMessage()
    assert state.silent_since is None


def test_an_unreachable_broker_is_reported_and_not_swept(
        caplog: pytest.LogCaptureFixture) -> None:
    sweeps = Sweeps()
    assert watch_once(ping=_broker_down, sweep=sweeps, now=0.0,
                      state=WatchState()) == "no-broker"
    assert sweeps.count == 0  # nothing could be sent anyway
    assert "broker is unreachable" in caplog.records[-1].getMessage()
