"""Real processes for integration tests: a Celery worker and an ASGI server, on the test database
and the suite's Redis, each started fresh and stopped (and waited for) by its fixture."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.db import connection

from coffeeshop.embedded_redis import die_with_parent, free_tcp_port
from coffeeshop.settings.env import BASE_DIR


def database_url_of_test_database() -> str:
    """The URL child processes use to reach the database this test session created."""
    settings_dict: dict[str, Any] = connection.settings_dict
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    if engine == "django.db.backends.postgresql":
        user = settings_dict.get("USER") or ""
        password = settings_dict.get("PASSWORD") or ""
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"no child-process URL for database engine {engine}")


def child_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="coffeeshop.settings.test",
        DATABASE_URL=database_url_of_test_database(),
        PYTHONPATH=str(BASE_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class ManagedProcess:
    """A child process whose output goes to a log file that failures can show."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix=f"coffeeshop-{name}-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return Path(self.log_file.name).read_text(errors="replace")

    def fail(self, reason: str) -> None:
        self.stop()
        raise RuntimeError(f"{self.name} {reason}; its log:\n{self.log()[-6000:]}")

    def kill_hard(self) -> None:
        """SIGKILL the process and every child it has: no cleanup code runs anywhere."""
        import psutil

        assert self.process is not None
        family = [psutil.Process(self.process.pid)]
        family += family[0].children(recursive=True)
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        psutil.wait_procs(family, timeout=10)
        self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


class CeleryWorker(ManagedProcess):
    def __init__(
        self,
        *,
        concurrency: int = 2,
        # Both of the Procfile's queues in one process, unless a test means to separate them.
        queues: str | None = "celery,retries",
        with_beat: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        command = [
            sys.executable, "-m", "celery", "-A", "coffeeshop", "worker",
            "--hostname", self.hostname,
            "--pool", "prefork", "--concurrency", str(concurrency),
            "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
            "--include", "tests.integration.worker_tasks",
        ]
        if queues:
            command += ["--queues", queues]
        if with_beat:
            # Beat inside the worker: the sweeper and the other periodic tasks run too.
            schedule = Path(tempfile.mkdtemp(prefix="coffeeshop-beat-")) / "schedule"
            command += ["--beat", "--schedule", str(schedule)]
        super().__init__("celery-worker", command, child_environment(**(env or {})))

    def start_and_wait(self, timeout: float = 60.0) -> CeleryWorker:
        from coffeeshop.celery import app

        return self.start_and_wait_on(app, timeout)

    def start_and_wait_on(self, app: Any, timeout: float = 60.0) -> CeleryWorker:
        """Starts the worker and waits for its answer to a ping sent through `app` (the
        broker it listens on)."""
        self.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                self.fail("exited while starting")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.fail(f"did not answer a ping within {timeout:.0f}s")
        raise AssertionError("unreachable")


class AsgiServer(ManagedProcess):
    def __init__(self, port: int | None = None, *, env: dict[str, str] | None = None) -> None:
        """`port`: another server's, to restart it where its pages reconnect; `env`: variables
        that differ from the suite's (a private database, settings of its own such as quotas)."""
        self.port = port or free_tcp_port()
        command = [
            sys.executable, "-m", "uvicorn", "coffeeshop.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log", "--timeout-graceful-shutdown", "2",
        ]
        super().__init__("asgi-server", command, child_environment(**(env or {})))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start_and_wait(self, timeout: float = 60.0) -> AsgiServer:
        self.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                self.fail("exited while starting")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # it answered: the server is up
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.fail(f"did not answer HTTP within {timeout:.0f}s")
        raise AssertionError("unreachable")
