"""AWS schedule expressions — `rate()`, `cron()` (six fields) and the Scheduler's `at()` — parsed,
validated with AWS's rules and turned into fire times. Pure Python, no Django.

croniter computes the times; this module only checks AWS's syntax (which croniter alone would
accept too much of: five fields, `?` anywhere, Sunday as 0) and translates it to croniter's.

Cron and `at()` are read in a time zone (UTC for scheduled rules). As EventBridge Scheduler
documents for daylight saving time: a local time that does not exist (the hour skipped in spring)
does not fire, and a local time that happens twice (the hour repeated in autumn) fires once, the
first time. A rate is elapsed time: `rate(1 day)` is 24 hours, whatever the clock does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, croniter

INVALID_MESSAGE = "Parameter ScheduleExpression is not valid."
CRONITER_LAST_YEAR = 2099
# How far croniter looks for the next match (its default, 50 years, misses `cron(... 2099)`).
_YEARS_AHEAD = CRONITER_LAST_YEAR - 1970
MAX_EXPRESSION_LENGTH = 256

Unit = Literal["minutes", "hours", "days"]


class InvalidScheduleExpression(ValueError):
    """An expression EventBridge would refuse. `str(error)` is AWS's message (which names no
    reason); `reason` says what is wrong, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(INVALID_MESSAGE)
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidScheduleExpression], tuple[str]]:
        return (type(self), (self.reason,))


@dataclass(frozen=True)
class Rate:
    value: int
    unit: Unit

    def period(self, minute: timedelta = timedelta(minutes=1)) -> timedelta:
        """`minute` lets a test shorten the unit; every unit scales with it."""
        factor = {"minutes": 1, "hours": 60, "days": 60 * 24}[self.unit]
        return minute * (self.value * factor)


@dataclass(frozen=True)
class Cron:
    text: str  # the six AWS fields as given
    # The same in croniter's seven-field form (seconds 0, then the year); None when every year
    # it names is past croniter's last (2099): AWS accepts it, and it fires at no time we see.
    croniter_text: str | None


@dataclass(frozen=True)
class At:
    when: datetime  # naive: a wall-clock time in the schedule's zone


Expression = Rate | Cron | At

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def number(self, token: str) -> int:
        if token.isdigit():
            value = int(token)
        elif token.upper() in self.names:
            value = self.low + self.names.index(token.upper())
        else:
            raise InvalidScheduleExpression(f"{self.name}: {token!r} is not a value")
        if not self.low <= value <= self.high:
            raise InvalidScheduleExpression(
                f"{self.name}: {value} is outside {self.low}-{self.high}")
        return value


_MINUTES = _Field("minutes", 0, 59)
_HOURS = _Field("hours", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_DOW = _Field("day-of-week", 1, 7, _DAYS)
_YEAR = _Field("year", 1970, 2199)

_DOW_LAST = re.compile(r"^(\w+)L$", re.IGNORECASE)
_DOW_NTH = re.compile(r"^(\w+)#(\d)$")
_DOM_WEEKDAY = re.compile(r"^(\d+)W$", re.IGNORECASE)


def _plain(field: _Field, element: str, translate: bool) -> str:
    """One element of a list: `*`, `v`, `a-b`, with an optional `/step`. Returns it in
    croniter's terms (day-of-week numbers moved from AWS's 1-7 to croniter's 0-6)."""
    base, slash, step_text = element.partition("/")
    if slash and (not step_text.isdigit() or not 1 <= int(step_text) <= field.high):
        raise InvalidScheduleExpression(f"{field.name}: step {step_text!r} is not valid")
    shift = -1 if translate else 0
    if base == "*":
        out = "*"
    elif "-" in base:
        first, _, last = base.partition("-")
        out = f"{field.number(first) + shift}-{field.number(last) + shift}"
    else:
        out = str(field.number(base) + shift)
        if slash:  # `5/10`: from 5 to the end, every 10
            out = f"{out}-{field.high + shift}"
    return out + (f"/{step_text}" if slash else "")


def _list(field: _Field, text: str, translate: bool = False) -> str:
    if not text or "?" in text:
        raise InvalidScheduleExpression(f"{field.name}: {text!r} is not valid here")
    return ",".join(_plain(field, element, translate) for element in text.split(","))


def _day_of_month(text: str) -> str:
    if text == "?":
        return "*"
    if text.upper() == "L":
        return "L"
    weekday = _DOM_WEEKDAY.match(text)
    if weekday:
        return f"{_DOM.number(weekday.group(1))}W"
    return _list(_DOM, text)


def _day_of_week(text: str) -> str:
    if text == "?":
        return "*"
    if text.upper() == "L":  # the last day of the week: Saturday
        return "6"
    last = _DOW_LAST.match(text)
    if last:
        return f"L{_DOW.number(last.group(1)) - 1}"
    nth = _DOW_NTH.match(text)
    if nth:
        occurrence = int(nth.group(2))
        if not 1 <= occurrence <= 5:
            raise InvalidScheduleExpression(f"day-of-week: #{occurrence} is outside 1-5")
        return f"{_DOW.number(nth.group(1)) - 1}#{occurrence}"
    return _list(_DOW, text, translate=True)


def _cron(body: str) -> Cron:
    fields = body.split(" ")
    if len(fields) != 6:
        raise InvalidScheduleExpression("cron() takes six fields separated by single spaces: "
                                        "minutes hours day-of-month month day-of-week year")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidScheduleExpression("exactly one of day-of-month and day-of-week must be ?")
    year_text = _years_for_croniter(_list(_YEAR, year))
    translated = " ".join([_list(_MINUTES, minutes), _list(_HOURS, hours), _day_of_month(dom),
                           _list(_MONTH, month), _day_of_week(dow), "0",
                           year_text or str(CRONITER_LAST_YEAR)])
    try:
        croniter(translated, datetime(2000, 1, 1, tzinfo=UTC))
    except (CroniterBadCronError, CroniterNotAlphaError, ValueError) as error:
        raise InvalidScheduleExpression(f"cron(): {error}") from None
    return Cron(text=body, croniter_text=translated if year_text else None)


def _years_for_croniter(years: str) -> str:
    """AWS takes years to 2199, croniter counts to 2099: the years beyond are dropped from what
    croniter iterates (a range or step is cut at 2099). "" when no year is left, and the
    expression then has no fire time that can be computed."""
    kept = []
    for element in years.split(","):
        base, slash, step = element.partition("/")
        first, dash, last = base.partition("-")
        if base == "*":
            kept.append(element)
        elif int(first) <= CRONITER_LAST_YEAR:
            last_kept = min(int(last), CRONITER_LAST_YEAR) if dash else int(first)
            # croniter reads a range of one year ("2099-2099") as every year.
            upper = f"-{last_kept}" if last_kept != int(first) else ""
            kept.append(f"{first}{upper}{slash}{step}" if upper or not slash else first)
    return ",".join(kept)


def parse_expression(text: str, *, allow_at: bool = False) -> Expression:
    """Parses `rate(...)`, `cron(...)` and (for the Scheduler, `allow_at`) `at(...)`."""
    if not isinstance(text, str) or not text or len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidScheduleExpression(
            f"an expression is 1 to {MAX_EXPRESSION_LENGTH} characters")
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise InvalidScheduleExpression("a rate is a positive number")
        # AWS insists on the singular for 1 and the plural otherwise.
        if (value == 1) != (not unit.endswith("s")):
            raise InvalidScheduleExpression(
                f"rate({value} {unit}): use {'the singular' if value == 1 else 'the plural'}")
        plural: Unit = unit if unit.endswith("s") else unit + "s"  # type: ignore[assignment]
        return Rate(value=value, unit=plural)
    cron = _CRON.match(text)
    if cron:
        return _cron(cron.group(1))
    at = _AT.match(text) if allow_at else None
    if at:
        try:
            year, month, day, hour, minute, second = (int(part) for part in at.groups())
            return At(when=datetime(year, month, day, hour, minute, second))  # noqa: DTZ001
        except ValueError as error:
            raise InvalidScheduleExpression(f"at(): {error}") from None
    expected = "rate(), cron() or at()" if allow_at else "rate() or cron()"
    raise InvalidScheduleExpression(f"the expression must be {expected}")


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name; ValueError for a name there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone") from None


def _instant(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time, the first one where it happens twice; None where the
    clock skips it."""
    local = wall.replace(tzinfo=tz, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


_DST_MARGIN = timedelta(hours=3)


def _margin(moment: datetime, tz: ZoneInfo) -> timedelta:
    """How far before (or after) `moment` a walk of wall-clock times must start to see a DST
    change near it: three hours when the zone's offset changes within three hours of it, else
    none (a walk of an every-minute cron would otherwise step 180 times for nothing)."""
    offsets = {(moment + delta).astimezone(tz).utcoffset()
               for delta in (-_DST_MARGIN, timedelta(0), _DST_MARGIN)}
    return _DST_MARGIN if len(offsets) > 1 else timedelta(0)


def _cron_times(cron: Cron, after: datetime, tz: ZoneInfo) -> Iterator[datetime]:
    # Walk wall-clock times in the zone, so that DST gaps and repeats are seen as such.
    if cron.croniter_text is None:
        return
    wall_after = after.astimezone(tz).replace(tzinfo=None) - _margin(after, tz)
    iterator = croniter(cron.croniter_text, wall_after, max_years_between_matches=_YEARS_AHEAD)
    while True:
        try:
            wall: datetime = iterator.get_next(datetime)
        except CroniterBadDateError:
            return
        instant = _instant(wall, tz)
        if instant is not None and instant > after:
            yield instant


def _check_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")


def next_fire_times(
    expression: str | Expression,
    after: datetime,
    count: int,
    tz: str = "UTC",
    *,
    anchor: datetime | None = None,
    minute: timedelta = timedelta(minutes=1),
) -> list[datetime]:
    """The next `count` fire times strictly after `after`, as aware UTC datetimes.

    A rate fires at `anchor` + k periods (k >= 1; `anchor` defaults to `after`): when a schedule
    starts is the caller's to know. Fewer than `count` come back when the expression ends (a
    past year, an `at()` already gone)."""
    _check_aware(after, "after")
    parsed = parse_expression(expression, allow_at=True) if isinstance(expression, str) \
        else expression
    tz_info = zone(tz)
    after = after.astimezone(UTC)
    if isinstance(parsed, Rate):
        start = (anchor or after).astimezone(UTC)
        period = parsed.period(minute)
        skipped = max(0, (after - start) // period)
        return [start + period * (skipped + k) for k in range(1, count + 2)
                if start + period * (skipped + k) > after][:count]
    if isinstance(parsed, At):
        instant = parsed.when.replace(tzinfo=tz_info).astimezone(UTC)
        return [instant] if instant > after and count > 0 else []
    times: list[datetime] = []
    for instant in _cron_times(parsed, after, tz_info):
        if len(times) >= count:
            break
        times.append(instant)
    return times


def latest_fire_time(
    expression: str | Expression,
    since: datetime,
    until: datetime,
    tz: str = "UTC",
    *,
    anchor: datetime | None = None,
    minute: timedelta = timedelta(minutes=1),
    limit: int = 10_000,
) -> tuple[datetime | None, int]:
    """The latest fire time in (since, until], and how many fire times that interval holds
    (counted up to `limit`): a firer that was down fires the latest once and reports the rest
    as missed."""
    _check_aware(since, "since")
    _check_aware(until, "until")
    parsed = parse_expression(expression, allow_at=True) if isinstance(expression, str) \
        else expression
    if isinstance(parsed, Rate):
        start = (anchor or since).astimezone(UTC)
        period = parsed.period(minute)
        if until < start + period:
            return None, 0
        last_k = (until - start) // period
        first_k = max(1, (since - start) // period + 1)
        if last_k < first_k:
            return None, 0
        return start + period * last_k, min(limit, last_k - first_k + 1)
    latest: datetime | None = None
    seen = 0
    tz_info = zone(tz)
    if isinstance(parsed, At):
        instant = parsed.when.replace(tzinfo=tz_info).astimezone(UTC)
        return (instant, 1) if since < instant <= until else (None, 0)
    for instant in _cron_times(parsed, since.astimezone(UTC), tz_info):
        if instant > until:
            break
        latest, seen = instant, seen + 1
        if seen >= limit:
            # Too many to count: jump to the end and take the latest before it.
            tail = _latest_cron_before(parsed, until, tz_info)
            return tail or latest, seen
    return latest, seen


def _latest_cron_before(cron: Cron, until: datetime, tz: ZoneInfo) -> datetime | None:
    if cron.croniter_text is None:
        return None
    # A minute past `until`: get_prev is strict, and a tick at `until` itself counts.
    wall_until = until.astimezone(tz).replace(tzinfo=None) + _margin(until, tz) \
        + timedelta(minutes=1)
    iterator = croniter(cron.croniter_text, wall_until, max_years_between_matches=_YEARS_AHEAD)
    for _ in range(1000):
        try:
            wall: datetime = iterator.get_prev(datetime)
        except CroniterBadDateError:
            return None
        instant = _instant(wall, tz)
        if instant is not None and instant <= until:
            return instant
    return None
