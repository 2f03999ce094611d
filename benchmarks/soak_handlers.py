"""What the soak's workers run for its handler target: one line per call, in a file that
outlives Redis and the database (SOAK_HANDLER_LOG), so the soak counts duplicates itself."""

from __future__ import annotations

import os
from typing import Any

from routing.handlers import HandlerContext, register_handler

HANDLER_NAME = "soak.record"


@register_handler(HANDLER_NAME)
def record(payload: Any, context: HandlerContext) -> None:
    line = f"{context.event_id} {context.idempotency_key}\n".encode()
    # One write of a short line to a file opened for appending lands whole, whichever process.
    descriptor = os.open(os.environ["SOAK_HANDLER_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                         0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
