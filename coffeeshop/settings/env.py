"""Small readers for configuration taken from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime files (SQLite database, beat schedule, the embedded Redis URL); never committed.
VAR_DIR = Path(os.environ.get("COFFEESHOP_VAR_DIR") or BASE_DIR / "var")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from "Header-Name: value" ("" for none)."""
    if not raw.strip():
        return None
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={raw!r} is not 'Header-Name: value' "
            "(for example 'X-Forwarded-Proto: https'), or empty for none"
        )
    meta_name = "HTTP_" + name.strip().upper().replace("-", "_")
    return meta_name, value.strip()


def default_sqlite_url() -> str:
    return f"sqlite:///{VAR_DIR / 'db.sqlite3'}"


def database_config(url: str) -> dict[str, Any]:
    """DATABASES['default'] for a DATABASE_URL, tuned for several processes sharing it."""
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_health_checks=True))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Web, worker and beat write to one file: WAL lets readers and a writer overlap, and
        # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # Opening a connection costs more than most requests' queries: keep them.
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    elif env_bool("DATABASE_POOL", True):
        # Under ASGI each request runs in a thread of its own, so per-thread persistent
        # connections never get reused: a process-wide pool hands one out in microseconds
        # instead of opening a new PostgreSQL connection for every request.
        config["CONN_MAX_AGE"] = 0
        # With a pool, Django hands this to psycopg_pool as `check=check_connection`: a
        # connection the server dropped (restart, failover) is replaced on checkout, so a
        # request never gets one that is already dead.
        config["CONN_HEALTH_CHECKS"] = True
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2))
        options["pool"] = {
            "min_size": 1, "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8),
            # While the database is unreachable a request waits this long for a connection,
            # then fails and is answered 503 (coffeeshop.unavailable): within 2 s in all.
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 1.5),
        }
    else:
        config.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2))
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    return config


def redis_url() -> str:
    """REDIS_URL, else the embedded Redis a running `make run` advertises, else localhost."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    advertised = VAR_DIR / "embedded-redis.url"
    if advertised.exists():
        return advertised.read_text().strip()
    return "redis://127.0.0.1:6379/0"
