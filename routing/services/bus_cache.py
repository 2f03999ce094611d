"""Buses by name, remembered per process for ROUTING_CALLER_CACHE_SECONDS (1 s), so a publish
does not look its bus up on every request.

Only buses that exist are remembered: a bus just created is seen at once. One deleted (or
deleted and made again) in another process may be remembered for up to that second; the write
of an event to it then fails on its foreign key, and `put_events` forgets what it remembered and
answers from a fresh lookup. In this process a saved or deleted bus is forgotten at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save

from routing.models import EventBus
from routing.services.caller_cache import ttl_seconds

# Far more buses than any deployment has: a full memory is emptied rather than grown.
MAX_BUSES = 10_000

_remembered: dict[str, tuple[EventBus, float]] = {}
_lock = threading.Lock()


def buses_by_name(names: Iterable[str], *, remembered: bool = True) -> dict[str, EventBus]:
    """The existing buses among `names`; from memory when `remembered` and known."""
    # A name holding NUL names no bus (and PostgreSQL refuses it even in a query).
    wanted = {name for name in names if "\x00" not in name}
    now = time.monotonic()
    found: dict[str, EventBus] = {}
    if remembered:
        for name in wanted:
            entry = _remembered.get(name)
            if entry is not None and entry[1] > now:
                found[name] = entry[0]
    missing = wanted - found.keys()
    if missing:
        looked_up = {bus.name: bus for bus in EventBus.objects.filter(name__in=missing)}
        found.update(looked_up)
        ttl = ttl_seconds()
        if remembered and ttl > 0 and looked_up:
            with _lock:
                if len(_remembered) + len(looked_up) > MAX_BUSES:
                    _remembered.clear()
                for name, bus in looked_up.items():
                    _remembered[name] = (bus, now + ttl)
    return found


def forget_buses() -> None:
    with _lock:
        _remembered.clear()


def _bus_changed(sender: Any, **kwargs: Any) -> None:
    forget_buses()


post_save.connect(_bus_changed, sender=EventBus, dispatch_uid="bus-cache-save")
post_delete.connect(_bus_changed, sender=EventBus, dispatch_uid="bus-cache-delete")
