"""The Django admin for the bus. Every write goes through routing.services; the records the bus
keeps (events, deliveries, attempts, revisions) are read-only."""

from routing.admin import apikeys, archives, destinations, events, rules, schedules

__all__ = ["apikeys", "archives", "destinations", "events", "rules", "schedules"]
