"""API keys: created with a random secret shown once, stored as a SHA-256 of the whole key,
found by their public prefix, revoked by name.

A key reads `cs_<prefix>_<secret>`: the prefix (12 hex characters) finds the row, the secret
(43 URL-safe characters, 256 random bits) is what makes it unguessable. Keys that random need no
slow password hash: SHA-256 plus a constant-time comparison is enough. A verified key is
remembered by its hash for a second or so (routing.services.caller_cache), so a busy publisher
costs no query per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from routing.errors import AlreadyExists
from routing.models import ApiKey
from routing.services.caller_cache import API_KEYS, CallerGrant, grant_of
from routing.services.callers import (
    buses_named,
    caller_name_check,
    caller_record_use_of,
    caller_revoke,
    source_patterns_checked,
)

KEY_SCHEME = "cs"
PREFIX_HEX_CHARS = 12
SECRET_BYTES = 32
MAX_KEY_LENGTH = 200
_KEY_RE = re.compile(rf"{KEY_SCHEME}_([0-9a-f]{{8,16}})_([A-Za-z0-9_-]{{32,}})")


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
    return prefix, f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def apikey_create(
    *, name: str, bus_names: Iterable[str] = (), sources: Iterable[str] = ()
) -> tuple[ApiKey, str]:
    """Creates a key, limited to `bus_names` when any are given (none: every bus) and to the
    source patterns `sources` (none: any source not reserved, see routing.sources).

    Returns the row and the key itself, which is not stored anywhere and cannot be shown again."""
    caller_name_check(name, what="An API key")
    buses = buses_named(bus_names)
    source_patterns = source_patterns_checked(sources)
    if ApiKey.objects.filter(name=name).exists():
        raise AlreadyExists(f"API key {name} already exists.", field="Name")
    # A clash of random 48-bit prefixes is all but impossible; one more draw settles it anyway.
    for _ in range(3):
        prefix, raw_key = _new_key()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=hash_key(raw_key),
                                            sources=source_patterns)
                key.buses.set(buses)
        except IntegrityError:
            if ApiKey.objects.filter(name=name).exists():
                raise AlreadyExists(f"API key {name} already exists.", field="Name") from None
            continue
        return key, raw_key
    raise RuntimeError("could not draw an unused API key prefix in three tries")


def apikey_revoke(*, name: str) -> ApiKey:
    """Refuses the key from now on. Revoking a revoked key changes nothing."""
    return caller_revoke(ApiKey, name=name, what="API key")


def apikey_authenticate(raw_key: str) -> CallerGrant | None:
    """What the live key `raw_key` was given; None if it is not one. A key verified within the
    cache's time-to-live costs no query (routing.services.caller_cache)."""
    match = _KEY_RE.fullmatch(raw_key) if len(raw_key) <= MAX_KEY_LENGTH else None
    if match is None:
        return None
    digest = hash_key(raw_key)
    entry = API_KEYS.get(digest)
    if entry is None:
        key = ApiKey.objects.prefetch_related("buses").filter(prefix=match.group(1)).first()
        if key is None or not hmac.compare_digest(key.key_hash, digest):
            return None
        if key.revoked_at is not None:
            return None
        entry = API_KEYS.put(digest, grant=grant_of(key), secret=None,
                             last_used_at=key.last_used_at)
    entry.last_used_at = caller_record_use_of(ApiKey, pk=entry.grant.pk,
                                              last_used_at=entry.last_used_at)
    return entry.grant
