"""Opening hours as pure logic (orders/hours.py): spans per weekday and per date, the changes
they bring as UTC instants across daylight saving, and hours as people write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from orders.hours import (
    ChangeKind,
    Hours,
    InvalidHours,
    Span,
    changes_between,
    format_exceptions,
    format_spans,
    next_changes,
    parse_exceptions,
    parse_spans,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_8_TO_17 = {day: (Span(time(8), time(17)),) for day in range(5)}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def test_a_weekday_opens_and_closes_at_local_time() -> None:
    hours = Hours(weekly=WEEKDAYS_8_TO_17, exceptions={}, tz=BERLIN)
    # Thursday 3 December 2026: Berlin is UTC+1.
    changes = changes_between(hours, berlin(2026, 12, 3, 0, 30), berlin(2026, 12, 3, 23, 0),
                              notice=timedelta(minutes=10))
    assert [(c.kind, c.at) for c in changes] == [
        (ChangeKind.OPEN, datetime(2026, 12, 3, 7, tzinfo=UTC)),
        (ChangeKind.CLOSING_SOON, datetime(2026, 12, 3, 15, 50, tzinfo=UTC)),
        (ChangeKind.CLOSE, datetime(2026, 12, 3, 16, tzinfo=UTC)),
    ]
    assert changes[1].closes_at == datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert hours.is_open(berlin(2026, 12, 3, 8, 0))
    assert not hours.is_open(berlin(2026, 12, 3, 17, 0))
    assert not hours.is_open(berlin(2026, 12, 5, 12, 0))  # Saturday: no hours


def test_local_midnight_is_a_change_of_its_own() -> None:
    hours = Hours(weekly={}, exceptions={}, tz=BERLIN)
    changes = changes_between(hours, berlin(2026, 12, 3, 12), berlin(2026, 12, 5, 12))
    assert [(c.kind, c.at) for c in changes] == [
        (ChangeKind.MIDNIGHT, datetime(2026, 12, 3, 23, tzinfo=UTC)),
        (ChangeKind.MIDNIGHT, datetime(2026, 12, 4, 23, tzinfo=UTC)),
    ]


def test_an_exception_replaces_the_weekday_or_closes_the_day() -> None:
    hours = Hours(weekly=WEEKDAYS_8_TO_17, tz=BERLIN, exceptions={
        date(2026, 12, 24): (Span(time(8), time(12)),),
        date(2026, 12, 25): (),
        date(2026, 12, 26): (Span(time(10), time(14)),),  # a Saturday opened specially
    })
    assert hours.spans_on(date(2026, 12, 23)) == (Span(time(8), time(17)),)
    assert hours.spans_on(date(2026, 12, 24)) == (Span(time(8), time(12)),)
    assert hours.spans_on(date(2026, 12, 25)) == ()
    assert hours.spans_on(date(2026, 12, 26)) == (Span(time(10), time(14)),)
    changes = [c for c in changes_between(hours, berlin(2026, 12, 24, 0, 30),
                                          berlin(2026, 12, 27, 0, 30))
               if c.kind is not ChangeKind.MIDNIGHT]
    assert [(c.kind, c.at.astimezone(BERLIN).strftime("%d %H:%M")) for c in changes] == [
        (ChangeKind.OPEN, "24 08:00"), (ChangeKind.CLOSE, "24 12:00"),
        (ChangeKind.OPEN, "26 10:00"), (ChangeKind.CLOSE, "26 14:00"),
    ]


def test_a_lunch_break_closes_and_opens_again() -> None:
    hours = Hours(weekly={0: (Span(time(13), time(17)), Span(time(8), time(12)))},
                  exceptions={}, tz=BERLIN)
    opened = [c.at.astimezone(BERLIN).strftime("%H:%M") for c in next_changes(
        hours, berlin(2026, 11, 30, 0, 0), 4)]
    assert opened == ["08:00", "12:00", "13:00", "17:00"]


def test_spring_forward_moves_a_skipped_opening_by_the_gap() -> None:
    # Sunday 29 March 2026, Berlin: 02:00 jumps to 03:00 (UTC+1 → UTC+2).
    hours = Hours(weekly={6: (Span(time(2, 30), time(10)),)}, exceptions={}, tz=BERLIN)
    [opening, closing] = next_changes(hours, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert opening.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert closing.at == datetime(2026, 3, 29, 8, tzinfo=UTC)  # 10:00 CEST
    midnights = [c.at for c in changes_between(hours, datetime(2026, 3, 28, 12, tzinfo=UTC),
                                               datetime(2026, 3, 30, 12, tzinfo=UTC))
                 if c.kind is ChangeKind.MIDNIGHT]
    assert midnights == [datetime(2026, 3, 28, 23, tzinfo=UTC),  # UTC+1
                         datetime(2026, 3, 29, 22, tzinfo=UTC)]  # UTC+2


def test_fall_back_opens_once_at_the_first_of_a_repeated_time() -> None:
    # Sunday 25 October 2026, Berlin: 03:00 falls back to 02:00, so 02:30 happens twice.
    hours = Hours(weekly={6: (Span(time(2, 30), time(4)),)}, exceptions={}, tz=BERLIN)
    changes = [c for c in changes_between(hours, datetime(2026, 10, 24, 12, tzinfo=UTC),
                                          datetime(2026, 10, 26, 12, tzinfo=UTC))
               if c.kind is ChangeKind.OPEN]
    assert [c.at for c in changes] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]  # CEST


def test_the_notice_is_left_out_of_a_span_shorter_than_it() -> None:
    hours = Hours(weekly={0: (Span(time(8), time(8, 5)),)}, exceptions={}, tz=BERLIN)
    changes = changes_between(hours, berlin(2026, 11, 30, 1), berlin(2026, 11, 30, 9),
                              notice=timedelta(minutes=10))
    kinds = [c.kind for c in changes]
    assert kinds == [ChangeKind.OPEN, ChangeKind.CLOSE]


def test_a_shop_closed_for_good_has_no_next_change() -> None:
    assert next_changes(Hours(weekly={}, exceptions={}, tz=BERLIN),
                        datetime(2026, 1, 1, tzinfo=UTC), 2) == []


def test_hours_as_people_write_them() -> None:
    assert parse_spans("13:00-17:30, 08:00-12:00") == (Span(time(8), time(12)),
                                                       Span(time(13), time(17, 30)))
    assert parse_spans("closed") == parse_spans("") == ()
    assert format_spans(parse_spans("08:00-12:00,13:00-17:30")) == "08:00-12:00, 13:00-17:30"
    text = "2026-12-31 08:00-14:00 New Year's Eve\n\n2026-12-24 closed"
    entries = parse_exceptions(text)
    assert [(e.day, e.spans, e.reason) for e in entries] == [
        (date(2026, 12, 24), (), ""),
        (date(2026, 12, 31), (Span(time(8), time(14)),), "New Year's Eve")]
    assert format_exceptions(entries) == "2026-12-24 closed\n2026-12-31 08:00-14:00 New Year's Eve"


@pytest.mark.parametrize(("text", "message"), [
    ("17:00-08:00", "closes at 08:00, not after it opens at 17:00"),
    ("08:00-12:00, 11:00-13:00", "08:00-12:00 and 11:00-13:00 overlap"),
    ("08:00", "'08:00' is not a span"),
    ("8am-5pm", "'8am' is not a time of day"),
])
def test_bad_spans_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidHours, match=message):
        parse_spans(text)


@pytest.mark.parametrize(("text", "message"), [
    ("24/12/2026 closed", "line 1: '24/12/2026' is not a date"),
    ("2026-12-24 closed\n2026-12-24 08:00-10:00", "line 2: 2026-12-24 is given twice"),
    ("2026-12-24 shut", "line 1: after the date write 'closed' or the hours"),
    ("2026-12-24 10:00-09:00", "line 1: closes at 09:00"),
])
def test_bad_exceptions_name_their_line(text: str, message: str) -> None:
    with pytest.raises(InvalidHours, match=message):
        parse_exceptions(text)
