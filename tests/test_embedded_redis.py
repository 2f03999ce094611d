import subprocess
import sys
import textwrap
import time

import psutil
import redis

from coffeeshop.embedded_redis import EmbeddedRedis


def is_alive(pid: int) -> bool:
    """A process that has exited but not been reaped yet (a zombie) counts as gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_embedded_redis_is_a_real_server_and_stops_cleanly() -> None:
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "espresso")
        assert client.get("greeting") == b"espresso"
        client.close()
        pid = server.pid
        assert pid is not None
        assert is_alive(pid)
    assert not server.ping()
    assert not is_alive(pid)


def test_embedded_redis_dies_with_a_killed_parent() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from coffeeshop.embedded_redis import EmbeddedRedis
                server = EmbeddedRedis().start()
                print(server.pid, flush=True)
                time.sleep(120)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    redis_pid = int(parent.stdout.readline())
    assert is_alive(redis_pid)
    parent.kill()  # SIGKILL: no cleanup code in the parent runs
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and is_alive(redis_pid):
        time.sleep(0.1)
    assert not is_alive(redis_pid), "redis-server outlived its killed parent"
