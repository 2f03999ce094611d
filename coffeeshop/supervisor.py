"""The process layout of `make run`: every process of the Procfile, each restarted when it dies.

A child that exits while the runner is not stopping is started again after a back-off (1 s,
then 2, 4 ... up to 30 s while it keeps dying quickly; back to 1 s once it has stayed up for a
minute), and the runner says so on its output. Each child runs in a process group of its own,
so that what it started (Celery's pool processes, say) is cleaned up with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from honcho.environ import parse_procfile


@dataclass(frozen=True)
class RestartPolicy:
    initial_seconds: float = 1.0
    factor: float = 2.0
    maximum_seconds: float = 30.0
    # A child that stayed up this long had recovered: its next crash starts the back-off again.
    stable_after_seconds: float = 60.0

    def delay(self, quick_crashes: int) -> float:
        """Seconds to wait before the restart that follows `quick_crashes` crashes in a row."""
        exponent = max(0, quick_crashes - 1)
        return float(min(self.maximum_seconds, self.initial_seconds * self.factor ** exponent))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class Child:
    name: str
    command: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_crashes: int = 0
    restart_at: float | None = None
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, procfile: Path, *, cwd: Path, out: TextIO = sys.stdout,
                 policy: RestartPolicy | None = None,
                 preexec: Callable[[], None] | None = None) -> None:
        processes = parse_procfile(procfile.read_text()).processes
        self.children = [Child(name, command) for name, command in processes.items()]
        self.cwd = cwd
        self.out = out
        self.policy = policy or RestartPolicy()
        self.preexec = preexec
        self.stopping = threading.Event()
        self._print_lock = threading.Lock()
        self._width = max(len(child.name) for child in [*self.children, Child("runner", "")])

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {line}\n")
            self.out.flush()

    def _spawn(self, child: Child) -> None:
        # Through the shell, as honcho does: the Procfile's ${PORT:-8000} defaults need it.
        # `exec`, so that the pid is the program's own: a signal to it (or the kernel's
        # parent-death signal) reaches the program, not a shell that would leave it behind.
        child.process = subprocess.Popen(  # noqa: S602 (our own Procfile's commands)
            f"exec {child.command}", shell=True, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=self.preexec,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        reader = threading.Thread(target=self._relay, args=(child, child.process), daemon=True,
                                  name=f"output-{child.name}")
        reader.start()
        child.readers.append(reader)
        self.say("runner", f"started {child.name} (pid {child.process.pid})")

    def _relay(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.say(child.name, raw.decode(errors="replace").rstrip("\n"))

    def _clean_group(self, process: subprocess.Popen[bytes]) -> None:
        # The child's own processes (pool workers) must not outlive it into its successor.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def _on_exit(self, child: Child, now: float) -> None:
        assert child.process is not None
        returncode = child.process.returncode
        self._clean_group(child.process)
        uptime = now - child.started_at
        child.quick_crashes = 1 if uptime >= self.policy.stable_after_seconds else (
            child.quick_crashes + 1)
        delay = self.policy.delay(child.quick_crashes)
        child.restarts += 1
        child.restart_at = now + delay
        child.process = None
        self.say("runner", f"{child.name} {describe_exit(returncode)} after {uptime:.0f} s; "
                           f"restarting it in {delay:g} s (restart {child.restarts})")

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def run(self, tick: float = 0.2) -> None:
        """Watches the children until `stopping` is set, then stops them all."""
        while not self.stopping.is_set():
            now = time.monotonic()
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    self._on_exit(child, now)
                elif child.process is None and child.restart_at is not None \
                        and now >= child.restart_at:
                    self._spawn(child)
            self.stopping.wait(tick)
        self.stop_all()

    def running(self) -> bool:
        return any(child.process is not None and child.process.poll() is None
                   for child in self.children)

    def stop_all(self, timeout: float = 30.0) -> None:
        alive = [child.process for child in self.children
                 if child.process is not None and child.process.poll() is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in alive:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("runner", f"pid {process.pid} did not stop in {timeout:g} s; killing it")
            self._clean_group(process)
            process.wait()
        for child in self.children:
            for reader in child.readers:
                reader.join(2)
