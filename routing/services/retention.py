"""The retention purge: the one place events are deleted.

Archive entries past their archive's retention expire; events ingested before the cut-off go,
with their deliveries and attempts, unless an archive still retains them or they still have work
to do. See docs/archive-replay.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from routing.errors import ValidationError
from routing.immutability import event_deletion_permitted
from routing.models import (
    Archive,
    ArchivedEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    PendingRoute,
)

PURGE_BATCH_SIZE = 500
BUSY_DELIVERY_STATES = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)


@dataclass(frozen=True)
class PurgeReport:
    older_than: datetime
    dry_run: bool
    events_deleted: int = 0
    deliveries_deleted: int = 0
    attempts_deleted: int = 0
    archive_entries_expired: int = 0
    # Older than the cut-off but kept: an archive still retains them ...
    events_retained_by_archives: int = 0
    # ... or they still have work to do (routing, or a delivery pending or running).
    events_with_pending_work: int = 0
    # False when the time budget ran out first; the next run carries on.
    complete: bool = True

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        return [
            f"events ingested before {self.older_than.isoformat()}:",
            f"  {verb} {self.events_deleted} events, {self.deliveries_deleted} deliveries, "
            f"{self.attempts_deleted} delivery attempts",
            f"  {verb} {self.archive_entries_expired} archive entries past their archive's "
            "retention",
            f"  kept {self.events_retained_by_archives} events an archive still retains",
            f"  kept {self.events_with_pending_work} events still being routed or delivered",
            *([] if self.complete else ["  stopped on its time budget; run again to go on"]),
        ]


def _retention_cutoffs(now: datetime) -> dict[int, datetime]:
    """For each retention (in days) some archive has: archive entries from before this expire."""
    days = Archive.objects.filter(retention_days__gt=0).values_list("retention_days", flat=True)
    return {n: now - timedelta(days=n) for n in set(days)}


def _live_entries_q(cutoffs: dict[int, datetime]) -> Q:
    live = Q(archive__retention_days=0)
    for days, cutoff in cutoffs.items():
        live |= Q(archive__retention_days=days, event__ingested_at__gte=cutoff)
    return live


def _expired_entries(cutoffs: dict[int, datetime]) -> QuerySet[ArchivedEvent]:
    if not cutoffs:
        return ArchivedEvent.objects.none()
    expired = Q()
    for days, cutoff in cutoffs.items():
        expired |= Q(archive__retention_days=days, event__ingested_at__lt=cutoff)
    return ArchivedEvent.objects.filter(expired)


def _old_events(older_than: datetime) -> QuerySet[Event]:
    return Event.objects.filter(ingested_at__lt=older_than).order_by()


def _annotated(events: QuerySet[Event], live_entries: Q) -> QuerySet[Event]:
    return events.alias(
        retained=Exists(ArchivedEvent.objects.filter(live_entries, event=OuterRef("pk"))),
        routing=Exists(PendingRoute.objects.filter(event=OuterRef("pk"))),
        delivering=Exists(
            Delivery.objects.filter(event=OuterRef("pk"), status__in=BUSY_DELIVERY_STATES)
        ),
    )


_DOOMED = Q(retained=False, routing=False, delivering=False)
_BUSY = Q(retained=False) & (Q(routing=True) | Q(delivering=True))


def _deadline_passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _batches(queryset: QuerySet[Any], batch_size: int) -> Iterator[list[Any]]:
    """Primary keys in ascending batches (keyset), so rows kept back are not read again."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        keys = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not keys:
            return
        last = keys[-1]
        yield keys


def events_purge(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH_SIZE,
    time_budget_seconds: float | None = None,
) -> PurgeReport:
    """The retention purge, the one door through which events are deleted.

    First, archive entries older than their archive's retention go. Then every event ingested
    before `older_than` that no archive retains (retention 0 keeps forever; N keeps events
    ingested in the last N days) is deleted with its deliveries and their attempts, in batches,
    each in its own transaction. An event still waiting to be routed, or with a delivery
    pending or running, is never deleted."""
    if timezone.is_naive(older_than):
        raise ValidationError("older_than must be an aware datetime.", field="older_than")
    deadline = None if time_budget_seconds is None else time.monotonic() + time_budget_seconds
    cutoffs = _retention_cutoffs(timezone.now())
    live = _live_entries_q(cutoffs)
    old = _annotated(_old_events(older_than), live)
    counts = {"events": 0, "deliveries": 0, "attempts": 0, "entries": 0}

    if dry_run:
        doomed = old.filter(_DOOMED).values("pk")
        counts["entries"] = _expired_entries(cutoffs).count()
        counts["events"] = doomed.count()
        counts["deliveries"] = Delivery.objects.filter(event__in=doomed).count()
        counts["attempts"] = DeliveryAttempt.objects.filter(delivery__event__in=doomed).count()
    else:
        complete = _purge_expired_entries(cutoffs, batch_size, deadline, counts)
        complete = complete and _purge_events(old, live, batch_size, deadline, counts)
        if not complete:
            return PurgeReport(
                older_than=older_than, dry_run=False, events_deleted=counts["events"],
                deliveries_deleted=counts["deliveries"], attempts_deleted=counts["attempts"],
                archive_entries_expired=counts["entries"], complete=False,
            )
    return PurgeReport(
        older_than=older_than,
        dry_run=dry_run,
        events_deleted=counts["events"],
        deliveries_deleted=counts["deliveries"],
        attempts_deleted=counts["attempts"],
        archive_entries_expired=counts["entries"],
        events_retained_by_archives=old.filter(Q(retained=True)).count(),
        events_with_pending_work=old.filter(_BUSY).count(),
    )


def events_purge_by_retention(*, time_budget_seconds: float | None = None) -> PurgeReport | None:
    """The periodic purge: events older than ROUTING_EVENT_RETENTION_DAYS (0 keeps them
    forever, and then this does nothing and returns None)."""
    days = int(settings.ROUTING_EVENT_RETENTION_DAYS)
    if days <= 0:
        return None
    return events_purge(older_than=timezone.now() - timedelta(days=days),
                        time_budget_seconds=time_budget_seconds)


def _purge_expired_entries(
    cutoffs: dict[int, datetime], batch_size: int, deadline: float | None, counts: dict[str, int]
) -> bool:
    for keys in _batches(_expired_entries(cutoffs), batch_size):
        counts["entries"] += ArchivedEvent.objects.filter(pk__in=keys).delete()[0]
        if _deadline_passed(deadline):
            return False
    return True


def _purge_events(
    old: QuerySet[Event],
    live: Q,
    batch_size: int,
    deadline: float | None,
    counts: dict[str, int],
) -> bool:
    for keys in _batches(old.filter(_DOOMED), batch_size):
        with event_deletion_permitted():
            # Checked again with the rows locked: since the batch was chosen, an event may have
            # had a delivery redriven or an archive's retention lengthened.
            pending = set(PendingRoute.objects.select_for_update()
                          .filter(event_id__in=keys).values_list("event_id", flat=True))
            deliveries = list(Delivery.objects.select_for_update()
                              .filter(event_id__in=keys).values_list("event_id", "status"))
            busy = {event_id for event_id, status in deliveries
                    if status in BUSY_DELIVERY_STATES}
            retained = set(ArchivedEvent.objects.filter(live, event_id__in=keys)
                           .values_list("event_id", flat=True))
            doomed = [key for key in keys if key not in pending | busy | retained]
            if doomed:
                counts["attempts"] += DeliveryAttempt.objects.filter(
                    delivery__event_id__in=doomed).delete()[0]
                counts["deliveries"] += Delivery.objects.filter(event_id__in=doomed).delete()[0]
                counts["entries"] += ArchivedEvent.objects.filter(event_id__in=doomed).delete()[0]
                # EventQuerySet refuses to delete; the ORM's own delete still checks that no
                # protected row refers to these events, and the database lets it through only
                # inside event_deletion_permitted().
                _, per_model = models.QuerySet.delete(Event.objects.filter(pk__in=doomed))
                counts["events"] += per_model.get(Event._meta.label, 0)
        if _deadline_passed(deadline):
            return False
    return True
