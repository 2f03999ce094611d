"""AWS schedule expressions: what AWS accepts and refuses, and when each fires — in UTC and in
IANA zones across both daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.schedules.expressions import (
    INVALID_MESSAGE,
    At,
    Cron,
    InvalidScheduleExpression,
    Rate,
    latest_fire_time,
    next_fire_times,
    parse_expression,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("text", "expected"), [
    ("rate(1 minute)", Rate(1, "minutes")),
    ("rate(5 minutes)", Rate(5, "minutes")),
    ("rate(1 hour)", Rate(1, "hours")),
    ("rate(12 hours)", Rate(12, "hours")),
    ("rate(1 day)", Rate(1, "days")),
    ("rate(7 days)", Rate(7, "days")),
])
def test_rates(text: str, expected: Rate) -> None:
    assert parse_expression(text) == expected


@pytest.mark.parametrize("text", [
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 9 ? * FRI#3 *)",
    "cron(0 9 L * ? *)",
    "cron(0 9 ? * 6L *)",
    "cron(0 9 ? * L *)",
    "cron(0 9 15W * ? *)",
    "cron(0 12 1 JAN,jul ? 2027-2030)",
    "cron(30 2 ? * SUN 2099)",
])
def test_cron_expressions_aws_documents(text: str) -> None:
    assert isinstance(parse_expression(text), Cron)


@pytest.mark.parametrize("text", [
    "rate(1 minutes)",  # AWS wants the singular for one
    "rate(3 minute)",  # and the plural otherwise
    "rate(0 minutes)",
    "rate(-1 minutes)",
    "rate(5 seconds)",
    "rate(5  minutes)",
    "rate(1 week)",
    "cron(* * * * * *)",  # neither day field is ?
    "cron(7 20 * * 1-7 *)",
    "cron(0 10 ? * ? *)",  # both are
    "cron(0 0 * * *)",  # five fields
    "cron(0 0 * * ? * *)",  # seven
    "cron(*/60 * * * ? *)",
    "cron(60 * * * ? *)",
    "cron(0 24 * * ? *)",
    "cron(0 0 32 * ? *)",
    "cron(0 0 0 * ? *)",
    "cron(0 0 * 13 ? *)",
    "cron(0 0 ? * 0 *)",  # AWS counts days of the week 1 (SUN) to 7 (SAT)
    "cron(0 0 ? * 8 *)",
    "cron(15 12 ? * -1 *)",
    "cron(0 0 ? * MON#6 *)",
    "cron(0 0 ? * MON#0 *)",
    "cron(0 0 1#2 * ? *)",  # '#' only in day-of-week
    "cron(0 0 ? * 3W *)",  # 'W' only in day-of-month
    "cron(0 0 ? 1 * 1969)",
    "cron(? 0 ? * MON *)",
    "cron(0 0 ? * MON 2200)",  # AWS takes years to 2199
    "cron(0 0 ? * FUNDAY *)",
    "at(2026-03-29T02:30:00)",  # at() is the Scheduler's, not a rule's
    "every 5 minutes",
    "",
])
def test_aws_refuses_with_its_one_message(text: str) -> None:
    with pytest.raises(InvalidScheduleExpression) as caught:
        parse_expression(text)
    assert str(caught.value) == INVALID_MESSAGE == "Parameter ScheduleExpression is not valid."
    assert caught.value.reason


def test_at_is_for_the_scheduler() -> None:
    assert parse_expression("at(2026-03-29T02:30:00)", allow_at=True) == \
        At(datetime(2026, 3, 29, 2, 30))
    with pytest.raises(InvalidScheduleExpression):
        parse_expression("at(2026-02-30T02:30:00)", allow_at=True)


def test_cron_fire_times_in_utc() -> None:
    after = utc(2026, 12, 3, 20, 7)  # a Thursday
    assert next_fire_times("cron(0 18 ? * MON-FRI *)", after, 3) == [
        utc(2026, 12, 4, 18), utc(2026, 12, 7, 18), utc(2026, 12, 8, 18)]
    assert next_fire_times("cron(0/15 * * * ? *)", after, 2) == [
        utc(2026, 12, 3, 20, 15), utc(2026, 12, 3, 20, 30)]


def test_aws_special_days() -> None:
    after = utc(2026, 1, 1)
    # 2#1: the first Monday; 6L: the last Friday; L in day-of-week: Saturday.
    assert next_fire_times("cron(0 9 ? * 2#1 *)", after, 2) == [utc(2026, 1, 5, 9),
                                                                   utc(2026, 2, 2, 9)]
    assert next_fire_times("cron(0 9 ? * 6L *)", after, 2) == [utc(2026, 1, 30, 9),
                                                                  utc(2026, 2, 27, 9)]
    assert next_fire_times("cron(0 9 ? * L *)", after, 1) == [utc(2026, 1, 3, 9)]
    assert next_fire_times("cron(0 9 L 2 ? 2028)", after, 1) == [utc(2028, 2, 29, 9)]
    # 15W: the weekday nearest the 15th (Sunday 15 February 2026 → Monday the 16th).
    assert next_fire_times("cron(0 9 15W 2 ? 2026)", after, 1) == [utc(2026, 2, 16, 9)]
    assert next_fire_times("cron(0 9 1 1 ? 2020)", after, 1) == []


def test_sunday_is_one() -> None:
    assert next_fire_times("cron(0 9 ? * 1 *)", utc(2026, 1, 1), 1) == [utc(2026, 1, 4, 9)]
    assert next_fire_times("cron(0 9 ? * SUN *)", utc(2026, 1, 1), 1) == [utc(2026, 1, 4, 9)]


def test_a_zone_shifts_the_wall_clock() -> None:
    assert next_fire_times("cron(0 8 ? * MON-FRI *)", utc(2026, 7, 1), 1, "Europe/Berlin") \
        == [utc(2026, 7, 1, 6)]
    assert next_fire_times("cron(0 8 ? * MON-FRI *)", utc(2026, 12, 1), 1, "Europe/Berlin") \
        == [utc(2026, 12, 1, 7)]
    with pytest.raises(ValueError, match="IANA"):
        next_fire_times("cron(0 8 ? * MON-FRI *)", utc(2026, 12, 1), 1, "Mars/Olympus")


def test_spring_forward_skips_the_missing_time() -> None:
    # Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not happen that day.
    fires = next_fire_times("cron(30 2 * * ? *)", utc(2026, 3, 28, 12), 2, "Europe/Berlin")
    assert fires == [utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)]
    hourly = next_fire_times("cron(0 * * * ? *)", utc(2026, 3, 29, 0, 30), 2, "Europe/Berlin")
    assert hourly == [utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)]  # 03:00 and 04:00 CEST


def test_fall_back_fires_the_repeated_time_once() -> None:
    # Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    fires = next_fire_times("cron(30 2 * * ? *)", utc(2026, 10, 24, 12), 2, "Europe/Berlin")
    assert fires == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    hourly = next_fire_times("cron(0 * * * ? *)", utc(2026, 10, 24, 23, 30), 3, "Europe/Berlin")
    assert hourly == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)]
    # From inside the repeated hour, the first 02:30 is already past.
    assert next_fire_times("cron(30 2 * * ? *)", utc(2026, 10, 25, 1, 10), 1,
                           "Europe/Berlin") == [utc(2026, 10, 26, 1, 30)]


def test_a_daily_rate_is_24_hours_across_dst() -> None:
    anchor = utc(2026, 3, 28, 7)
    assert next_fire_times("rate(1 day)", anchor, 2, "Europe/Berlin", anchor=anchor) == [
        utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)]


def test_rates_count_from_their_anchor() -> None:
    anchor = utc(2026, 1, 1, 10, 0, 30)
    assert next_fire_times("rate(5 minutes)", utc(2026, 1, 1, 10, 7), 2, anchor=anchor) == [
        utc(2026, 1, 1, 10, 10, 30), utc(2026, 1, 1, 10, 15, 30)]
    short = next_fire_times("rate(1 minute)", anchor, 2, anchor=anchor,
                            minute=timedelta(seconds=2))
    assert short == [anchor + timedelta(seconds=2), anchor + timedelta(seconds=4)]


def test_at_fires_once_in_its_zone() -> None:
    assert next_fire_times("at(2026-03-29T03:30:00)", utc(2026, 1, 1), 5, "Europe/Berlin") == [
        utc(2026, 3, 29, 1, 30)]
    assert next_fire_times("at(2026-03-29T03:30:00)", utc(2026, 6, 1), 5, "Europe/Berlin") == []


def test_latest_fire_time_counts_what_was_missed() -> None:
    since, until = utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 1, 2)
    assert latest_fire_time("cron(0/5 * * * ? *)", since, until) == (utc(2026, 1, 1, 1, 0), 12)
    assert latest_fire_time("rate(5 minutes)", since, until, anchor=since) == (
        utc(2026, 1, 1, 1, 0), 12)
    assert latest_fire_time("rate(5 minutes)", since, since + timedelta(minutes=4),
                            anchor=since) == (None, 0)
    assert latest_fire_time("cron(0 0 1 1 ? 2020)", since, until) == (None, 0)


def test_latest_fire_time_after_a_long_outage() -> None:
    since, until = utc(2026, 1, 1), utc(2026, 3, 1, 0, 3)
    latest, missed = latest_fire_time("cron(* * * * ? *)", since, until, limit=1000)
    assert latest == utc(2026, 3, 1, 0, 3)
    assert missed == 1000


@pytest.mark.parametrize("text", ["cron(0 0 ? * MON 2100)", "cron(0 8 * * ? 2150-2199)",
                                  "cron(0 8 * * ? 2199)"])
def test_years_after_2099_are_accepted_as_aws_accepts_them(text: str) -> None:
    # croniter counts to 2099 only: such an expression has no fire time it can compute.
    parse_expression(text)
    assert next_fire_times(text, datetime(2026, 1, 1, tzinfo=UTC), 3) == []


def test_a_range_or_step_past_2099_fires_in_the_years_croniter_knows() -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_fire_times("cron(0 8 1 1 ? 2098-2150)", after, 5) == [
        datetime(2098, 1, 1, 8, tzinfo=UTC), datetime(2099, 1, 1, 8, tzinfo=UTC)]
    # croniter would read the cut range "2099-2099" as every year.
    assert next_fire_times("cron(0 8 1 1 ? 2099-2150)", after, 5) == [
        datetime(2099, 1, 1, 8, tzinfo=UTC)]
    assert next_fire_times("cron(0 8 1 1 ? 2097/2)", after, 5) == [
        datetime(2097, 1, 1, 8, tzinfo=UTC), datetime(2099, 1, 1, 8, tzinfo=UTC)]


def test_a_year_far_ahead_is_found() -> None:
    # croniter gives up after 50 years without a match unless told to look further.
    assert next_fire_times("cron(30 2 ? * SUN 2099)", datetime(2026, 1, 1, tzinfo=UTC), 1) == [
        datetime(2099, 1, 4, 2, 30, tzinfo=UTC)]
