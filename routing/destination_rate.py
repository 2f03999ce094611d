"""The API destinations' invocation rate, shared by every worker: a token bucket in Redis with
no burst (GCRA: each call takes the next free slot, 1/rate seconds after the one before), kept
in one Lua script so that two workers never take the same slot.

Redis holds only the schedule of slots; what is pending lives in the database. A flushed Redis
forgets the schedule, so for at most one slot's worth of calls the rate starts afresh, and
loses no delivery. With Redis unreachable nothing is sent (the rate cannot be held) and the
deliveries wait, pending, for it to come back."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "routing:api-destination-rate:"
# Seconds a delivery waits before trying again when Redis cannot be asked.
REDIS_DOWN_RETRY_SECONDS = 1.0

_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
local wait = slot - now
if wait > max_wait then
  return {0, wait}
end
local keep_ms = math.floor((wait + interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', keep_ms)
return {1, wait}
"""

_local = threading.local()


@dataclass(frozen=True)
class Slot:
    granted: bool
    wait_seconds: float


def _client() -> redis.Redis:
    client: redis.Redis | None = getattr(_local, "client", None)
    if client is None or getattr(_local, "url", None) != settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0,
                                      socket_connect_timeout=1.0)
        _local.client, _local.url = client, settings.REDIS_URL
    return client


def slot_take(bucket: str, *, rate_per_second: int, max_wait_seconds: float) -> Slot:
    """The next free slot of `bucket` if it comes within `max_wait_seconds` (then it is taken,
    and the caller waits `wait_seconds` before calling); else granted=False and how long until
    the next slot would be free. Redis unreachable: not granted, try again in a second."""
    interval_us = max(1, round(1_000_000 / max(rate_per_second, 1)))
    try:
        granted, wait_us = _client().eval(_SCRIPT, 1, KEY_PREFIX + bucket, interval_us,
                                          round(max_wait_seconds * 1_000_000))
    except redis.RedisError as error:
        logger.warning("API destination rate limit: Redis unreachable (%s); deferring", error)
        return Slot(False, REDIS_DOWN_RETRY_SECONDS)
    return Slot(bool(granted), int(wait_us) / 1_000_000)
