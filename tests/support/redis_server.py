"""A private redis-server for fault tests: SIGKILLed and started again on the same port."""

from __future__ import annotations

import os
import signal

from coffeeshop.embedded_redis import EmbeddedRedis, free_tcp_port


class PrivateRedis:
    """A redis-server that can be SIGKILLed and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.server = EmbeddedRedis(port=self.port).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        assert self.server.pid is not None
        os.kill(self.server.pid, signal.SIGKILL)
        self.server.stop()  # reaps it and removes its directory

    def restart(self) -> None:
        self.server = EmbeddedRedis(port=self.port).start()
