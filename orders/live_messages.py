"""The messages the live pages receive (orders/live.py builds them; static/orders/*.js reads
them), each typed with a literal `type`, as Zulip types every push payload.

Streams (docs/live.md): the board (`shop-<slug>-board`) gets a snapshot, then `order`,
`window` and `shop` deltas numbered by `seq`; a customer's socket gets a snapshot, then
`order` deltas (or a fresh snapshot); the public stream gets a snapshot, then `shop`
messages, each the whole public state with its `version`."""

from __future__ import annotations

from typing import Literal, TypedDict


class ShopPublic(TypedDict):
    slug: str
    name: str
    is_open: bool
    closing_at: str | None
    config_version: int
    version: int


class WindowPublic(TypedDict):
    """A QR window without its code (the code only travels with the display's QR image)."""

    id: int
    starts_at: str | None
    ends_at: str | None
    capacity: int
    remaining: int


class BoardOrder(TypedDict):
    """An order as baristas and the display see it: no token, no customer id, and only the
    customer's first name."""

    id: str
    number: int | None
    state: str
    state_label: str
    drink: str
    icon: str
    modifiers: list[dict[str, str]]  # [{"group", "option"}], in menu order
    customer: str
    barista: str
    barista_id: int | None
    robot: bool
    submitted_at: str | None
    claimed_at: str | None
    finished_at: str | None


class CustomerOrder(TypedDict):
    """An order as its own customer sees it (never the workflow's token)."""

    id: str
    shop: str
    shop_name: str
    number: int | None
    state: str
    state_label: str
    title: str
    text: str
    final: bool
    can_cancel: bool
    drink: str
    icon: str
    modifiers: list[dict[str, str]]  # [{"group", "option"}], in menu order
    barista: str
    deadline_at: str | None
    unavailable_reason: str
    timeout_cause: str
    cancelled_by: str
    cancel_reason: str
    created_at: str | None
    submitted_at: str | None
    finished_at: str | None
    url: str
    journey_url: str


class BoardSnapshot(TypedDict):
    type: Literal["snapshot"]
    seq: int
    server_time: str | None
    ready_minutes: int
    shop: ShopPublic
    window: WindowPublic
    orders: list[BoardOrder]


class BoardOrderDelta(TypedDict):
    type: Literal["order"]
    seq: int
    order: BoardOrder


class BoardWindowDelta(TypedDict):
    type: Literal["window"]
    seq: int
    window: WindowPublic


class BoardShopDelta(TypedDict):
    type: Literal["shop"]
    seq: int
    shop: ShopPublic


class CustomerSnapshot(TypedDict):
    type: Literal["snapshot"]
    seq: int
    server_time: str | None
    orders: list[CustomerOrder]
    shops: dict[str, ShopPublic]


class CustomerOrderDelta(TypedDict):
    type: Literal["order"]
    seq: int
    order: CustomerOrder


class PublicSnapshot(TypedDict):
    type: Literal["snapshot"]
    server_time: str | None
    shop: ShopPublic


class PublicShopMessage(TypedDict):
    type: Literal["shop"]
    shop: ShopPublic


BoardMessage = BoardSnapshot | BoardOrderDelta | BoardWindowDelta | BoardShopDelta
CustomerMessage = CustomerSnapshot | CustomerOrderDelta
PublicMessage = PublicSnapshot | PublicShopMessage
LiveMessage = BoardMessage | CustomerMessage | PublicMessage
