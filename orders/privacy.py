"""A customer's personal data: erased on request, and expired after the shop's retention.

The shop's events are immutable, so they never carry a customer's name (orders/events.py): a
customer is `userId`, a pseudonymous id. The name lives on the Customer row only, and every
page and API answer looks it up from there, so blanking it there removes it everywhere. What
an event's detail was copied into (journey entries) is scrubbed too, for entries recorded
before events stopped carrying names. See docs/security.md, "Personal data"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.models import Customer, JourneyEntry, Order
from orders.workflow import FINAL_STATES, CancelledBy

logger = logging.getLogger(__name__)

# What an erased name becomes inside recorded texts.
ERASED = "a customer"


@dataclass(frozen=True)
class ErasureReport:
    customer_id: str
    orders: int
    journey_entries: int


@dataclass(frozen=True)
class ExpiryReport:
    journey_entries: int
    orders: int
    names: int


def retention_days() -> int:
    """ORDERS_RETENTION_DAYS: how long orders, journeys and shop events are kept (0: forever)."""
    return int(settings.ORDERS_RETENTION_DAYS)


def _scrub(value: Any, name: str) -> Any:
    """`value` (a JSON value) with every occurrence of `name` in its strings replaced."""
    if isinstance(value, str):
        return value.replace(name, ERASED)
    if isinstance(value, list):
        return [_scrub(item, name) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, name) for key, item in value.items()}
    return value


def customer_erase(*, customer: Customer) -> ErasureReport:
    """Removes a customer's personal data from their orders and journeys: the name (on the
    Customer row, and wherever a journey entry copied it) and the reasons they typed when
    cancelling. The orders stay, pseudonymous, for the shop's counts. Safe to run twice."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        name = customer.name.strip()
        entries = 0
        if name:
            for entry in JourneyEntry.objects.filter(order__customer=customer):
                message, detail = _scrub(entry.message, name), _scrub(entry.detail, name)
                if message != entry.message or detail != entry.detail:
                    JourneyEntry.objects.filter(pk=entry.pk).update(message=message,
                                                                    detail=detail)
                    entries += 1
        orders = (Order.objects.filter(customer=customer, cancelled_by=CancelledBy.CUSTOMER)
                  .exclude(cancel_reason="").update(cancel_reason=""))
        Customer.objects.filter(pk=customer.pk).update(name="", erased_at=timezone.now())
    logger.info("customer %s erased (%d orders, %d journey entries scrubbed)", customer.pk,
                orders, entries)
    return ErasureReport(customer_id=str(customer.pk), orders=orders, journey_entries=entries)


def personal_data_expire(*, now: datetime | None = None) -> ExpiryReport:
    """Past ORDERS_RETENTION_DAYS: finished orders and their journeys are deleted, and guests
    with no order left lose their name (an account's customer keeps it while the account
    lives: it is theirs to erase). Does nothing when the retention is 0."""
    days = retention_days()
    if days <= 0:
        return ExpiryReport(journey_entries=0, orders=0, names=0)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        expired = Order.objects.filter(state__in=[state.value for state in FINAL_STATES],
                                       created_at__lt=cutoff)
        entries, _ = JourneyEntry.objects.filter(order__in=expired).delete()
        orders, _ = expired.delete()
        names = (Customer.objects.filter(user__isnull=True, created_at__lt=cutoff)
                 .exclude(name="").filter(~Q(orders__created_at__gte=cutoff))
                 .update(name=""))
    return ExpiryReport(journey_entries=entries, orders=orders, names=names)
