"""The live pages' messages have the shapes orders/live_messages.py declares."""

from __future__ import annotations

from typing import Any, get_type_hints

import pytest
from django.contrib.auth.models import User

from orders import live
from orders.live_messages import (
    BoardOrder,
    BoardSnapshot,
    CustomerOrder,
    CustomerSnapshot,
    PublicSnapshot,
    ShopPublic,
    WindowPublic,
)
from orders.models import Customer, Shop
from tests.orders.conftest import claimed, make_customer, queued

pytestmark = pytest.mark.django_db


def keys(typed: type) -> set[str]:
    return set(get_type_hints(typed))


def assert_shaped(value: dict[str, Any], typed: type) -> None:
    assert set(value) == keys(typed), typed.__name__


def test_snapshots_and_what_they_hold_have_their_declared_keys(
    shop: Shop, customer: Customer, barista: User
) -> None:
    claimed(shop, customer, barista)
    queued(shop, make_customer("Grace"))
    board = live.board_snapshot(shop.slug)
    assert_shaped(dict(board), BoardSnapshot)
    assert_shaped(dict(board["shop"]), ShopPublic)
    assert_shaped(dict(board["window"]), WindowPublic)
    assert len(board["orders"]) == 2
    for order in board["orders"]:
        assert_shaped(dict(order), BoardOrder)
    mine = live.customer_snapshot(customer.pk)
    assert_shaped(dict(mine), CustomerSnapshot)
    [order] = mine["orders"]
    assert_shaped(dict(order), CustomerOrder)
    assert order["state"] == "IN_PRODUCTION"
    assert_shaped(dict(live.public_snapshot(shop.slug)), PublicSnapshot)
    assert (board["type"], mine["type"]) == ("snapshot", "snapshot")
