"""When an EventBridge Scheduler schedule is due: its expression read in its time zone, between its
start and end dates, each tick moved by its flexible window's offset. Pure Python, no Django.

As AWS documents: a rate schedule invokes at its start (the StartDate, or when it was created)
and every period after; cron and at() are read in ScheduleExpressionTimezone with the DST rules
of routing.schedules.expressions; nothing fires before StartDate or after EndDate.

The flexible window's "random" offset is drawn from a hash of the schedule and the tick, so that
every firer (any number of beats) agrees on when a tick is due without sharing state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.schedules.expressions import (
    At,
    Expression,
    Rate,
    latest_fire_time,
    next_fire_times,
    parse_expression,
)

_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Timing:
    key: str  # what the flexible offset is drawn from: stable per schedule
    expression: Expression
    timezone: str
    started_at: datetime  # ticks at or before this (bar a rate's own start) never fire
    start_date: datetime | None = None
    end_date: datetime | None = None
    window: timedelta | None = None  # FLEXIBLE's maximum window; None for OFF
    minute: timedelta = timedelta(minutes=1)

    @classmethod
    def of(cls, *, key: str, expression: str, timezone: str, started_at: datetime,
           start_date: datetime | None = None, end_date: datetime | None = None,
           window_minutes: int | None = None,
           minute: timedelta = timedelta(minutes=1)) -> Timing:
        return cls(key=key, expression=parse_expression(expression, allow_at=True),
                   timezone=timezone, started_at=started_at, start_date=start_date,
                   end_date=end_date,
                   window=minute * window_minutes if window_minutes else None, minute=minute)

    @property
    def is_one_time(self) -> bool:
        return isinstance(self.expression, At)

    def offset(self, tick: datetime) -> timedelta:
        """Where inside the flexible window this tick fires: uniform over [0, window)."""
        if self.window is None:
            return timedelta(0)
        digest = hashlib.sha256(f"{self.key}|{tick.isoformat()}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / 2**64
        return timedelta(microseconds=int(self.window / _TINY * fraction))

    def _rate_anchor(self) -> datetime:
        # A rate's ticks are anchor + k periods, k >= 1: one period back, so it fires at its start.
        assert isinstance(self.expression, Rate)
        start = self.start_date or self.started_at
        return start - self.expression.period(self.minute)

    def _since(self, last_tick: datetime | None) -> datetime:
        since = self.started_at
        if isinstance(self.expression, Rate):
            since = (self.start_date or self.started_at) - _TINY
            since = max(since, self.started_at - _TINY)
        elif self.start_date is not None:
            since = max(since, self.start_date - _TINY)
        return max(since, last_tick) if last_tick is not None else since

    def _latest(self, since: datetime, until: datetime) -> tuple[datetime | None, int]:
        if until <= since:
            return None, 0
        anchor = self._rate_anchor() if isinstance(self.expression, Rate) else None
        return latest_fire_time(self.expression, since, until, self.timezone, anchor=anchor,
                                minute=self.minute)

    def due(self, *, now: datetime, last_tick: datetime | None) -> DueTick | None:
        """The tick to fire now, if any: the latest tick whose due time (tick + offset) has come
        and that is later than the last one fired; earlier unfired ticks count as missed."""
        since = self._since(last_tick)
        until = min(now, self.end_date) if self.end_date is not None else now
        latest, count = self._latest(since, until)
        if latest is None:
            return None
        if latest + self.offset(latest) <= now:
            return DueTick(tick_at=latest, due_at=latest + self.offset(latest),
                           missed_before=count - 1)
        # The latest tick's offset has not come yet; the one before it may have.
        previous, previous_count = self._latest(since, latest - _TINY)
        if previous is None or previous + self.offset(previous) > now:
            return None
        return DueTick(tick_at=previous, due_at=previous + self.offset(previous),
                       missed_before=previous_count - 1)

    def next_ticks(self, *, after: datetime | None, count: int) -> list[datetime]:
        """The next `count` ticks after `after` (None: since the schedule started; before any
        offset), within the end date."""
        since = self._since(after)
        anchor = self._rate_anchor() if isinstance(self.expression, Rate) else None
        ticks = next_fire_times(self.expression, since, count, self.timezone, anchor=anchor,
                                minute=self.minute)
        return [tick for tick in ticks if self.end_date is None or tick <= self.end_date]


@dataclass(frozen=True)
class DueTick:
    tick_at: datetime
    due_at: datetime
    missed_before: int
