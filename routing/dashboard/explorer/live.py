"""The event explorer's live tail: what one websocket sees, polled from the database.

Why polling, not a push: events are stored by `events_store` with bulk_create (no signals), from
any process (the web's API, Celery workers routing `bus` targets and replays, the shop's
services), and the bus's services are not the dashboard's to change. The database is the one
place that sees every committed event, so each tail asks it, once a second, for the keys of
the events ingested since its watermark: one indexed range scan over two columns, and the full
rows only of those it has not sent yet. What it reads is committed by definition, so nothing
is shown that could still roll back, and a socket that reconnects loses nothing (it gets a
fresh snapshot). A Celery beat job fanning out through the channel layer would add a beat
dependency, a second of scheduling jitter and an at-most-once hop for no gain at the handful of
staff sockets a dashboard has.

Publishing stamps `ingested_at` before its transaction commits, so an event can become visible
after a later-stamped one. Each poll therefore looks back LOOKBACK behind its watermark and
skips the ids it already sent: an event is missed only if its publishing transaction stayed
open longer than that (it is still found by search)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from routing.selectors.events import (
    EventFilters,
    EventRow,
    event_keys_since,
    event_latest,
    event_rows,
    event_statuses,
)

SNAPSHOT_SIZE = 50
POLL_SECONDS = 1.0
LOOKBACK = timedelta(seconds=10)
# A tail whose newest event is old does not rescan everything since then: it looks this far
# back from now (so a publisher's clock may lag the web's by up to this, plus LOOKBACK).
HORIZON = timedelta(seconds=60)
KEYS_PER_POLL = 1000
ROWS_PER_MESSAGE = 100
# Rows the page shows as still routing or delivering: each poll re-reads their status.
FOLLOWED_MAX = 200
UNSETTLED = ("routing", "in_progress")


def row_payload(row: EventRow) -> dict[str, Any]:
    """An event as the tail sends it: its data and the table row the page inserts."""
    return {**row.as_dict(),
            "html": render_to_string("dashboard/events/_row.html", {"row": row, "live": True})}


@dataclass
class EventTail:
    """One socket's tail: a sequence number, a watermark and the ids sent near it."""

    filters: EventFilters
    seq: int = 0
    watermark: datetime | None = None
    sent: dict[str, datetime] = field(default_factory=dict)
    # id → status of the rows shown as routing or in progress, newest last.
    unsettled: dict[str, str] = field(default_factory=dict)

    def _follow(self, rows: list[EventRow]) -> None:
        statuses = event_statuses([row.id for row in rows])
        for row in reversed(rows):
            row.status = statuses[row.id]
            if row.status in UNSETTLED:
                self.unsettled[row.id] = row.status
        while len(self.unsettled) > FOLLOWED_MAX:
            del self.unsettled[next(iter(self.unsettled))]

    def _status_changes(self) -> dict[str, str]:
        if not self.unsettled:
            return {}
        now = event_statuses(list(self.unsettled))
        changed = {key: status for key, status in now.items() if status != self.unsettled[key]}
        for key, status in changed.items():
            if status in UNSETTLED:
                self.unsettled[key] = status
            else:
                del self.unsettled[key]
        return changed

    def snapshot(self) -> dict[str, Any]:
        """The newest events (newest first); deltas after it carry seq + 1, + 2, ..."""
        rows = event_latest(self.filters, limit=SNAPSHOT_SIZE)
        self.sent = {row.id: row.ingested_at for row in rows}
        self.watermark = max(self.sent.values(), default=None)
        self.unsettled = {}
        self._follow(rows)
        return {"type": "snapshot", "seq": self.seq, "events": [row_payload(r) for r in rows]}

    def poll(self, *, now: datetime | None = None) -> dict[str, Any] | None:
        """The events that appeared since the last poll (newest first) and the new status of
        shown rows that were still routing or delivering; None when nothing changed."""
        now = now or timezone.now()
        floor = now - HORIZON
        since = (floor if self.watermark is None else max(self.watermark, floor)) - LOOKBACK
        keys = event_keys_since(self.filters, since=since, limit=KEYS_PER_POLL)
        fresh = [(key, moment) for key, moment in keys if key not in self.sent]
        for key, moment in fresh:
            self.sent[key] = moment
            if self.watermark is None or moment > self.watermark:
                self.watermark = moment
        self.sent = {key: moment for key, moment in self.sent.items() if moment >= since}
        statuses = self._status_changes()
        if not fresh and not statuses:
            return None
        shown = fresh[:ROWS_PER_MESSAGE]
        rows = event_rows([key for key, _ in shown]) if shown else []
        self._follow(rows)
        self.seq += 1
        return {
            "type": "events",
            "seq": self.seq,
            "events": [row_payload(row) for row in rows],
            "statuses": statuses,
            # More than one message's worth arrived in a second: the page says how many it
            # did not draw (search finds them all).
            "skipped": len(fresh) - len(shown),
            "capped": len(keys) >= KEYS_PER_POLL,
        }
