"""A cron walk starts three hours early only near a DST change: elsewhere it starts at the moment
itself. The shortcut must not change a single fire time: checked against the always-early walk
for random moments in zones with DST (and the moments just around their changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.schedules import expressions
from routing.schedules.expressions import latest_fire_time, next_fire_times

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
CRONS = ["cron(* * * * ? *)", "cron(30 2 * * ? *)", "cron(0/15 1-3 * * ? *)",
         "cron(0 0 L * ? *)", "cron(45 1 ? * SUN *)"]
# Moments near the 2027 changes of the zones above, and anywhere in the year.
CHANGES = [datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC),
           datetime(2027, 3, 14, 7, tzinfo=UTC), datetime(2027, 11, 7, 6, tzinfo=UTC),
           datetime(2027, 4, 3, 15, tzinfo=UTC), datetime(2027, 10, 2, 15, tzinfo=UTC)]


def moments() -> st.SearchStrategy[datetime]:
    near = st.tuples(st.sampled_from(CHANGES), st.integers(-300, 300)).map(
        lambda pair: pair[0] + timedelta(minutes=pair[1]))
    anywhere = st.integers(0, 365 * 24 * 60).map(
        lambda minutes: datetime(2027, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes))
    return st.one_of(near, anywhere).flatmap(
        lambda moment: st.integers(0, 59).map(lambda second: moment + timedelta(seconds=second)))


@settings(max_examples=300, deadline=None)
@given(moment=moments(), zone=st.sampled_from(ZONES), cron=st.sampled_from(CRONS))
def test_the_short_walk_finds_the_same_fire_times(moment: datetime, zone: str, cron: str,
                                                   ) -> None:
    short_next = next_fire_times(cron, moment, 4, zone)
    short_latest = latest_fire_time(cron, moment - timedelta(hours=6), moment, zone)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expressions, "_margin", lambda moment, tz: expressions._DST_MARGIN)
        assert next_fire_times(cron, moment, 4, zone) == short_next
        assert latest_fire_time(cron, moment - timedelta(hours=6), moment, zone) == short_latest
