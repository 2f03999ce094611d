"""Reads that span relations, one module per area: traces (an event's fate), rules (the rule
editor's sandbox and impact preview), events (the explorer), metrics (charts and /metrics)."""

from routing.selectors.traces import (
    DeliveryOverview,
    apikey_list,
    deliveries_overview,
    event_trace,
    public_target_address,
)

__all__ = [
    "DeliveryOverview",
    "apikey_list",
    "deliveries_overview",
    "event_trace",
    "public_target_address",
]
