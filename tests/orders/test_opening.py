"""The shop on its clock (orders/opening.py), under a controlled clock: it opens, hears
"closing soon" and closes by its hours in its own zone, dates with exceptions, across daylight
saving, a barista's hand holds until the next change, each change applies once, and the day's
counters start again at the shop's local midnight."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection

from orders.events import DetailType
from orders.hours import DateHours, Span
from orders.models import Customer, HoursChange, Shop
from orders.opening import (
    change_apply,
    due_changes,
    shop_hours_summary,
    shop_set_hours,
    shops_follow_hours,
)
from orders.services import shop_set_open
from orders.workflow import OrderError
from tests.orders.conftest import make_customer, make_shop, queued, shop_events
from tests.routing.schedules.test_firing import run_at_once

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = {day: (Span(time(8), time(17)),) for day in range(5)}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.fixture
def clock() -> Iterator[Any]:
    # Thursday 3 December 2026, 06:00 in Berlin: before opening.
    with time_machine.travel(local(2026, 12, 3, 6, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def berlin_shop(db: None, clock: Any, barista: User) -> Shop:
    shop = make_shop("berlin", name="Berlin Bar", timezone="Europe/Berlin", is_open=False,
                     max_orders_per_customer_per_day=1)
    return shop_set_hours(shop=shop, user=barista, follows_hours=True, weekly=WEEKDAYS,
                          exceptions=[DateHours(date(2026, 12, 24), (Span(time(8), time(12)),)),
                                      DateHours(date(2026, 12, 25), ())])


def go(clock: Any, moment: datetime) -> int:
    clock.move_to(moment)
    return shops_follow_hours().applied


def state(shop: Shop) -> tuple[bool, datetime | None]:
    shop.refresh_from_db()
    return shop.is_open, shop.closing_at


def messages(detail_type: DetailType) -> list[str]:
    return [event.detail["Message"] for event in shop_events(detail_type.value)]


def test_the_shop_opens_hears_closing_soon_and_closes_by_its_hours(
        berlin_shop: Shop, clock: Any) -> None:
    assert go(clock, local(2026, 12, 3, 7, 59, 59)) == 0
    assert state(berlin_shop) == (False, None)
    assert go(clock, local(2026, 12, 3, 8, 0)) == 1
    assert state(berlin_shop) == (True, None)
    assert "Berlin Bar opened at 08:00 by its opening hours (08:00-17:00 Europe/Berlin)." \
        in messages(DetailType.CONFIG_CHANGED)
    assert go(clock, local(2026, 12, 3, 8, 0, 5)) == 0  # applied once

    assert go(clock, local(2026, 12, 3, 16, 50)) == 1
    closes = local(2026, 12, 3, 17, 0).astimezone(UTC)
    assert state(berlin_shop) == (True, closes)
    [notice] = shop_events(DetailType.CLOSING_SOON.value)
    assert notice.detail["closesAt"] == "2026-12-03T16:00:00Z"
    assert notice.detail["Message"] == "Berlin Bar closes in 10 minutes, at 17:00."

    assert go(clock, local(2026, 12, 3, 17, 0)) == 1
    assert state(berlin_shop) == (False, None)
    assert go(clock, local(2026, 12, 3, 20, 0)) == 0


def test_a_barista_s_hand_holds_until_the_next_change(berlin_shop: Shop, clock: Any,
                                                      barista: User) -> None:
    go(clock, local(2026, 12, 3, 8, 0))
    clock.move_to(local(2026, 12, 3, 9, 0))
    shop_set_open(shop=berlin_shop, is_open=False, user=barista)  # a break
    assert go(clock, local(2026, 12, 3, 9, 30)) == 0
    assert state(berlin_shop) == (False, None)  # not reopened behind the barista's back
    clock.move_to(local(2026, 12, 3, 10, 0))
    shop_set_open(shop=berlin_shop, is_open=True, user=barista)
    go(clock, local(2026, 12, 3, 17, 0))
    assert state(berlin_shop) == (False, None)  # the next change does apply
    clock.move_to(local(2026, 12, 3, 19, 0))
    shop_set_open(shop=berlin_shop, is_open=True, user=barista)  # open late by hand
    go(clock, local(2026, 12, 3, 23, 0))
    assert state(berlin_shop)[0] is True
    go(clock, local(2026, 12, 4, 8, 0))  # opening when open: nothing to do
    assert HoursChange.objects.filter(kind="open").latest("at").outcome == "unchanged"


def test_a_manual_close_ends_the_closing_notice(berlin_shop: Shop, clock: Any,
                                                barista: User) -> None:
    go(clock, local(2026, 12, 3, 8, 0))
    go(clock, local(2026, 12, 3, 16, 51))
    assert state(berlin_shop)[1] is not None
    shop_set_open(shop=berlin_shop, is_open=False, user=barista)
    assert state(berlin_shop) == (False, None)


def test_exceptions_shorten_a_day_or_close_it(berlin_shop: Shop, clock: Any) -> None:
    go(clock, local(2026, 12, 24, 8, 0))
    assert state(berlin_shop)[0] is True
    go(clock, local(2026, 12, 24, 11, 50))
    assert state(berlin_shop)[1] == local(2026, 12, 24, 12, 0).astimezone(UTC)
    go(clock, local(2026, 12, 24, 12, 0))
    assert state(berlin_shop)[0] is False
    go(clock, local(2026, 12, 25, 8, 0))  # a Friday, closed for Christmas
    assert state(berlin_shop)[0] is False
    assert HoursChange.objects.filter(kind="open", at__date=date(2026, 12, 25)).count() == 0


def test_opening_is_at_local_time_across_daylight_saving(clock: Any, barista: User) -> None:
    clock.move_to(local(2026, 3, 27, 6, 0))  # Friday; the clocks go forward on Sunday the 29th
    shop = make_shop("dst", timezone="Europe/Berlin", is_open=False)
    shop_set_hours(shop=shop, user=barista, follows_hours=True, weekly=WEEKDAYS, exceptions=[])
    go(clock, local(2026, 3, 27, 8, 0))
    opened = HoursChange.objects.get(kind="open").at
    assert opened == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # CET, UTC+1
    go(clock, local(2026, 3, 27, 17, 0))
    go(clock, local(2026, 3, 30, 8, 0))  # Monday
    assert HoursChange.objects.filter(kind="open").latest("at").at == \
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # CEST, UTC+2
    assert state(shop)[0] is True


def test_after_an_outage_only_the_latest_change_applies_once(berlin_shop: Shop,
                                                             clock: Any) -> None:
    # Nothing ran all day: 08:00 open, 16:50 notice and 17:00 close were all missed.
    assert go(clock, local(2026, 12, 3, 18, 0)) == 1
    change = HoursChange.objects.get()
    assert (change.kind, change.missed_before, change.outcome) == ("close", 1, "unchanged")
    assert shop_events(DetailType.CLOSING_SOON.value) == []  # its close has passed


def test_a_change_applies_once_however_many_run_it(berlin_shop: Shop, clock: Any) -> None:
    clock.move_to(local(2026, 12, 3, 8, 0))
    [due] = due_changes(berlin_shop, now=local(2026, 12, 3, 8, 0).astimezone(UTC))
    assert change_apply(shop_id=berlin_shop.pk, due=due) is True
    assert change_apply(shop_id=berlin_shop.pk, due=due) is False
    assert HoursChange.objects.count() == 1


def test_day_counters_start_again_at_the_shop_s_local_midnight(berlin_shop: Shop, clock: Any,
                                                               barista: User) -> None:
    clock.move_to(local(2026, 12, 3, 22, 0))
    shop_set_open(shop=berlin_shop, is_open=True, user=barista)  # a late evening by hand
    ada: Customer = make_customer("Ada")
    first = queued(berlin_shop, ada)
    second = queued(berlin_shop, make_customer("Bo"))
    assert (first.order_number, second.order_number) == (1, 2)
    with pytest.raises(OrderError, match="today"):
        queued(berlin_shop, ada)  # one order a day for Ada

    # UTC midnight is not the shop's: Berlin's came an hour before.
    assert go(clock, local(2026, 12, 3, 23, 59)) == 0
    assert go(clock, local(2026, 12, 4, 0, 0)) == 1
    [day] = shop_events(DetailType.DAY_STARTED.value)
    assert day.detail["businessDate"] == "2026-12-04"
    assert day.time == local(2026, 12, 4, 0, 0).astimezone(UTC)
    assert go(clock, local(2026, 12, 4, 0, 30)) == 0
    third = queued(berlin_shop, ada)
    assert third.order_number == 1  # a new day's numbers; Ada may order again


def test_turning_hours_on_puts_the_shop_where_they_say(clock: Any, barista: User) -> None:
    clock.move_to(local(2026, 12, 3, 10, 0))
    shop = make_shop("late", timezone="Europe/Berlin", is_open=False)
    shop_set_hours(shop=shop, user=barista, follows_hours=True, weekly=WEEKDAYS, exceptions=[])
    assert state(shop)[0] is True
    assert shop_hours_summary(shop).today == "08:00-17:00"
    assert [c.kind for c in shop_hours_summary(shop).next_changes] == ["close", "open"]
    shop_set_hours(shop=shop, user=barista, follows_hours=False, weekly=WEEKDAYS, exceptions=[])
    assert go(clock, local(2026, 12, 3, 17, 0)) == 0  # by hand only now
    assert state(shop)[0] is True


def test_only_baristas_set_the_hours(db: None, clock: Any) -> None:
    shop = make_shop("guarded", timezone="Europe/Berlin")
    with pytest.raises(OrderError, match="Only baristas can change the opening hours"):
        shop_set_hours(shop=shop, user=None, follows_hours=True, weekly=WEEKDAYS,
                       exceptions=[])


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="concurrent claims rest on PostgreSQL's row locks and unique index; "
                           "SQLite runs one writer at a time (run with DATABASE_URL=postgres://...)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_beats_on_postgresql_apply_each_change_once() -> None:
    barista = User.objects.create_user("conc", is_staff=True)
    with time_machine.travel(local(2026, 12, 3, 6, 0), tick=False) as traveller:
        shops = [make_shop(f"conc-{n}", timezone="Europe/Berlin", is_open=False)
                 for n in range(3)]
        for shop in shops:
            shop_set_hours(shop=shop, user=barista, follows_hours=True, weekly=WEEKDAYS,
                           exceptions=[])
        traveller.move_to(local(2026, 12, 3, 8, 0, 1))
        results = run_at_once([shops_follow_hours for _ in range(6)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.applied for r in results) == 3  # type: ignore[union-attr]
    assert HoursChange.objects.filter(kind="open").count() == 3
    assert Shop.objects.filter(is_open=True).count() == 3
    opened = [e for e in shop_events(DetailType.CONFIG_CHANGED.value)
              if "by its opening hours" in e.detail["Message"]]
    assert len(opened) == 3


def test_opening_in_the_admin_is_a_hand_too(berlin_shop: Shop, clock: Any, staff: User) -> None:
    from orders.services import shop_update_config

    clock.move_to(local(2026, 12, 3, 18, 0))  # nothing ran today: open and close are missed
    shop_update_config(shop=berlin_shop, user=staff, is_open=True)
    assert go(clock, local(2026, 12, 3, 18, 0, 5)) == 0
    assert state(berlin_shop) == (True, None)
