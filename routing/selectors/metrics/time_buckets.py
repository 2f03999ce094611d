"""The dashboard's time ranges and buckets, and `BucketIndex`: each row's bucket computed by the
database itself, with native date arithmetic (Django's Trunc functions would call a Python
function per row on SQLite)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, IntegerField
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone


@dataclass(frozen=True)
class RangeChoice:
    key: str
    label: str
    seconds: int
    bucket_seconds: int


RANGE_CHOICES: tuple[RangeChoice, ...] = (
    RangeChoice("15m", "15 minutes", 15 * 60, 60),
    RangeChoice("1h", "1 hour", 3600, 60),
    RangeChoice("6h", "6 hours", 6 * 3600, 5 * 60),
    RangeChoice("24h", "24 hours", 24 * 3600, 15 * 60),
    RangeChoice("7d", "7 days", 7 * 24 * 3600, 2 * 3600),
)
DEFAULT_RANGE = "1h"


@dataclass(frozen=True)
class Timeline:
    """`count` buckets of `bucket_seconds`, the last one holding `now` (so it is partial)."""

    start: datetime
    end: datetime
    bucket_seconds: int
    choice: RangeChoice

    @property
    def count(self) -> int:
        return int((self.end - self.start).total_seconds()) // self.bucket_seconds

    @property
    def starts(self) -> list[datetime]:
        step = timedelta(seconds=self.bucket_seconds)
        return [self.start + step * index for index in range(self.count)]

    def index(self, moment: datetime) -> int | None:
        offset = int((moment - self.start).total_seconds() // self.bucket_seconds)
        return offset if 0 <= offset < self.count else None

    def zeros(self) -> list[float]:
        return [0.0] * self.count


def timeline(key: str = DEFAULT_RANGE, *, now: datetime | None = None) -> Timeline:
    choice = next((c for c in RANGE_CHOICES if c.key == key), None)
    if choice is None:
        choice = next(c for c in RANGE_CHOICES if c.key == DEFAULT_RANGE)
    now = now or timezone.now()
    epoch = int(now.timestamp())
    end = datetime.fromtimestamp(epoch - epoch % choice.bucket_seconds + choice.bucket_seconds,
                                 tz=UTC)
    return Timeline(start=end - timedelta(seconds=choice.seconds), end=end,
                    bucket_seconds=choice.bucket_seconds, choice=choice)


class BucketIndex(Func):
    """Which of the timeline's buckets a timestamp column falls in (0, 1, ...), computed by the
    database: whole seconds since the timeline's start, divided by the bucket's length."""

    output_field = IntegerField()

    def __init__(self, expression: Any, line: Timeline) -> None:
        self.start_epoch = int(line.start.timestamp())
        self.bucket_seconds = int(line.bucket_seconds)
        super().__init__(expression)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
                  **extra: Any) -> Any:
        # strftime('%s') reads Django's UTC text as whole Unix seconds (integer arithmetic, so
        # a row on a bucket's edge lands in that bucket). '%%%%' reaches SQLite as one '%'.
        template = (f"((CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) "
                    f"- {self.start_epoch}) / {self.bucket_seconds})")
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
                      **extra: Any) -> Any:
        template = (f"CAST(FLOOR((EXTRACT(EPOCH FROM %(expressions)s) - {self.start_epoch}) "
                    f"/ {self.bucket_seconds}) AS INTEGER)")
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               function: str | None = None, template: str | None = None,
               arg_joiner: str | None = None, **extra: Any) -> Any:
        if template is None:
            raise NotSupportedError("The dashboard's metrics support SQLite and PostgreSQL.")
        return super().as_sql(compiler, connection, function=function, template=template,
                              arg_joiner=arg_joiner, **extra)


def fold(line: Timeline, rows: Iterable[tuple[int, float]]) -> list[float]:
    """(bucket index, value) rows summed into the timeline's buckets."""
    values = line.zeros()
    for position, value in rows:
        if position is not None and 0 <= position < line.count:
            values[position] += value
    return values


def day_start(now: datetime | None = None) -> datetime:
    """00:00 UTC today: the Prometheus counters count from here (see docs/dashboard.md)."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Series:
    name: str
    values: list[float]
