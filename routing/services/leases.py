"""Claim leases: how long a running delivery is presumed alive, and keeping it alive.

A delivery is claimed right before its attempt, with a lease sized to its target: twice a
webhook's time-out, at least ROUTING_LEASE_MIN_SECONDS. While the attempt (and the recording of
its outcome) runs, one daemon thread per process renews the leases it holds every third of
their length, so a long attempt keeps its claim however long it takes, and a claim whose process
died lapses within one lease: the sweeper then records the attempt as lost and retries it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from routing.cancellation import CANCELLATIONS
from routing.models import Delivery, DeliveryStatus, Target, TargetKind

logger = logging.getLogger(__name__)

# How often the keeper looks for leases to renew.
_TICK_SECONDS = 0.5


def lease_seconds(target: Target) -> float:
    """A dead worker's claim costs at most this long: twice the longest an attempt may wait on
    its target, never less than the floor (which covers the database writes around it)."""
    floor = float(settings.ROUTING_LEASE_MIN_SECONDS)
    if target.kind == TargetKind.WEBHOOK:
        return max(floor, 2 * float(target.webhook_timeout_seconds))
    return floor


@dataclass
class _Held:
    delivery_id: str
    token: str
    seconds: float
    renew_at: float = field(default=0.0)


class _LeaseKeeper:
    """Renews the leases this process holds. Started on first use in each process (a forked
    Celery worker child starts its own)."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], _Held] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    @contextmanager
    def hold(self, delivery_id: str, token: str, seconds: float) -> Iterator[None]:
        key = (delivery_id, token)
        held = _Held(delivery_id, token, seconds, time.monotonic() + seconds / 3)
        self._ensure_running()
        with self._lock:
            self._held[key] = held
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(key, None)

    def renew_due(self) -> int:
        """Renews every held lease due for it; returns how many were renewed."""
        now = time.monotonic()
        with self._lock:
            due = [held for held in self._held.values() if held.renew_at <= now]
        renewed = 0
        for held in due:
            try:
                renewed += Delivery.objects.filter(
                    pk=held.delivery_id, claim_token=held.token, status=DeliveryStatus.RUNNING,
                ).update(lease_expires_at=timezone.now() + timedelta(seconds=held.seconds))
            except CANCELLATIONS:
                raise
            except Exception as error:  # the database may be away: try again next tick
                logger.warning("could not renew the lease of delivery %s: %s",
                               held.delivery_id, error)
                continue
            held.renew_at = time.monotonic() + held.seconds / 3
        if due:
            # Renewals are rare (only attempts longer than a third of their lease): hold no
            # connection between them.
            connections.close_all()
        return renewed

    def _ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._held = {}
                self._pid = os.getpid()
                self._thread = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="routing-leases",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(_TICK_SECONDS)
            try:
                self.renew_due()
            except Exception:  # never let the keeper die
                logger.exception("the lease keeper failed")


LEASES = _LeaseKeeper()
