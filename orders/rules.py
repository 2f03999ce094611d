"""The shop's rules, as data on the Serverlesspresso bus: which events reach which subscriber.

They follow the reference's rules (spec §3) with handler targets instead of Lambdas and Step
Functions. `ensure_shop_rules()` creates what is missing and leaves what exists alone: the rules
are the operator's to edit in the admin afterwards, and running the seed again must not undo
that. See docs/orders.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from orders.events import BUS_NAME, SOURCE, DetailType, ensure_bus
from orders.privacy import retention_days
from routing.errors import AlreadyExists
from routing.models import Archive, Rule
from routing.services import (
    Actor,
    TargetSpec,
    archive_create,
    archive_update,
    rule_put,
    targets_put,
)

ACTOR = Actor.system("orders.rules")
ARCHIVE_NAME = "serverlesspresso-all"


@dataclass(frozen=True)
class ShopRule:
    name: str
    description: str
    event_pattern: dict[str, Any]
    handler: str
    max_retry_attempts: int = 185
    max_event_age_seconds: int = 86400


def _types(*detail_types: DetailType) -> dict[str, Any]:
    return {"source": [SOURCE], "detail-type": [t.value for t in detail_types]}


SHOP_RULES = (
    ShopRule(
        "NewOrder",
        "Starts the order workflow for each redeemed QR code (open? room in the queue?).",
        _types(DetailType.NEW_ORDER),
        "orders.workflow.start",
    ),
    ShopRule(
        "WaitingCompletion",
        "The order store announces each queued order, with its drink, to the baristas.",
        _types(DetailType.PROCESSOR_WAITING_COMPLETION),
        "orders.store.waiting_completion",
    ),
    ShopRule(
        "Publisher",
        "Pushes every order, validator and config event to the live pages.",
        {"source": [SOURCE], "detail-type": [
            {"prefix": "OrderManager."}, {"prefix": "OrderProcessor."},
            {"prefix": "Validator."}, {"prefix": "ConfigService."},
        ]},
        "orders.live.push",
        # Pushes are hints (pages refetch on a gap): retrying them for a day is useless.
        max_retry_attempts=2, max_event_age_seconds=60,
    ),
    ShopRule(
        "OrderMetrics",
        "Counts orders, drinks, modifiers and waits per shop and day.",
        _types(DetailType.NEW_ORDER, DetailType.SHOP_UNAVAILABLE,
               DetailType.PROCESSOR_WAITING_COMPLETION, DetailType.MANAGER_WAITING_COMPLETION,
               DetailType.ORDER_COMPLETED, DetailType.ORDER_CANCELLED,
               DetailType.ORDER_TIMEOUT),
        "orders.metrics.record",
    ),
    ShopRule(
        "OrderJourney",
        "Records every event of an order for its journey page.",
        {"source": [SOURCE], "detail": {"orderId": [{"exists": True}]}},
        "orders.journey.record",
    ),
)


def ensure_shop_rules() -> list[str]:
    """Creates the bus, each missing rule with its target, and the archive of all shop
    events; returns what it created (nothing when everything is there)."""
    created: list[str] = []
    if ensure_bus():
        created.append(f"bus {BUS_NAME}")
    for spec in SHOP_RULES:
        if Rule.objects.filter(bus__name=BUS_NAME, name=spec.name,
                               deleted_at__isnull=True).exists():
            continue
        with transaction.atomic():
            rule = rule_put(bus_name=BUS_NAME, name=spec.name, event_pattern=spec.event_pattern,
                            actor=ACTOR, description=spec.description)
            failures = targets_put(rule=rule, actor=ACTOR, targets=[
                TargetSpec(target_id=spec.handler.replace(".", "-"), kind="handler",
                           address=spec.handler, max_retry_attempts=spec.max_retry_attempts,
                           max_event_age_seconds=spec.max_event_age_seconds),
            ])
            if failures:
                # A subscriber that is not registered is a bug to fix, not something to skip.
                raise RuntimeError(f"rule {spec.name}: target refused: {failures[0].message}")
        created.append(f"rule {spec.name}")
    if _ensure_archive():
        created.append(f"archive {ARCHIVE_NAME}")
    return created


def _ensure_archive() -> bool:
    # The shop's events are kept as long as its orders and journeys (ORDERS_RETENTION_DAYS):
    # an archive that kept them longer would keep what an order's expiry let go.
    days = retention_days()
    existing = Archive.objects.filter(name=ARCHIVE_NAME).first()
    if existing is not None:
        if existing.retention_days != days:
            archive_update(name=ARCHIVE_NAME, retention_days=days, actor=ACTOR)
        return False
    try:
        archive_create(name=ARCHIVE_NAME, bus_name=BUS_NAME, event_pattern={"source": [SOURCE]},
                       retention_days=days,
                       description="Every coffee shop event, kept for replays.", actor=ACTOR)
    except AlreadyExists:
        return False
    return True
