"""The barista settings page for opening hours: baristas only, hours saved through the service
(and announced), every mistake shown on its field, nothing saved then."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
import time_machine
from django.http import HttpRequest
from django.test import Client

from orders.events import DetailType
from orders.models import OpeningException, OpeningHours, Shop
from tests.orders.conftest import shop_events
from tests.orders.test_live_support import TEST_PASSWORD, make_shop, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    # Thursday 3 December 2026, 10:00 in Berlin.
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def as_user(user: Any) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=user.get_username(),
                        password=TEST_PASSWORD)
    return client


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


@pytest.fixture
def shop() -> Shop:
    return make_shop("hours", name="Hours Bar", timezone="Europe/Berlin", is_open=False)


def url(shop: Shop) -> str:
    return f"/shop/{shop.slug}/barista/hours/"


WEEK = {"monday": "08:00-17:00", "tuesday": "08:00-17:00", "wednesday": "08:00-17:00",
        "thursday": "08:00-12:00, 13:00-17:00", "friday": "08:00-17:00", "saturday": "",
        "sunday": ""}


def test_baristas_set_the_hours_and_the_shop_follows_them(shop: Shop) -> None:
    client = as_user(make_user("alice", barista=True))
    assert client.get(url(shop)).status_code == 200
    response = client.post(url(shop), {"follows_hours": "on", **WEEK,
                                       "exceptions": "2026-12-24 08:00-12:00 Christmas Eve\n"
                                                     "2026-12-25 closed"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.follows_hours is True
    assert shop.is_open is True  # Thursday 10:00 in Berlin: inside its hours
    assert OpeningHours.objects.filter(shop=shop, weekday=3).count() == 2
    assert [(e.date.isoformat(), e.opens_at) for e in OpeningException.objects.filter(shop=shop)
            ] == [("2026-12-24", time(8)), ("2026-12-25", None)]
    assert "set the opening hours of Hours Bar; it follows them and is open now." in [
        event.detail["Message"] for event in shop_events(DetailType.CONFIG_CHANGED.value)][-1]
    page = text_of(client.get(url(shop)))
    assert "Opening hours saved." in page
    assert 'value="08:00-12:00, 13:00-17:00"' in page
    assert "2026-12-24 08:00-12:00 Christmas Eve" in page
    assert "today's hours: <span data-hours-today>08:00-12:00, 13:00-17:00</span>" in page


def test_mistakes_are_shown_on_their_field_and_nothing_is_saved(shop: Shop) -> None:
    client = as_user(make_user("alice", barista=True))
    response = client.post(url(shop), {"follows_hours": "on", **WEEK, "monday": "17:00-08:00",
                                       "exceptions": "24.12.2026 closed"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Monday: closes at 08:00, not after it opens at 17:00." in page
    assert "Line 1: '24.12.2026' is not a date (YYYY-MM-DD)." in page
    assert 'aria-invalid="true"' in page
    assert not OpeningHours.objects.exists()
    shop.refresh_from_db()
    assert shop.follows_hours is False


def test_only_baristas_see_the_hours_page(shop: Shop) -> None:
    assert Client().get(url(shop)).status_code == 302
    outsider = as_user(make_user("mallory"))
    assert outsider.get(url(shop)).status_code == 403
    assert outsider.post(url(shop), {"follows_hours": "on", **WEEK}).status_code == 403
    assert not OpeningHours.objects.exists()


def test_the_admin_shows_the_hours_and_links_to_their_page(shop: Shop) -> None:
    user = make_user("admin2", staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    admin = as_user(user)
    page = admin.get(f"/admin/orders/shop/{shop.pk}/change/").content.decode()
    assert "opens and closes by hand only (Europe/Berlin)." in page
    assert f'href="/shop/{shop.slug}/barista/hours/"' in page


def test_the_barista_page_says_today_s_hours(shop: Shop) -> None:
    client = as_user(make_user("alice", barista=True))
    assert "Opening hours today" not in text_of(client.get(f"/shop/{shop.slug}/barista/"))
    client.post(url(shop), {"follows_hours": "on", **WEEK, "exceptions": ""})
    page = text_of(client.get(f"/shop/{shop.slug}/barista/"))
    assert "Opening hours today: 08:00-12:00, 13:00-17:00 (Europe/Berlin)" in page
