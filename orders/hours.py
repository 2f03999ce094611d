"""Opening hours: which spans a shop is open on a local day (its weekday's hours, or that date's
exception), and the changes its clock brings — open, closing soon, close, local midnight — as
UTC instants. Pure Python, no Django: orders/schedule.py applies the changes.

Hours are wall-clock times in the shop's zone. Where daylight saving skips a local time (spring),
that time moves forward by the gap (an opening at 02:30 in a 02:00→03:00 jump happens at 03:30),
as the clock on the wall would say; where it repeats one (autumn), the first occurrence counts.
A span ends on the day it starts (closes after it opens); two spans a day make a lunch break.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidHours(ValueError):
    """Hours that cannot be: closing before opening, or spans that overlap."""


@dataclass(frozen=True, order=True)
class Span:
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise InvalidHours(f"closes at {self.closes:%H:%M}, not after it opens at "
                               f"{self.opens:%H:%M}")

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


@dataclass(frozen=True)
class Hours:
    """A shop's week (0 = Monday … 6 = Sunday; a missing day is closed) and its exceptions (a
    date with no spans is closed that day)."""

    weekly: Mapping[int, Sequence[Span]]
    exceptions: Mapping[date, Sequence[Span]]
    tz: ZoneInfo

    def spans_on(self, day: date) -> tuple[Span, ...]:
        spans = self.exceptions.get(day)
        if spans is None:
            spans = self.weekly.get(day.weekday(), ())
        return tuple(sorted(spans))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(instant(local.date(), span.opens, self.tz) <= moment
                   < instant(local.date(), span.closes, self.tz)
                   for span in self.spans_on(local.date()))


def check_spans(spans: Sequence[Span]) -> None:
    ordered = sorted(spans)
    for earlier, later in itertools.pairwise(ordered):
        if later.opens < earlier.closes:
            raise InvalidHours(f"{earlier} and {later} overlap")


class ChangeKind(StrEnum):
    OPEN = "open"
    CLOSING_SOON = "closing_soon"
    CLOSE = "close"
    MIDNIGHT = "midnight"


@dataclass(frozen=True, order=True)
class Change:
    at: datetime  # aware, UTC
    kind: ChangeKind
    # The span the change belongs to (None at midnight): its local close, for notices.
    closes_at: datetime | None = None


def instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (fold 0: a skipped time moves forward by the
    gap, a repeated one is its first occurrence)."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _changes_on(hours: Hours, day: date, notice: timedelta) -> Iterator[Change]:
    yield Change(instant(day, time(0, 0), hours.tz), ChangeKind.MIDNIGHT)
    for span in hours.spans_on(day):
        opens, closes = instant(day, span.opens, hours.tz), instant(day, span.closes, hours.tz)
        yield Change(opens, ChangeKind.OPEN, closes)
        if notice and closes - notice > opens:
            yield Change(closes - notice, ChangeKind.CLOSING_SOON, closes)
        yield Change(closes, ChangeKind.CLOSE, closes)


def changes_between(hours: Hours, since: datetime, until: datetime, *,
                    notice: timedelta = timedelta(0)) -> list[Change]:
    """Every change in (since, until], in time order."""
    first = since.astimezone(hours.tz).date() - timedelta(days=1)
    last = until.astimezone(hours.tz).date() + timedelta(days=1)
    changes: list[Change] = []
    day = first
    while day <= last:
        changes.extend(c for c in _changes_on(hours, day, notice) if since < c.at <= until)
        day += timedelta(days=1)
    return sorted(changes)


def next_changes(hours: Hours, after: datetime, count: int, *,
                 notice: timedelta = timedelta(0), horizon_days: int = 366) -> list[Change]:
    """The next `count` open/close changes after `after` (midnights left out), looking at most
    `horizon_days` ahead: a shop closed for good has none."""
    found: list[Change] = []
    day = after.astimezone(hours.tz).date()
    for _ in range(horizon_days + 1):
        found.extend(c for c in _changes_on(hours, day, notice)
                     if c.at > after and c.kind is not ChangeKind.MIDNIGHT)
        if len(found) >= count:
            break
        day += timedelta(days=1)
    return sorted(found)[:count]


# Hours as people write them: "08:00-12:00, 13:00-17:30" for a day, and one exception a line,
# "2026-12-24 closed" or "2026-12-31 08:00-14:00 New Year's Eve".

def _time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise InvalidHours(f"{text.strip()!r} is not a time of day (HH:MM)") from None


def parse_spans(text: str) -> tuple[Span, ...]:
    """`"08:00-12:00, 13:00-17:00"` → two spans; `""` or `"closed"` → none."""
    cleaned = text.strip()
    if cleaned.lower() in ("", "closed"):
        return ()
    spans = []
    for part in cleaned.split(","):
        opens, dash, closes = part.replace("\u2013", "-").partition("-")
        if not dash:
            raise InvalidHours(f"{part.strip()!r} is not a span: write it as 08:00-17:00")
        spans.append(Span(_time(opens), _time(closes)))
    check_spans(spans)
    return tuple(sorted(spans))


def format_spans(spans: Sequence[Span]) -> str:
    return ", ".join(f"{s.opens:%H:%M}-{s.closes:%H:%M}" for s in sorted(spans)) or "closed"


@dataclass(frozen=True)
class DateHours:
    day: date
    spans: tuple[Span, ...]  # none: closed that day
    reason: str = ""


def parse_exceptions(text: str) -> list[DateHours]:
    """One date a line: `2026-12-24 closed`, `2026-12-31 08:00-14:00 New Year's Eve`."""
    found: dict[date, DateHours] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        day_text, _, rest = line.strip().partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise InvalidHours(f"line {number}: {day_text!r} is not a date (YYYY-MM-DD)") \
                from None
        if day in found:
            raise InvalidHours(f"line {number}: {day} is given twice")
        hours_text, _, reason = rest.strip().partition(" ")
        if hours_text.lower() != "closed" and "-" not in hours_text:
            raise InvalidHours(f"line {number}: after the date write 'closed' or the hours, "
                               "e.g. 08:00-14:00 (several spans: 08:00-12:00,13:00-17:00)")
        try:
            spans = parse_spans(hours_text)
        except InvalidHours as error:
            raise InvalidHours(f"line {number}: {error}") from None
        found[day] = DateHours(day=day, spans=spans, reason=reason.strip())
    return sorted(found.values(), key=lambda entry: entry.day)


def format_exceptions(entries: Sequence[DateHours]) -> str:
    return "\n".join(
        " ".join(part for part in (entry.day.isoformat(), format_spans(entry.spans),
                                   entry.reason) if part)
        for entry in entries)
