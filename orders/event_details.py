"""The `detail` of each shop event type, typed (docs/orders.md has the catalogue in prose).

Every detail carries `shopId` and a human-readable `Message`; `EVENT_DETAILS` pairs each
detail-type with its TypedDict, and `orders.events.emit` accepts for a detail-type only its
own detail, so a builder cannot leave out a field or misspell one (mypy checks it). Readers
(the shop's subscribers) get the union: they act only on events the shop published, so the
shape is the one built here. The JSON keys are the reference's (Serverlesspresso) spelling."""

from __future__ import annotations

from typing import Final, Literal, TypedDict


class ShopSettings(TypedDict):
    """The shop's settings as ConfigChanged and the pages name them."""

    name: str
    open: bool
    maxQueue: int
    maxOrdersPerCustomerPerDay: int
    guestOrders: bool
    customerTimeoutSeconds: int
    baristaTimeoutSeconds: int
    drinksPerWindow: int
    windowSeconds: int
    timezone: str


class MenuGroupEntry(TypedDict):
    name: str
    multiple: bool
    required: bool
    options: list[str]


class MenuEntry(TypedDict):
    name: str
    icon: str
    available: bool
    groups: list[MenuGroupEntry]


class WindowDetail(TypedDict):
    remaining: int
    endsAt: str | None


class DrinkOrderDetail(TypedDict):
    drink: str
    modifiers: list[str]
    choices: dict[str, list[str]]
    icon: str


class NewOrderDetail(TypedDict):
    shopId: str
    orderId: str
    userId: str
    window: WindowDetail
    Message: str


class WorkflowStartedDetail(TypedDict):
    shopId: str
    orderId: str
    userId: str
    deadline: str | None
    Message: str


class ShopUnavailableDetail(TypedDict):
    shopId: str
    orderId: str
    userId: str
    reason: str  # UnavailableReason
    Message: str


class ProcessorWaitingCompletionDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    userId: str
    Message: str


class OrderTimeoutDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    userId: str
    cause: str  # TimeoutCause
    Message: str


class OrderFinishedDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    userId: str
    outcome: Literal["completed", "cancelled"]
    Message: str


class ManagerWaitingCompletionDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    state: str
    drinkOrder: DrinkOrderDetail
    userId: str
    robot: bool
    Message: str


class MakeOrderDetail(TypedDict):
    """A barista took the order, or handed it back (`baristaUserId` and `baristaName` "")."""

    shopId: str
    orderId: str
    orderNumber: int | None
    baristaUserId: str
    baristaName: str
    userId: str
    Message: str


class OrderCompletedDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    userId: str
    baristaUserId: str
    baristaName: str
    drink: str
    waitSeconds: float | None
    Message: str


class OrderCancelledDetail(TypedDict):
    shopId: str
    orderId: str
    orderNumber: int | None
    userId: str
    cancelledBy: str  # CancelledBy
    reason: str
    Message: str


class ConfigChangedDetail(TypedDict):
    shopId: str
    config: ShopSettings
    menuVersion: int
    menu: list[MenuEntry]
    Message: str


class ClosingSoonDetail(TypedDict):
    shopId: str
    closesAt: str | None
    Message: str


class DayStartedDetail(TypedDict):
    shopId: str
    businessDate: str
    Message: str


ShopEventDetail = (
    NewOrderDetail | WorkflowStartedDetail | ShopUnavailableDetail
    | ProcessorWaitingCompletionDetail | OrderTimeoutDetail | OrderFinishedDetail
    | ManagerWaitingCompletionDetail | MakeOrderDetail | OrderCompletedDetail
    | OrderCancelledDetail | ConfigChangedDetail | ClosingSoonDetail | DayStartedDetail
)

# detail-type → its detail's TypedDict (the keys are `orders.events.DetailType`'s values).
EVENT_DETAILS: Final[dict[str, type]] = {
    "Validator.NewOrder": NewOrderDetail,
    "OrderProcessor.WorkflowStarted": WorkflowStartedDetail,
    "OrderProcessor.ShopUnavailable": ShopUnavailableDetail,
    "OrderProcessor.WaitingCompletion": ProcessorWaitingCompletionDetail,
    "OrderProcessor.OrderTimeOut": OrderTimeoutDetail,
    "OrderProcessor.orderFinished": OrderFinishedDetail,
    "OrderManager.WaitingCompletion": ManagerWaitingCompletionDetail,
    "OrderManager.MakeOrder": MakeOrderDetail,
    "OrderManager.OrderCompleted": OrderCompletedDetail,
    "OrderManager.OrderCancelled": OrderCancelledDetail,
    "ConfigService.ConfigChanged": ConfigChangedDetail,
    "ConfigService.ClosingSoon": ClosingSoonDetail,
    "ConfigService.DayStarted": DayStartedDetail,
}
