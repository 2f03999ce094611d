"""Liveness of the three things every request and task depends on: database, Redis, a worker.

Each check runs in a thread of its own with a deadline, all at once, so a hung database or broker
costs /healthz at most HEALTH_CHECK_TIMEOUT, never the driver's own (much longer) time-outs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import redis
from django.conf import settings
from django.db import connection

Status = Literal["ok", "down"]
Check = tuple[Status, str]


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means the database is unusable
        return "down", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def check_redis(url: str | None = None, timeout: float = 1.0) -> Check:
    client = redis.Redis.from_url(
        url or settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return "down", f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return "ok", ""


def check_workers(timeout: float | None = None) -> Check:
    from coffeeshop.celery import app

    try:
        replies = app.control.ping(timeout=timeout or settings.HEALTH_WORKER_PING_TIMEOUT, limit=1)
    except Exception as exc:  # kombu raises several connection error types
        return "down", f"{type(exc).__name__}: {exc}"
    if not replies:
        return "down", "no Celery worker answered a ping"
    return "ok", ""


def _database_in_own_thread() -> Check:
    # The connection this opens belongs to the checking thread, which ends here: close it.
    try:
        return check_database()
    finally:
        connection.close()


def _redis_then_workers(results: dict[str, Check], include_workers: bool) -> None:
    budget = settings.HEALTH_CHECK_TIMEOUT
    started = time.monotonic()
    results["redis"] = check_redis(timeout=budget / 2)
    if not include_workers:
        return
    if results["redis"][0] == "ok":
        # Leave the ping's own "nobody answered" time to be reported before the deadline.
        left = budget - (time.monotonic() - started) - 0.2
        results["worker"] = check_workers(
            timeout=max(0.05, min(settings.HEALTH_WORKER_PING_TIMEOUT, left)))
    else:
        results["worker"] = ("down", "the broker (Redis) is down")


def _run_with_deadline(jobs: dict[str, Callable[[dict[str, Check]], None]],
                       names: list[str], timeout: float) -> dict[str, Check]:
    results: dict[str, Check] = {}
    threads = [threading.Thread(target=job, args=(results,), daemon=True,
                                name=f"healthz-{label}") for label, job in jobs.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        # A thread that misses the deadline is left to finish (or hang) on its own: daemon
        # threads never hold the process up, and its late answer is simply not read.
        thread.join(max(0.0, deadline - time.monotonic()))
    snapshot = dict(results)
    for name in names:
        snapshot.setdefault(name, ("down", f"no answer within {timeout:g} s"))
    return snapshot


def health_report(*, include_workers: bool = True) -> dict[str, object]:
    """{"database": "ok", "redis": "ok", "worker": "ok", "healthy": true, "errors": {...}}."""
    names = ["database", "redis"] + (["worker"] if include_workers else [])

    def database(results: dict[str, Check]) -> None:
        results["database"] = _database_in_own_thread()

    def broker(results: dict[str, Check]) -> None:
        _redis_then_workers(results, include_workers)

    checks = _run_with_deadline({"database": database, "broker": broker}, names,
                                settings.HEALTH_CHECK_TIMEOUT)
    report: dict[str, object] = {name: checks[name][0] for name in names}
    errors = {name: error for name, (status, error) in checks.items() if status != "ok"}
    report["healthy"] = not errors
    if errors:
        report["errors"] = errors
    return report


def health_report_from_any_thread(*, include_workers: bool = True) -> dict[str, object]:
    """health_report for a throwaway thread (a slow check must not stall Django's shared sync
    thread). The checks run in threads of their own, so this thread opens no connection."""
    return health_report(include_workers=include_workers)
