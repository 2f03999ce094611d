"""`make run`'s runner restarts a child that dies (SIGKILL: no cleanup runs), says so, and the
shop is green again without a person; a pure test pins the back-off policy."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from coffeeshop.embedded_redis import free_tcp_port
from coffeeshop.settings.env import BASE_DIR
from coffeeshop.supervisor import RestartPolicy, Supervisor, describe_exit
from tests.support.redis_server import PrivateRedis


def test_back_off_doubles_while_a_child_keeps_dying_and_is_capped() -> None:
    policy = RestartPolicy(initial_seconds=1, factor=2, maximum_seconds=30)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(1) == "exited with code 1"


@pytest.mark.timeout(60)
def test_supervisor_restarts_what_dies_and_stops_everything(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("steady: sleep 300\ncrasher: sh -c 'echo up; exit 3'\n")
    out = tmp_path / "out.log"
    with out.open("w") as stream:
        supervisor = Supervisor(procfile, cwd=tmp_path, out=stream,
                                policy=RestartPolicy(initial_seconds=0.1, maximum_seconds=0.4))
        supervisor.start()
        steady = supervisor.children[0].process
        assert steady is not None
        runner = threading.Thread(target=supervisor.run, kwargs={"tick": 0.05})
        runner.start()
        deadline = time.monotonic() + 30
        while supervisor.children[1].restarts < 4:
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        supervisor.stopping.set()
        runner.join(30)
    text = out.read_text()
    assert "crasher exited with code 3 after 0 s; restarting it in 0.1 s (restart 1)" in text
    assert "restarting it in 0.2 s (restart 2)" in text
    assert "restarting it in 0.4 s (restart 4)" in text  # capped
    assert "crasher | up" in text  # the child's own output, under its name
    assert supervisor.children[0].restarts == 0  # the steady one was left alone
    assert steady.poll() is not None  # and stopped with the rest
    assert not supervisor.running()


def _health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read()))
    except OSError:
        return None


def _wait_for(predicate, what: str, log: Path, timeout: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s:\n"
                         f"{log.read_text(errors='replace')[-5000:]}")


def _started_pid(log: Path, name: str, after: int = 0) -> int | None:
    pids = [int(pid) for pid in re.findall(rf"\| started {name} \(pid (\d+)\)", log.read_text())]
    return pids[after] if len(pids) > after else None


def _start_runner(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_tcp_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(COFFEESHOP_VAR_DIR=str(tmp_path / "var"), PORT=str(port), PYTHONUNBUFFERED="1",
               **extra)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        runner = subprocess.Popen([sys.executable, "-m", "coffeeshop.run"], cwd=BASE_DIR,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    return runner, port, log


def _kill_notice(log: Path, name: str) -> bool:
    return bool(re.search(rf"runner +\| {name} was killed by SIGKILL after \d+ s; restarting it "
                          r"in 1 s \(restart 1\)", log.read_text()))


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_runner_restarts_a_killed_worker_and_web(tmp_path: Path) -> None:
    runner, port, log = _start_runner(tmp_path)
    try:
        _wait_for(lambda: (_health(port) or {}).get("healthy"), "the first green /healthz", log)
        recovery: dict[str, float] = {}
        for name in ("worker", "web"):
            pid = _started_pid(log, name)
            assert pid is not None
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            _wait_for(lambda name=name: _kill_notice(log, name),
                      f"the runner's notice that {name} died", log)
            new_pid = _wait_for(lambda name=name: _started_pid(log, name, after=1),
                                f"a new {name}", log)
            assert new_pid != pid
            assert psutil.pid_exists(new_pid)
            _wait_for(lambda: (_health(port) or {}).get("healthy"),
                      f"a green /healthz after {name} was killed", log)
            recovery[name] = time.monotonic() - killed_at
        print(f"\nfigures: green again {recovery['worker']:.1f} s after the worker's SIGKILL, "
              f"{recovery['web']:.1f} s after the web's")
        # The runner itself killed outright: the kernel stops its children, restarted ones too.
        descendants = psutil.Process(runner.pid).children(recursive=True)
        runner.kill()
        runner.wait(30)
        _, alive = psutil.wait_procs(descendants, timeout=45)
        assert not alive, f"left behind: {[p.cmdline() for p in alive]}"
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(30)


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_worker_killed_while_redis_is_killed_comes_back_by_itself(tmp_path: Path) -> None:
    redis = PrivateRedis()
    runner, port, log = _start_runner(tmp_path, REDIS_URL=redis.url)
    try:
        _wait_for(lambda: (_health(port) or {}).get("healthy"), "the first green /healthz", log)
        worker = _started_pid(log, "worker")
        assert worker is not None
        killed_at = time.monotonic()
        redis.kill()
        os.kill(worker, signal.SIGKILL)
        _wait_for(lambda: _kill_notice(log, "worker"), "the runner's notice", log)
        # The new worker starts while Redis is still down, and waits for it by itself.
        _wait_for(lambda: _started_pid(log, "worker", after=1), "a new worker", log)
        time.sleep(3)
        redis.restart()
        back_at = time.monotonic()
        _wait_for(lambda: (_health(port) or {}).get("healthy"),
                  "a green /healthz with the new worker", log)
        print(f"\nfigures: green {time.monotonic() - killed_at:.1f} s after the kills, "
              f"{time.monotonic() - back_at:.1f} s after Redis was back")
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait(30)
        redis.server.stop()
