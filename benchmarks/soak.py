"""`make soak`: the bus under a stream of events while its parts fail, one fault after another.

    python -m benchmarks.soak [--short] [--rate 20]

It starts its own PostgreSQL (initdb as the `postgres` user, on a free port) and Redis (on a free
port), runs `migrate`, then the processes of the Procfile under production settings, restarting
any that exits (as a process supervisor would). Publishers send a steady stream of events over
the HTTP API to one rule with two targets: a webhook on a local receiver that answers 503 for
its first 30 s, and a handler that appends each call to a file. Then, in sequence: a worker
SIGKILLed, Redis FLUSHALL, Redis SIGKILLed and restarted, PostgreSQL restarted, PostgreSQL
stopped for 15 s. After each fault it measures the recovery time: from the fault's end until an
event published after it has reached both targets. It ends with one line of figures and exits
non-zero if anything was lost or stuck. `--short` (under a minute: two faults) is what
tests/integration/test_soak.py runs; the full run takes about seven minutes and at most ten.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from coffeeshop.embedded_redis import die_with_parent, free_tcp_port, redis_server_binary
from coffeeshop.settings.env import BASE_DIR

SOURCE = "soak"
WEBHOOK_PATH = "/hook"


@dataclass(frozen=True)
class Plan:
    rate: float  # events per second
    receiver_fails_for: float
    publish_for: float
    # (seconds after the stream starts, fault name)
    faults: tuple[tuple[float, str], ...]
    drain_for: float
    recovery_limit: float
    env: tuple[tuple[str, str], ...] = ()


FULL = Plan(rate=20, receiver_fails_for=30, publish_for=300, drain_for=120, recovery_limit=45,
            faults=((40, "worker-kill"), (90, "redis-flushall"), (140, "redis-kill"),
                    (190, "postgres-restart"), (240, "postgres-stop-15s")))
# Lost queue messages are re-sent after the sweeper's grace (30 s by default): shorter here,
# so that the short run drains within its minute.
SHORT = Plan(rate=5, receiver_fails_for=5, publish_for=40, drain_for=30, recovery_limit=30,
             faults=((8, "worker-kill"), (25, "redis-flushall")),
             env=(("ROUTING_SWEEP_GRACE_SECONDS", "10"),))


def _log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _as_postgres(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """PostgreSQL refuses to run as root: its tools run as `postgres` when we are root."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"no PostgreSQL {name} found (install postgresql)")
    return str(candidates[-1])


class Postgres:
    def __init__(self, workdir: Path) -> None:
        self.port = free_tcp_port()
        self.data = workdir / "pgdata"
        self.log = workdir / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/soak"

    def start(self) -> None:
        if not self.data.exists():
            self.data.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil.chown(self.data, "postgres")
                shutil.chown(self.data.parent, "postgres")
            _as_postgres([_pg_binary("initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync"])
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=200")
        _as_postgres([_pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                      "-o", options, "-w", "-t", "60", "start"])

    def create_database(self) -> None:
        _as_postgres([_pg_binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", "postgres", "soak"])

    def stop(self, mode: str = "fast") -> None:
        _as_postgres([_pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                      "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_tcp_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.client_ok():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def client_ok(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_timeout=0.5)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def flushall(self) -> None:
        import redis

        client = redis.Redis(port=self.port)
        client.flushall()
        client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@dataclass
class Supervised:
    name: str
    command: str
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0


class Processes:
    """The Procfile's processes, each restarted a second after it exits."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.members: list[Supervised] = []
        self.stopping = False
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        for line in (BASE_DIR / "Procfile").read_text().splitlines():
            name, _, command = line.partition(":")
            if not command.strip():
                continue
            if " worker " in f" {command} ":
                # The soak's handler lives in a module of its own, like the benchmark's.
                command += " --include benchmarks.soak_handlers"
            member = Supervised(name.strip(), command.strip())
            self.members.append(member)
            self._spawn(member)
        self._thread.start()

    def _spawn(self, member: Supervised) -> None:
        log = (self.workdir / f"{member.name}.log").open("ab")
        member.process = subprocess.Popen(
            ["sh", "-c", f"exec {member.command}"], cwd=BASE_DIR, env=self.env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent, start_new_session=True,
        )

    def _watch(self) -> None:
        while not self.stopping:
            for member in self.members:
                if member.process is not None and member.process.poll() is not None:
                    _log(f"{member.name} exited ({member.process.returncode}); restarting it")
                    time.sleep(1)
                    if self.stopping:
                        return
                    member.restarts += 1
                    self._spawn(member)
            time.sleep(0.5)

    def kill_hard(self, name: str) -> None:
        """SIGKILL the process and its children (the Celery pool) at once."""
        member = next(m for m in self.members if m.name == name)
        assert member.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(member.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.stopping = True
        for member in self.members:
            if member.process is not None and member.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(member.process.pid, signal.SIGTERM)
        for member in self.members:
            if member.process is None:
                continue
            try:
                member.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(member.process.pid, signal.SIGKILL)
                member.process.wait()


class Receiver:
    """The webhook's receiver: 503 until `fails_until`, then 200; counts every request."""

    def __init__(self) -> None:
        self.fails_until = float("inf")
        self.lock = threading.Lock()
        self.keys: Counter[str] = Counter()
        self.events: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                ok = time.monotonic() >= receiver.fails_until
                if ok:
                    with receiver.lock:
                        receiver.keys[self.headers.get("Idempotency-Key", "")] += 1
                        receiver.events.setdefault(self.headers.get("X-Coffeeshop-Event-Id", ""),
                                                   time.monotonic())
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_tcp_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{WEBHOOK_PATH}"


def handler_calls(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()  # type: ignore[misc]
            if " " in line]


@dataclass
class Stream:
    """Publishers over the HTTP API at a steady rate; what was accepted and what was refused."""

    url: str
    key: str
    rate: float
    accepted: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: bool = False

    def publish(self, detail: dict[str, object], timeout: float = 5.0) -> list[str]:
        body = json.dumps({"Entries": [{"Source": SOURCE, "DetailType": "Soak.Tick",
                                        "Detail": json.dumps(detail)}]}).encode()
        request = urllib.request.Request(  # noqa: S310 (our own server)
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            kind = str(error.code)
            if "json" not in (error.headers.get("Content-Type") or ""):
                kind += " (not JSON)"
            self._error(kind)
            return []
        except (OSError, ValueError) as error:
            self._error("timeout" if "timed out" in str(error) else "connection")
            return []
        ids = [entry["EventId"] for entry in answer.get("Entries", []) if "EventId" in entry]
        if len(ids) < len(answer.get("Entries", [])):
            self._error("entry failed")
        return ids

    def _error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1

    def run(self, threads: int = 4) -> list[threading.Thread]:
        counter = iter(range(10**9))
        started = time.monotonic()

        def send() -> None:
            while not self.stopping:
                with self.lock:
                    n = next(counter)
                delay = started + n / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ids = self.publish({"n": n})
                with self.lock:
                    self.accepted.extend(ids)

        senders = [threading.Thread(target=send, daemon=True) for _ in range(threads)]
        for sender in senders:
            sender.start()
        return senders


@dataclass
class Figures:
    published: int
    stored: int
    delivered_distinct: int
    expected: int
    duplicates: int
    lost: int
    stuck: int
    errors: dict[str, int]
    recovery: list[tuple[str, float | None]]
    restarts: dict[str, int]

    def line(self) -> str:
        errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.errors.items())) or "none"
        recovery = ", ".join(
            f"{name} {f'{seconds:.1f} s' if seconds is not None else 'NOT recovered'}"
            for name, seconds in self.recovery)
        restarts = ", ".join(f"{name} {n}x" for name, n in self.restarts.items() if n) or "none"
        return (f"soak: published {self.published}, stored {self.stored}, delivered distinct "
                f"{self.delivered_distinct}/{self.expected}, duplicates {self.duplicates}, "
                f"lost {self.lost}, stuck {self.stuck}, publisher errors {{{errors}}}, "
                f"recovery: {recovery}; restarted: {restarts}")

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.stuck == 0
                and all(seconds is not None for _, seconds in self.recovery))


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class Soak:
    def __init__(self, plan: Plan, rate: float | None, workdir: Path) -> None:
        self.plan = plan
        self.rate = rate or plan.rate
        self.workdir = workdir
        self.postgres = Postgres(workdir)
        self.redis = Redis(workdir)
        self.receiver = Receiver()
        self.handler_log = workdir / "handler-calls.log"
        self.web_port = free_tcp_port()

    def environment(self) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        return {
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "coffeeshop.settings.production",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "PORT": str(self.web_port),
            "HOST": "127.0.0.1",
            "COFFEESHOP_VAR_DIR": str(self.workdir / "var"),
            "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
            "SOAK_HANDLER_LOG": str(self.handler_log),
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONUNBUFFERED": "1",
            **dict(self.plan.env),
        }

    @contextlib.contextmanager
    def stack(self) -> Iterator[Processes]:
        self.postgres.start()
        processes: Processes | None = None
        try:
            self.postgres.create_database()
            self.redis.start()
            env = self.environment()
            os.environ.update({k: env[k] for k in (
                "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
                "DATABASE_URL", "REDIS_URL", "COFFEESHOP_VAR_DIR",
                "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "SOAK_HANDLER_LOG")})
            (self.workdir / "var").mkdir(exist_ok=True)
            subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v", "0"],
                           env=env, check=True)
            processes = Processes(env, self.workdir)
            processes.start()
            yield processes
        finally:
            if processes is not None:
                processes.stop()
            self.redis.kill()
            with contextlib.suppress(subprocess.CalledProcessError):
                self.postgres.stop("immediate")

    def setup_bus(self) -> str:
        import django

        django.setup()
        import benchmarks.soak_handlers  # registers the handler in this process too
        from routing.services import Actor, TargetSpec, bus_ensure_default, rule_put, targets_put
        from routing.services.apikeys import apikey_create

        bus_ensure_default()
        actor = Actor.system("soak")
        rule = rule_put(bus_name="default", name="soak", actor=actor,
                        event_pattern={"source": [SOURCE]})
        failures = targets_put(rule=rule, actor=actor, targets=[
            TargetSpec("hook", "webhook", self.receiver.url, webhook_timeout_seconds=2.0),
            TargetSpec("handler", "handler", benchmarks.soak_handlers.HANDLER_NAME),
        ])
        if failures:
            raise RuntimeError(f"could not create the soak's targets: {failures}")
        _, key = apikey_create(name=f"soak-{time.time_ns()}")
        from django.db import connections

        connections.close_all()
        return key

    def delivered_to_both(self, event_id: str) -> bool:
        with self.receiver.lock:
            on_hook = event_id in self.receiver.events
        return on_hook and any(seen == event_id for seen, _ in handler_calls(self.handler_log))

    def recovery_after(self, stream: Stream, fault: str, ended_at: float) -> float | None:
        """From the fault's end until an event published after it reached both targets."""
        deadline = ended_at + self.plan.recovery_limit
        probe: list[str] = []
        while not probe and time.monotonic() < deadline:
            probe = stream.publish({"probe": fault}, timeout=2.0)
            if not probe:
                time.sleep(0.2)
        if probe and _wait(lambda: self.delivered_to_both(probe[0]),
                           deadline - time.monotonic()):
            return time.monotonic() - ended_at
        return None

    def inject(self, fault: str, processes: Processes) -> float:
        """Injects the fault; returns when it ended (the moment the part was back)."""
        _log(f"fault: {fault}")
        if fault == "worker-kill":
            processes.kill_hard("worker")
        elif fault == "redis-flushall":
            self.redis.flushall()
        elif fault == "redis-kill":
            self.redis.kill()
            time.sleep(2)
            self.redis.start()
        elif fault == "postgres-restart":
            self.postgres.restart()
        elif fault == "postgres-stop-15s":
            self.postgres.stop()
            time.sleep(15)
            self.postgres.start()
        else:
            raise ValueError(fault)
        return time.monotonic()

    def run(self) -> Figures:
        with self.stack() as processes:
            key = self.setup_bus()
            web = f"http://127.0.0.1:{self.web_port}"
            if not _wait(lambda: _answers(f"{web}/healthz"), 90, 0.5):
                raise RuntimeError(f"the web process did not come up; logs in {self.workdir}")
            stream = Stream(f"{web}/api/events", key, self.rate)
            if not _wait(lambda: bool(stream.publish({"warm": True})), 60, 0.5):
                raise RuntimeError(f"publishing never worked; logs in {self.workdir}")
            stream.errors.clear()
            started = time.monotonic()
            self.receiver.fails_until = started + self.plan.receiver_fails_for
            senders = stream.run()
            _log(f"publishing {self.rate:g} events/s; the receiver fails for "
                 f"{self.plan.receiver_fails_for:g} s")
            recovery: list[tuple[str, float | None]] = []
            for at, fault in self.plan.faults:
                time.sleep(max(0.0, started + at - time.monotonic()))
                ended = self.inject(fault, processes)
                seconds = self.recovery_after(stream, fault, ended)
                _log(f"{fault}: recovered in {seconds:.1f} s" if seconds is not None
                     else f"{fault}: NOT recovered within {self.plan.recovery_limit:g} s")
                recovery.append((fault, seconds))
            time.sleep(max(0.0, started + self.plan.publish_for - time.monotonic()))
            stream.stopping = True
            for sender in senders:
                sender.join(10)
            _log(f"stopped publishing ({len(stream.accepted)} accepted); draining")
            accepted = set(stream.accepted)
            figures_now = lambda: self.figures(stream, accepted, recovery, processes)  # noqa: E731
            _wait(lambda: figures_now().stuck == 0 and figures_now().lost == 0,
                  self.plan.drain_for, 1.0)
            return figures_now()

    def figures(self, stream: Stream, accepted: set[str],
                recovery: list[tuple[str, float | None]], processes: Processes) -> Figures:
        from django.db import close_old_connections

        from routing.models import Delivery, DeliveryStatus, Event, PendingRoute

        close_old_connections()
        probes_and_stream = accepted
        stored = set(map(str, Event.objects.filter(source=SOURCE).values_list("pk", flat=True)))
        with self.receiver.lock:
            hook_keys = Counter(self.receiver.keys)
            hook_events = set(self.receiver.events)
        calls = handler_calls(self.handler_log)
        handler_keys = Counter(key for _, key in calls)
        handler_events = {event for event, _ in calls}
        unfinished = Delivery.objects.filter(
            event__source=SOURCE, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RUNNING])
        stuck = unfinished.count() + PendingRoute.objects.filter(event__source=SOURCE).count()
        delivered = (len(probes_and_stream & hook_events) + len(probes_and_stream & handler_events))
        expected = 2 * len(probes_and_stream)
        in_progress = {str(e) for e in unfinished.values_list("event_id", flat=True)} | {
            str(e) for e in PendingRoute.objects.filter(event__source=SOURCE)
            .values_list("event_id", flat=True)}
        lost = sum(1 for event in probes_and_stream for seen in (hook_events, handler_events)
                   if event not in seen and event not in in_progress)
        lost += len(probes_and_stream - stored)
        duplicates = (sum(hook_keys.values()) - len(hook_keys)
                      + sum(handler_keys.values()) - len(handler_keys))
        return Figures(len(accepted), len(stored & accepted), delivered, expected, duplicates,
                       lost, stuck, dict(stream.errors), recovery,
                       {m.name: m.restarts for m in processes.members})


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server)
            return True
    except urllib.error.HTTPError:
        return True  # it answered (503 until everything is up is fine)
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="under a minute, two faults")
    parser.add_argument("--rate", type=float, help="events per second (20; 5 with --short)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="coffeeshop-soak-"))
    _log(f"work directory (logs): {workdir}")
    try:
        figures = Soak(SHORT if args.short else FULL, args.rate, workdir).run()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(figures.line(), flush=True)
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
