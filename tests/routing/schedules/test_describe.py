"""Schedule expressions in words (routing/schedules/describe.py): pure, no database."""

from __future__ import annotations

import pytest

from routing.schedules.describe import describe_expression
from routing.schedules.expressions import InvalidScheduleExpression


@pytest.mark.parametrize(("expression", "words"), [
    ("rate(1 minute)", "every minute"),
    ("rate(5 minutes)", "every 5 minutes"),
    ("rate(1 hour)", "every hour"),
    ("rate(2 hours)", "every 2 hours"),
    ("rate(3 days)", "every 3 days"),
    ("cron(0 8 ? * MON-FRI *)", "every weekday at 08:00 UTC"),
    ("cron(0 8 ? * 2-6 *)", "every weekday at 08:00 UTC"),
    ("cron(0/5 * * * ? *)", "every 5 minutes"),
    ("cron(*/15 8-17 ? * MON-FRI *)", "every 15 minutes from 08:00 to 17:59 UTC, every weekday"),
    ("cron(0 * * * ? *)", "every hour"),
    ("cron(15 * * * ? *)", "every hour at minute 15"),
    ("cron(0 8,17 * * ? *)", "every day at 08:00 and 17:00 UTC"),
    ("cron(0 8 ? * SAT,SUN *)", "every Saturday and Sunday at 08:00 UTC"),
    ("cron(0 18 ? * L *)", "every Saturday at 18:00 UTC"),
    ("cron(30 9 ? * 6L *)", "on the last Friday of the month at 09:30 UTC"),
    ("cron(0 10 ? * 3#2 *)", "on the second Tuesday of the month at 10:00 UTC"),
    ("cron(0 12 L * ? *)", "on the last day of the month at 12:00 UTC"),
    ("cron(0 9 15W * ? *)", "on the weekday nearest the 15th of the month at 09:00 UTC"),
    ("cron(0 0 1,15 * ? *)", "on the 1st and 15th of the month at 00:00 UTC"),
    ("cron(0 0 1 JAN ? 2027)", "on the 1st of the month at 00:00 UTC, in January, in 2027"),
    ("cron(0 6 ? JUN-AUG MON *)", "every Monday at 06:00 UTC, from June to August"),
])
def test_common_shapes_read_as_a_sentence(expression: str, words: str) -> None:
    assert describe_expression(expression) == words


def test_the_zone_is_named() -> None:
    assert describe_expression("cron(0 8 ? * MON-FRI *)", "Europe/Berlin") \
        == "every weekday at 08:00 Europe/Berlin"
    assert describe_expression("at(2026-03-29T02:30:00)", "Europe/Berlin") \
        == "once, on 2026-03-29 at 02:30:00 Europe/Berlin"


def test_a_rare_shape_reads_field_by_field_rather_than_wrongly() -> None:
    assert describe_expression("cron(1-5 1/3 * * ? *)") == (
        "minutes 1-5; hours 1/3; day-of-month *; month *; day-of-week ?; year * (UTC)")


def test_a_bad_expression_is_refused_as_parsing_refuses_it() -> None:
    with pytest.raises(InvalidScheduleExpression):
        describe_expression("cron(0 8 * * * *)")
