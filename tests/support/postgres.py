"""A private PostgreSQL for fault tests: its own data directory and free port, so that stopping
it hurts no one. initdb and the server refuse to run as root, so they run as `postgres`."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from coffeeshop.embedded_redis import free_tcp_port

SERVER_USER = "postgres"


def _as_server_user() -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.directory = Path(tempfile.mkdtemp(prefix="coffeeshop-pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "server.log"
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.directory, account.pw_uid, account.pw_gid)

    def url(self, database: str = "coffeeshop") -> str:
        return f"postgres://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        result = subprocess.run(command, preexec_fn=_as_server_user, capture_output=True,
                                text=True, timeout=120, cwd=self.directory, check=False)
        if result.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}\n"
                               f"{log[-3000:]}")

    def init(self) -> PrivatePostgres:
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.directory} -c fsync=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are cut, as when the server is restarted."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str = "coffeeshop") -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER, name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                           preexec_fn=_as_server_user, capture_output=True, timeout=60,
                           check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
