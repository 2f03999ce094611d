"""`make run` as a newcomer uses it: nothing configured; SIGTERM then leaves nothing behind."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from coffeeshop.embedded_redis import free_tcp_port
from coffeeshop.settings.env import BASE_DIR

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_run_serves_a_green_shop_and_stops_every_process(tmp_path: Path) -> None:
    port = free_tcp_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(COFFEESHOP_VAR_DIR=str(tmp_path / "var"), PORT=str(port), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "coffeeshop.run"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        status, body = 0, b""
        while time.monotonic() < deadline and runner.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, f"/healthz never went green:\n{log_path.read_text()[-4000:]}"
        assert json.loads(body) == {
            "database": "ok", "redis": "ok", "worker": "ok", "healthy": True
        }
        home_status, home = _get(f"http://127.0.0.1:{port}/")
        assert home_status == 200
        assert b"coffeeshop" in home
        # Sign-in codes stay on the laptop, readable in the development mailbox.
        mail_status, mailbox = _get(f"http://127.0.0.1:{port}/dev/mail/")
        assert mail_status == 200
        assert b"Development mail" in mailbox
        # /healthz answered 503 while the worker started: a warning, never an ERROR.
        errors = [line for line in log_path.read_text().splitlines()
                  if "ERROR" in line and "healthz" in line]
        assert not errors, "\n".join(errors)

        descendants = psutil.Process(runner.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in descendants)
        assert "redis-server" in names
        assert "uvicorn" in names
        assert "celery" in names
        assert "worker" in names
        assert "beat" in names
        deadline = time.monotonic() + 30
        while "coffeeshop is running." not in log_path.read_text():
            assert time.monotonic() < deadline, "the banner with URLs and logins never printed"
            time.sleep(0.5)
        banner = log_path.read_text()
        assert f"http://127.0.0.1:{port}/" in banner
        assert "admin / coffee-admin" in banner
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            exit_code = runner.wait(60)
        except subprocess.TimeoutExpired:
            runner.kill()
            raise
    assert exit_code == 0
    _, alive = psutil.wait_procs(descendants, timeout=15)
    assert not alive, f"left behind: {[p.cmdline() for p in alive]}"
    assert "Stopped embedded Redis." in log_path.read_text()
