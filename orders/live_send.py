"""Live pushes sent from synchronous code (the route worker's handlers) on one event loop kept
for the life of the process.

`async_to_sync(layer.group_send)` starts a new event loop (and a thread) for every call, and
channels_redis keeps its Redis connections per loop, so every push paid for a fresh loop, thread
and connection: 28 to 146 ms per push of three group sends on the busy 2-core machine, against
0.7 to 1.5 ms on a loop that stays (docs/live.md). One daemon thread per process runs that loop; a
forked child (Celery's prefork pool) starts its own, since threads do not survive a fork."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from typing import Any

from channels.layers import get_channel_layer

# Beyond the channel layer's own socket time-outs: a push that cannot leave in this long fails
# its delivery (the bus retries it) rather than holding the route worker.
SEND_TIMEOUT_SECONDS = 10.0


class _KeptLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-send",
                                       daemon=True)
        self.thread.start()


_lock = threading.Lock()
_kept: _KeptLoop | None = None


def _forget_after_fork() -> None:
    global _lock, _kept
    _lock, _kept = threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)


def _loop() -> asyncio.AbstractEventLoop:
    global _kept
    with _lock:
        if _kept is None or not _kept.thread.is_alive():
            _kept = _KeptLoop()
        return _kept.loop


def group_send_all(messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Sends each (group, channel-layer message) in order and waits until all have left;
    raises what the channel layer raised."""
    layer: Any = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured: live pushes cannot be sent.")

    async def send() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    future = asyncio.run_coroutine_threadsafe(send(), _loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise
