"""`make run`: migrate, load the demo data, and run every process of the shop until stopped.

    python -m coffeeshop.run [--port 8000] [--host 127.0.0.1]

Starts an embedded Redis when REDIS_URL is unset, then the processes of the Procfile (ASGI
server with WEB_CONCURRENCY processes, one per core by default; Celery worker; Celery beat)
under coffeeshop.supervisor, which restarts any that dies (with a back-off, saying so). Ctrl-C or
SIGTERM stops all of them, then Redis; each child is also told by the kernel to stop if this
process is killed outright.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from coffeeshop.embedded_redis import EmbeddedRedis, die_with_parent
from coffeeshop.settings.env import BASE_DIR, VAR_DIR
from coffeeshop.supervisor import Supervisor

ADVERTISED_REDIS_URL_FILE = VAR_DIR / "embedded-redis.url"
READY_TIMEOUT_SECONDS = 120


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True)


def _wait_until_healthy(url: str, stopping: threading.Event, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own URL)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return False


def _banner(base_url: str) -> str:
    import django

    django.setup()
    from coffeeshop.demo import DEMO_LOGINS
    from coffeeshop.urls import public_pages

    width = max(len(title) for title, _ in public_pages())
    lines = ["", "coffeeshop is running.", ""]
    lines += [f"  {title:<{width}}  {base_url}{path}" for title, path in public_pages()]
    lines += ["", "  Demo logins:"]
    lines += [f"    {login.username} / {login.password}  ({login.role})" for login in DEMO_LOGINS]
    lines += ["", "  Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffeeshop.settings.local")
    os.environ["PORT"] = str(args.port)
    os.environ["HOST"] = args.host
    # One web process per core the runner may use (the Procfile's uvicorn reads it).
    os.environ.setdefault("WEB_CONCURRENCY", str(usable_cores()))
    # The Procfile's commands (uvicorn, celery) are this interpreter's neighbours in the venv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    VAR_DIR.mkdir(parents=True, exist_ok=True)

    redis_server: EmbeddedRedis | None = None
    supervisor: Supervisor | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        if supervisor is None:
            raise KeyboardInterrupt
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not os.environ.get("REDIS_URL"):
            redis_server = EmbeddedRedis().start()
            os.environ["REDIS_URL"] = redis_server.url
            ADVERTISED_REDIS_URL_FILE.write_text(redis_server.url + "\n")
            print(f"Started embedded Redis at {redis_server.url}", flush=True)
        _manage("migrate", "--noinput")
        _manage("seed_demo")
        supervisor = Supervisor(BASE_DIR / "Procfile", cwd=BASE_DIR, preexec=die_with_parent)
        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        base_url = f"http://{shown_host}:{args.port}"
        threading.Thread(target=_announce, args=(base_url, supervisor.stopping), daemon=True,
                         name="banner").start()
        supervisor.start()
        supervisor.run()
        return 0
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"Setup step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return exc.returncode or 1
    finally:
        if supervisor is not None and supervisor.running():
            supervisor.stop_all()
        if redis_server is not None:
            redis_server.stop()
            ADVERTISED_REDIS_URL_FILE.unlink(missing_ok=True)
            print("Stopped embedded Redis.", flush=True)


def _announce(base_url: str, stopping: threading.Event) -> None:
    if _wait_until_healthy(f"{base_url}/healthz", stopping, READY_TIMEOUT_SECONDS):
        print(_banner(base_url), flush=True)
    elif not stopping.is_set():
        print(f"Warning: {base_url}/healthz is not green yet; see the logs above.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
