"""What the benchmark's worker runs: a no-op bus handler and a bare no-op Celery task, each
recording how long after its publication it ran."""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import shared_task
from django.conf import settings

from routing.handlers import HandlerContext, register_handler

RECEIVED_KEY = "bench:received"
_client: redis.Redis | None = None


def _record(sent_at: float) -> None:
    global _client
    now = time.time()
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    _client.rpush(RECEIVED_KEY, f"{sent_at!r},{now!r}")


@register_handler("bench.noop")
def noop_handler(payload: Any, context: HandlerContext) -> None:
    _record(float(payload["detail"]["sentAt"]))


@shared_task(name="bench.noop_task", ignore_result=True)
def noop_task(sent_at: float) -> None:
    _record(sent_at)
