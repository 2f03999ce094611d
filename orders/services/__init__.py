"""Every write of the coffee shop, one module per aggregate. Pages, sockets, admin,
subscribers, tasks and the simulator call these; each one validates, checks who may act,
applies a transition of the pure workflow (orders/workflow.py) and emits its events in the same
transaction, so an event exists exactly when its change does.

- `customers`: a customer and their name;
- `redeeming`: QR windows and redeeming a code into a new order;
- `workflow_steps`: the workflow's automatic steps (start, announce);
- `order_actions`: the customer's and the baristas' actions (submit, claim, hand back,
  complete, cancel), moved by `transitions`' conditional UPDATE;
- `timeouts`: orders past their deadline;
- `shops`: a shop's settings, opening and closing; `menus`: its menu;
- `wording`: durations, times and names in words.

A wait token is single-use and never leaves the server. Errors a person can cause are raised
as `OrderError` (see orders/workflow.py), to be shown as they are. This package re-exports the
services, so callers import them from `orders.services`."""

from orders.permissions import ActingUser, require_barista
from orders.services.customers import customer_create, customer_for_account, customer_set_name
from orders.services.menus import menu_change
from orders.services.order_actions import (
    order_cancel,
    order_claim,
    order_complete,
    order_submit,
    order_unclaim,
)
from orders.services.redeeming import order_redeem, order_redeem_check, qr_window_current
from orders.services.shops import (
    CONFIG_FIELDS,
    shop_config_publish,
    shop_create,
    shop_set_baristas,
    shop_set_open,
    shop_update_config,
)
from orders.services.timeouts import orders_time_out_overdue
from orders.services.wording import person_name
from orders.services.workflow_steps import order_announce, order_start
from orders.workflow import OrderError

__all__ = [
    "CONFIG_FIELDS",
    "ActingUser",
    "OrderError",
    "customer_create",
    "customer_for_account",
    "customer_set_name",
    "menu_change",
    "order_announce",
    "order_cancel",
    "order_claim",
    "order_complete",
    "order_redeem",
    "order_redeem_check",
    "order_start",
    "order_submit",
    "order_unclaim",
    "orders_time_out_overdue",
    "person_name",
    "qr_window_current",
    "require_barista",
    "shop_config_publish",
    "shop_create",
    "shop_set_baristas",
    "shop_set_open",
    "shop_update_config",
]
