"""Moments as text, the one way the project writes them: RFC 3339 in UTC, with a Z.

EventBridge writes an event's `time`, its ingestion time and Scheduler's scheduled time to the
second (``2015-11-11T21:29:55Z``): `timespec="seconds"`. Elsewhere (traces, the shop's event
details, live pages) a moment keeps its microseconds when it has any, so that two moments of one
second still sort apart: the default, `timespec="auto"`, as `datetime.isoformat` has it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, overload

Timespec = Literal["auto", "seconds"]


@overload
def utc_timestamp(moment: datetime, *, timespec: Timespec = "auto") -> str: ...


@overload
def utc_timestamp(moment: None, *, timespec: Timespec = "auto") -> None: ...


@overload
def utc_timestamp(moment: datetime | None, *, timespec: Timespec = "auto") -> str | None: ...


def utc_timestamp(moment: datetime | None, *, timespec: Timespec = "auto") -> str | None:
    """`moment` in UTC with a Z (None stays None); an aware datetime is expected."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
