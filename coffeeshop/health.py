"""Liveness of the three things every request and task depends on: database, Redis, a worker."""

from __future__ import annotations

from typing import Literal

import redis
from django.conf import settings
from django.db import connection

Status = Literal["ok", "down"]


def check_database() -> tuple[Status, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means the database is unusable
        return "down", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def check_redis(url: str | None = None) -> tuple[Status, str]:
    client = redis.Redis.from_url(
        url or settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return "down", f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return "ok", ""


def check_workers(timeout: float | None = None) -> tuple[Status, str]:
    from coffeeshop.celery import app

    try:
        replies = app.control.ping(timeout=timeout or settings.HEALTH_WORKER_PING_TIMEOUT, limit=1)
    except Exception as exc:  # kombu raises several connection error types
        return "down", f"{type(exc).__name__}: {exc}"
    if not replies:
        return "down", "no Celery worker answered a ping"
    return "ok", ""


def health_report(*, include_workers: bool = True) -> dict[str, object]:
    """{"database": "ok", "redis": "ok", "worker": "ok", "healthy": true, "errors": {...}}."""
    checks: dict[str, tuple[Status, str]] = {
        "database": check_database(),
        "redis": check_redis(),
    }
    if include_workers:
        if checks["redis"][0] == "ok":
            checks["worker"] = check_workers()
        else:
            checks["worker"] = ("down", "the broker (Redis) is down")
    report: dict[str, object] = {name: status for name, (status, _) in checks.items()}
    errors = {name: error for name, (status, error) in checks.items() if status != "ok"}
    report["healthy"] = not errors
    if errors:
        report["errors"] = errors
    return report


def health_report_from_any_thread(*, include_workers: bool = True) -> dict[str, object]:
    """health_report for a throwaway thread (a slow worker ping must not stall Django's shared
    sync thread); the database connection it opens belongs to that thread, so it is closed."""
    try:
        return health_report(include_workers=include_workers)
    finally:
        connection.close()
