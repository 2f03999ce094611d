"""The bus's quotas, like EventBridge's and configurable in settings: PutEvents requests per second
for each outside caller on each bus (a token bucket shared by every web process, in Redis), rules
per bus, targets per rule, characters of a rule's event pattern.

The rate limit protects the bus; it must never cost a publish: when Redis cannot be reached the
request is let through (and the outage logged), because the database, not Redis, is the truth."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

import redis
from django.conf import settings

from routing.errors import RoutingError
from routing.publishers import Publisher

logger = logging.getLogger(__name__)

KEY_PREFIX = "routing:quota:put-events:"
# A publish waits at most this long for Redis before it goes ahead unthrottled.
REDIS_TIMEOUT_SECONDS = 0.25
# After a failure, Redis is not asked again for this long (each publish would wait otherwise).
REDIS_RETRY_AFTER_SECONDS = 5.0


class Throttled(RoutingError):
    """EventBridge's protocol answers it with HTTP 400 (routing/aws/errors.py); the REST API
    with 429, which HTTP clients know to back off from."""

    code = "ThrottlingException"
    http_status = 429


@dataclass(frozen=True)
class Quotas:
    put_events_per_second: float  # 0: no limit
    put_events_burst: int
    rules_per_bus: int
    targets_per_rule: int
    pattern_characters: int


def quotas() -> Quotas:
    rate = float(settings.ROUTING_PUT_EVENTS_PER_SECOND)
    return Quotas(
        put_events_per_second=rate,
        put_events_burst=int(settings.ROUTING_PUT_EVENTS_BURST or max(1, int(rate))),
        rules_per_bus=int(settings.ROUTING_MAX_RULES_PER_BUS),
        targets_per_rule=int(settings.ROUTING_MAX_TARGETS_PER_RULE),
        pattern_characters=int(settings.ROUTING_MAX_PATTERN_LENGTH),
    )


# Takes one token from every bucket named in KEYS, or from none if any is empty (so a refused
# request costs nothing). Redis's own clock keeps every web process on one time.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local levels = {}
for i, key in ipairs(KEYS) do
  local saved = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(saved[1]) or burst
  local at = tonumber(saved[2]) or now
  levels[i] = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
  if levels[i] < 1 then return 0 end
end
local ttl = math.ceil(burst / rate * 1000) + 1000
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', levels[i] - 1, 'at', now)
  redis.call('PEXPIRE', key, ttl)
end
return 1
"""


class _Buckets:
    """One Redis client per process, made on first use (no settings read at import time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._url = ""
        self._down_until = 0.0

    def _redis(self) -> redis.Redis:
        with self._lock:
            if self._client is None or self._url != settings.REDIS_URL:
                if self._client is not None:
                    self._client.close()
                self._url = settings.REDIS_URL
                self._client = redis.Redis.from_url(
                    self._url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            return self._client

    def take(self, keys: list[str], *, rate: float, burst: int) -> bool:
        if time.monotonic() < self._down_until:
            return True
        try:
            client = self._redis()
            return bool(client.eval(_TAKE, len(keys), *keys, rate, burst))
        except redis.RedisError as error:
            self._down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
            logger.warning("PutEvents quota not enforced for %.0f s: Redis failed (%s: %s)",
                           REDIS_RETRY_AFTER_SECONDS, type(error).__name__, error)
            return True


_buckets = _Buckets()


def put_events_throttle(*, publisher: Publisher, bus_names: Collection[str]) -> None:
    """Throttled when this outside caller has used up its PutEvents requests per second on one
    of the buses the request sends to. The project's own publishers are not limited."""
    limits = quotas()
    if limits.put_events_per_second <= 0 or not publisher.is_credential or not bus_names:
        return
    keys = [f"{KEY_PREFIX}{publisher.kind.value}:{publisher.reference}:{name}"
            for name in sorted(set(bus_names))]
    if not _buckets.take(keys, rate=limits.put_events_per_second,
                         burst=limits.put_events_burst):
        raise Throttled("Rate exceeded", field="Entries")
