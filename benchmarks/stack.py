"""The stack a benchmark runs against: a fresh database, Redis, uvicorn and one Celery worker,
started as real processes in a temporary directory and torn down on exit.

A SQLite file unless BENCH_DATABASE_URL is set (a PostgreSQL database the bench may empty); an
embedded Redis unless BENCH_REDIS_URL is set (a Redis database the bench flushes). The web tier
runs `benchmarks.settings`: the shop's own settings plus the bench-only baseline views, which
production's URLconf never has."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

from coffeeshop.embedded_redis import EmbeddedRedis, free_tcp_port
from coffeeshop.run import usable_cores
from coffeeshop.settings.env import BASE_DIR

SETTINGS_MODULE = "benchmarks.settings"


def default_web_workers() -> int:
    """What `make run` starts: one web process per usable core."""
    return usable_cores()


class Stack:
    """uvicorn (`web_workers` processes) + a Celery worker on a fresh database and Redis."""

    def __init__(self, workdir: Path, *, web_workers: int = 1,
                 extra_env: dict[str, str] | None = None,
                 worker_args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.web_workers = web_workers
        self.worker_args = worker_args
        self.extra_env = extra_env or {}
        self.redis: EmbeddedRedis | None = None
        self.processes: list[object] = []
        self.port = free_tcp_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        from tests.support.processes import ManagedProcess

        redis_url = os.environ.get("BENCH_REDIS_URL")
        if not redis_url:
            self.redis = EmbeddedRedis().start()
            redis_url = self.redis.url
        self.redis_url = redis_url
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{self.workdir}/bench.db"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "COFFEESHOP_VAR_DIR": str(self.workdir),
            "PYTHONPATH": str(BASE_DIR),
            # The slow-webhook figure points a webhook at a server on this machine.
            "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
            **self.extra_env,
        }
        os.environ.update({k: self.env[k] for k in
                           ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL",
                            "COFFEESHOP_VAR_DIR", "DEBUG",
                            "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES")})
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        client.close()
        subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v", "0"],
                       env=self.env, check=True)
        import django

        django.setup()
        from django.db import connection

        from benchmarks.urls import create_ceiling_table

        # Before the server starts: a SQLite connection opened before a table was created
        # may not see it.
        create_ceiling_table()
        connection.close()
        web = ManagedProcess("bench-web", [
            sys.executable, "-m", "uvicorn", "coffeeshop.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            "--log-level", "warning", "--workers", str(self.web_workers),
        ], self.env)
        worker = ManagedProcess("bench-worker", [
            sys.executable, "-m", "celery", "-A", "coffeeshop", "worker", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--include", "benchmarks.handlers",
            *self.worker_args,
        ], self.env)
        for process in (web, worker):
            process.start()
            self.processes.append(process)
        self._wait_for_web()
        return self

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return  # it answered (503 until the worker is up is fine)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the ASGI server did not start")

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.stop()  # type: ignore[attr-defined]
        if self.redis is not None:
            self.redis.stop()
