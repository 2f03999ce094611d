"""Each shop event's detail has the shape its TypedDict (orders/event_details.py) declares:
driven through the real services, every stored detail has exactly the declared keys."""

from __future__ import annotations

from datetime import timedelta
from typing import get_type_hints

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders.event_details import EVENT_DETAILS
from orders.events import DetailType
from orders.models import Customer, Order, Shop
from orders.services import (
    order_announce,
    order_cancel,
    order_complete,
    order_start,
    order_unclaim,
    orders_time_out_overdue,
    shop_set_open,
)
from orders.workflow import CancelledBy
from tests.orders.conftest import claimed, make_customer, queued, redeem, shop_events, started

pytestmark = pytest.mark.django_db


def test_every_detail_type_has_a_declared_detail() -> None:
    assert set(EVENT_DETAILS) == {member.value for member in DetailType}


def test_every_emitted_detail_has_exactly_its_declared_keys(
    shop: Shop, customer: Customer, barista: User
) -> None:
    done = claimed(shop, customer, barista)
    order_announce(order_id=done.pk)
    order_unclaim(order=done, barista=barista)
    order_complete(order=done, barista=barista)
    cancelled = queued(shop, make_customer("Grace"))
    order_cancel(order=cancelled, by=CancelledBy.BARISTA, barista=barista, reason="No milk")
    late = started(shop, make_customer("Linus"))
    Order.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    orders_time_out_overdue()
    turned_away = redeem(shop, make_customer("Ken"))
    shop_set_open(shop=shop, is_open=False, user=barista)
    order_start(order_id=turned_away.pk)

    events = shop_events()
    seen = {event.detail_type for event in events}
    assert seen >= {t.value for t in DetailType} - {DetailType.CLOSING_SOON,
                                                     DetailType.DAY_STARTED}
    for event in events:
        declared = set(get_type_hints(EVENT_DETAILS[event.detail_type]))
        assert set(event.detail) == declared, event.detail_type
