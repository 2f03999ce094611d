"""routing.timestamps: the one way moments become text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from routing.timestamps import utc_timestamp

BERLIN_SUMMER = timezone(timedelta(hours=2))


def test_eventbridge_writes_utc_to_the_second_with_a_z() -> None:
    # The `time` of the user guide's example events, and what Scheduler's <scheduled-time> holds.
    moment = datetime(2015, 11, 11, 21, 29, 55, 917_000, tzinfo=UTC)
    assert utc_timestamp(moment, timespec="seconds") == "2015-11-11T21:29:55Z"


def test_other_zones_are_written_in_utc() -> None:
    moment = datetime(2026, 7, 1, 9, 0, 0, tzinfo=BERLIN_SUMMER)
    assert utc_timestamp(moment, timespec="seconds") == "2026-07-01T07:00:00Z"
    assert utc_timestamp(moment) == "2026-07-01T07:00:00Z"


def test_by_default_microseconds_are_kept_when_there_are_any() -> None:
    assert utc_timestamp(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000006Z")
    assert utc_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_what_it_writes_reads_back_as_the_same_moment() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891_011, tzinfo=BERLIN_SUMMER)
    assert datetime.fromisoformat(utc_timestamp(moment)) == moment


def test_no_moment_is_no_text() -> None:
    assert utc_timestamp(None) is None
