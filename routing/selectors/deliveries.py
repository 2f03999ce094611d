"""Deliveries and dead letters for the dashboard: filtered lists with keyset pagination by
(created_at, id), newest first, and the progress of a redrive (how the redriven deliveries
stand now)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from routing.errors import ValidationError
from routing.models import Delivery, DeliveryStatus, Target
from routing.selectors.events import decode_cursor, encode_cursor
from routing.selectors.traces import public_target_address

PAGE_SIZE = 50
REDRIVABLE = (DeliveryStatus.DEAD, DeliveryStatus.DROPPED)
# "Select every match" stops here: a redrive of more is better done in several goes.
MAX_SELECTION = 5000


@dataclass(frozen=True)
class DeliveryFilters:
    statuses: tuple[str, ...] = ()
    bus: str = ""
    rule_id: int | None = None
    target_id: int | None = None  # Target's primary key
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before

    def apply(self, deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
        if self.statuses:
            deliveries = deliveries.filter(status__in=self.statuses)
        if self.bus:
            deliveries = deliveries.filter(target__rule__bus__name=self.bus)
        if self.rule_id is not None:
            deliveries = deliveries.filter(target__rule_id=self.rule_id)
        if self.target_id is not None:
            deliveries = deliveries.filter(target_id=self.target_id)
        if self.since is not None:
            deliveries = deliveries.filter(created_at__gte=self.since)
        if self.until is not None:
            deliveries = deliveries.filter(created_at__lt=self.until)
        return deliveries


@dataclass
class DeliveryRow:
    id: str
    event_id: str
    bus: str
    rule: str
    target_id: str
    target_pk: int
    kind: str
    address: str
    status: str
    attempt_count: int
    last_error: str
    last_error_code: str
    exhausted_condition: str
    redrive_count: int
    created_at: datetime
    finished_at: datetime | None
    cursor: str

    @property
    def redrivable(self) -> bool:
        return self.status in REDRIVABLE


@dataclass
class DeliveryPage:
    rows: list[DeliveryRow]
    newer: str | None = None
    older: str | None = None
    is_first: bool = True


def _row(delivery: Delivery) -> DeliveryRow:
    target = delivery.target
    return DeliveryRow(
        id=str(delivery.pk),
        event_id=str(delivery.event_id),
        bus=target.rule.bus.name,
        rule=target.rule.name,
        target_id=target.target_id,
        target_pk=target.pk,
        kind=target.kind,
        address=public_target_address(target.kind, target.address),
        status=delivery.status,
        attempt_count=delivery.attempt_count,
        last_error=delivery.last_error,
        last_error_code=delivery.last_error_code,
        exhausted_condition=delivery.exhausted_condition,
        redrive_count=delivery.redrive_count,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        cursor=encode_cursor(delivery.created_at, delivery.pk),
    )


def delivery_search(
    filters: DeliveryFilters, *, after: str | None = None, before: str | None = None,
    limit: int = PAGE_SIZE,
) -> DeliveryPage:
    """One page of deliveries, newest first; `after`/`before` as in `event_search`."""
    deliveries = filters.apply(Delivery.objects.all()).select_related(
        "target", "target__rule", "target__rule__bus"
    ).defer("target__signing_secret", "target__previous_signing_secret",
            "target__input_transformer")
    if before:
        moment, key = decode_cursor(before, what="deliveries")
        found = list(deliveries.filter(
            Q(created_at__gte=moment) & (Q(created_at__gt=moment) | Q(id__gt=key))
        ).order_by("created_at", "id")[:limit + 1])
        if not found:
            return delivery_search(filters, limit=limit)
        more = len(found) > limit
        rows = [_row(d) for d in reversed(found[:limit])]
        return DeliveryPage(rows, newer=rows[0].cursor if more else None,
                            older=rows[-1].cursor, is_first=not more)
    if after:
        moment, key = decode_cursor(after, what="deliveries")
        deliveries = deliveries.filter(
            Q(created_at__lte=moment) & (Q(created_at__lt=moment) | Q(id__lt=key))
        )
    found = list(deliveries.order_by("-created_at", "-id")[:limit + 1])
    rows = [_row(d) for d in found[:limit]]
    return DeliveryPage(rows, newer=rows[0].cursor if rows and after else None,
                        older=rows[-1].cursor if len(found) > limit else None,
                        is_first=after is None)


def redrivable_ids(filters: DeliveryFilters, *, limit: int = MAX_SELECTION) -> tuple[list[str],
                                                                                        bool]:
    """Ids of the dead or dropped deliveries matching, newest first, and whether there are more
    than `limit`."""
    statuses = tuple(s for s in (filters.statuses or REDRIVABLE) if s in REDRIVABLE)
    if not statuses:
        return [], False
    deliveries = DeliveryFilters(**{**filters.__dict__, "statuses": statuses}).apply(
        Delivery.objects.all())
    keys = [str(pk) for pk in deliveries.order_by("-created_at", "-id")
            .values_list("id", flat=True)[:limit + 1]]
    return keys[:limit], len(keys) > limit


@dataclass
class RedriveProgress:
    """Where a redrive's deliveries stand: each redriven one is pending or running (in flight,
    `retrying` if an attempt since the redrive failed), succeeded, or dead/dropped again."""

    total: int = 0
    in_flight: int = 0
    retrying: int = 0
    succeeded: int = 0
    failed_again: int = 0
    missing: int = 0
    by_id: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.in_flight == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "inFlight": self.in_flight, "retrying": self.retrying,
            "succeeded": self.succeeded, "failedAgain": self.failed_again,
            "missing": self.missing, "done": self.done, "statuses": self.by_id,
        }


def redrive_progress(delivery_ids: Sequence[str]) -> RedriveProgress:
    """One query, whatever the number of ids (they are sent in chunks by the page)."""
    wanted = []
    for key in delivery_ids:
        try:
            wanted.append(uuid.UUID(str(key)))
        except ValueError:
            raise ValidationError(f"{key!r} is not a delivery id.", field="ids") from None
    rows = Delivery.objects.filter(pk__in=wanted).values_list(
        "pk", "status", "attempt_count", "attempts_before_redrive")
    progress = RedriveProgress(total=len(set(wanted)))
    for pk, status, attempts, before_redrive in rows:
        progress.by_id[str(pk)] = status
        if status in (DeliveryStatus.PENDING, DeliveryStatus.RUNNING):
            progress.in_flight += 1
            # A pending delivery with attempts since its redrive failed them and waits to retry.
            if status == DeliveryStatus.PENDING and attempts > before_redrive:
                progress.retrying += 1
        elif status == DeliveryStatus.SUCCEEDED:
            progress.succeeded += 1
        else:
            progress.failed_again += 1
    progress.missing = progress.total - len(progress.by_id)
    return progress


@dataclass(frozen=True)
class TargetChoice:
    pk: int
    label: str
    bus: str


def target_choices() -> list[TargetChoice]:
    """Every target, for the filter; deleted ones (which keep their deliveries) are marked."""
    targets = Target.objects.select_related("rule", "rule__bus").order_by(
        "rule__bus__name", "rule__name", "target_id", "pk")
    return [
        TargetChoice(
            target.pk,
            f"{target.rule.bus.name}/{target.rule.name} → {target.target_id}"
            + (" (deleted)" if target.deleted_at or target.rule.deleted_at else ""),
            target.rule.bus.name,
        )
        for target in targets
    ]
