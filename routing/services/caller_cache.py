"""A short-lived per-process memory of verified callers, so a known API key or AWS credential
costs no database query on every request.

An entry lives ROUTING_CALLER_CACHE_SECONDS (1 s by default): that bounds how long another
process may still accept a key revoked, re-scoped or deleted elsewhere. In the process that makes
the change, the entry goes at once (revocation below; saves and bus changes by signal). Only
verified, live callers are remembered: an unknown or revoked key is looked up every time, as
before, so the cache never turns a refusal into an acceptance.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from routing.models import ApiKey, AwsCredential

DEFAULT_TTL_SECONDS = 1.0
# Far more callers than any deployment has: a full cache is emptied rather than grown.
MAX_ENTRIES = 10_000

V = TypeVar("V")


@dataclass(frozen=True)
class CallerGrant:
    """What a verified caller was given, as a value that threads may share (no model instance):
    its row's id and name, the buses it may use (None: every bus) and the source patterns it
    may publish (None: any source not reserved)."""

    pk: int
    name: str
    bus_names: frozenset[str] | None
    sources: tuple[str, ...] | None


@dataclass
class CachedCaller(Generic[V]):
    grant: CallerGrant
    # What verifying needs beside the grant: nothing for an API key (the hash is the cache's
    # key), the decrypted secret for an AWS credential.
    secret: V
    # The last use written to the row (or read from it), which throttles the next write.
    last_used_at: datetime | None
    expires_at: float


def grant_of(caller: ApiKey | AwsCredential) -> CallerGrant:
    """The grant of a row whose buses are prefetched."""
    names = frozenset(bus.name for bus in caller.buses.all())
    return CallerGrant(pk=caller.pk, name=caller.name, bus_names=names or None,
                       sources=tuple(caller.sources) or None)


def ttl_seconds() -> float:
    return float(getattr(settings, "ROUTING_CALLER_CACHE_SECONDS", DEFAULT_TTL_SECONDS))


class CallerCache(Generic[V]):
    """Entries by a caller's lookup key (an API key's hash, an access key id), each for a
    time-to-live; thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedCaller[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedCaller[V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry

    def put(self, key: str, *, grant: CallerGrant, secret: V,
            last_used_at: datetime | None) -> CachedCaller[V]:
        """Remembers a caller just looked up (kept only while caching is on: a time-to-live
        above zero)."""
        ttl = ttl_seconds()
        entry = CachedCaller(grant=grant, secret=secret, last_used_at=last_used_at,
                             expires_at=time.monotonic() + ttl)
        if ttl <= 0:
            return entry
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


API_KEYS: CallerCache[None] = CallerCache()
AWS_CREDENTIALS: CallerCache[str] = CallerCache()


def forget_callers() -> None:
    """Drops every remembered caller of this process, now and again once the current
    transaction commits (a request verifying meanwhile may have re-read the old row)."""
    _clear_both()
    transaction.on_commit(_clear_both)


def _clear_both() -> None:
    API_KEYS.clear()
    AWS_CREDENTIALS.clear()


def _caller_changed(sender: Any, **kwargs: Any) -> None:
    forget_callers()


for _model in (ApiKey, AwsCredential):
    post_save.connect(_caller_changed, sender=_model, dispatch_uid=f"caller-cache-save-{_model}")
    post_delete.connect(_caller_changed, sender=_model,
                        dispatch_uid=f"caller-cache-delete-{_model}")
    m2m_changed.connect(_caller_changed, sender=_model.buses.through,
                        dispatch_uid=f"caller-cache-buses-{_model}")
