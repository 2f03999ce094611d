"""The shop's events: one source, the reference's detail-types, and one way to publish them.

Every detail carries `shopId` and a human-readable `Message` (the order journey shows it).
Details never carry a QR code or a wait token: events reach browsers through the live pages.
Nor do they carry a customer's name: events are immutable and outlive an erasure, so a customer
is only ever `userId`, a pseudonymous id (pages look the name up from the Customer row, which
`customer_erase` blanks; see docs/security.md, "Personal data").
See docs/orders.md for the catalogue (who emits what, with which fields); each detail's type
is in orders/event_details.py, and `emit` takes for each detail-type only its own."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Literal, overload

from orders.event_details import (
    ClosingSoonDetail,
    ConfigChangedDetail,
    DayStartedDetail,
    MakeOrderDetail,
    ManagerWaitingCompletionDetail,
    NewOrderDetail,
    OrderCancelledDetail,
    OrderCompletedDetail,
    OrderFinishedDetail,
    OrderTimeoutDetail,
    ProcessorWaitingCompletionDetail,
    ShopEventDetail,
    ShopUnavailableDetail,
    WorkflowStartedDetail,
)
from routing.errors import AlreadyExists, NotFound
from routing.models import Event
from routing.publishers import Publisher
from routing.services import Actor, bus_create, event_publish

logger = logging.getLogger(__name__)

SOURCE = "awsserverlessda.serverlesspresso"
BUS_NAME = "Serverlesspresso"
# The shop's internal publisher: SOURCE is reserved for it (OrdersConfig.ready), and the
# shop's subscribers act only on events it published (see `shop_published`).
SERVICE_NAME = "orders"
PUBLISHER = Publisher.service(SERVICE_NAME)


class DetailType(StrEnum):
    NEW_ORDER = "Validator.NewOrder"
    WORKFLOW_STARTED = "OrderProcessor.WorkflowStarted"
    SHOP_UNAVAILABLE = "OrderProcessor.ShopUnavailable"
    PROCESSOR_WAITING_COMPLETION = "OrderProcessor.WaitingCompletion"
    ORDER_TIMEOUT = "OrderProcessor.OrderTimeOut"
    ORDER_FINISHED = "OrderProcessor.orderFinished"
    MANAGER_WAITING_COMPLETION = "OrderManager.WaitingCompletion"
    MAKE_ORDER = "OrderManager.MakeOrder"
    ORDER_COMPLETED = "OrderManager.OrderCompleted"
    ORDER_CANCELLED = "OrderManager.OrderCancelled"
    CONFIG_CHANGED = "ConfigService.ConfigChanged"
    # The shop's clock (orders/opening.py): the close is near; a new local day began.
    CLOSING_SOON = "ConfigService.ClosingSoon"
    DAY_STARTED = "ConfigService.DayStarted"


def shop_published(publisher: Publisher) -> bool:
    """Whether the shop itself published an event (or it is a replay of one it published):
    the only events the shop's subscribers act on, whatever their `source` says."""
    return publisher.is_service(SERVICE_NAME)


def ensure_bus() -> bool:
    """Creates the Serverlesspresso bus if it is missing; True if it was created."""
    try:
        bus_create(name=BUS_NAME, description="The coffee shop's events (orders/).",
                   actor=Actor.system("orders"))
    except AlreadyExists:
        return False
    logger.info("created event bus %s", BUS_NAME)
    return True


@overload
def emit(detail_type: Literal[DetailType.NEW_ORDER], detail: NewOrderDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.WORKFLOW_STARTED],
         detail: WorkflowStartedDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.SHOP_UNAVAILABLE],
         detail: ShopUnavailableDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.PROCESSOR_WAITING_COMPLETION],
         detail: ProcessorWaitingCompletionDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.ORDER_TIMEOUT], detail: OrderTimeoutDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.ORDER_FINISHED],
         detail: OrderFinishedDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.MANAGER_WAITING_COMPLETION],
         detail: ManagerWaitingCompletionDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.MAKE_ORDER], detail: MakeOrderDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.ORDER_COMPLETED],
         detail: OrderCompletedDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.ORDER_CANCELLED],
         detail: OrderCancelledDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.CONFIG_CHANGED],
         detail: ConfigChangedDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.CLOSING_SOON], detail: ClosingSoonDetail) -> Event: ...
@overload
def emit(detail_type: Literal[DetailType.DAY_STARTED], detail: DayStartedDetail) -> Event: ...
def emit(detail_type: DetailType, detail: ShopEventDetail) -> Event:
    """Publishes one shop event. Call it inside the transaction that made the change: the event
    is stored with it and routed only once it commits."""

    def publish() -> Event:
        return event_publish(
            source=SOURCE,
            detail_type=detail_type.value,
            detail=dict(detail),
            bus_name=BUS_NAME,
            publisher=PUBLISHER,
        )

    try:
        return publish()
    except NotFound:
        # The bus is the shop's own infrastructure: a fresh database gets it on first use
        # (seed_demo creates it with its rules; without rules events are stored, not routed).
        ensure_bus()
        return publish()
